"""Loading: YAML 1.2 files, --set overrides, run defaults, one-line errors naming the key."""
import json
import os
import re
import subprocess
import sys

import pytest

from adanet_spark.config import load_config, parse_override
from adanet_spark.errors import BadInputError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def write(tmp_path, text, name="mydata.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_defaults_and_dataset_from_file_name(tmp_path):
    cfg = load_config(write(tmp_path, "input:\n  path: x.csv\n  label: y\n"))
    assert cfg.dataset == "mydata"
    assert cfg.feature_table == "adanet.features_mydata"
    assert cfg.output.database == "adanet" and cfg.training.backend == "horovod"
    assert cfg.run.id and cfg.run.date


def test_overrides_are_typed(tmp_path):
    cfg = load_config(write(tmp_path, "{}"), ["adanet.max_iterations=3", "features.exclude=[a, b]",
                                              "run.date=2026-01-02", "adanet.lambda=0.01",
                                              "input.positive=yes"])
    assert cfg.adanet.max_iterations == 3
    assert cfg.features.exclude == ["a", "b"]
    assert cfg.run.date == "2026-01-02"
    assert cfg.adanet.lambda_ == 0.01
    assert cfg.to_dict()["adanet"]["lambda"] == 0.01


@pytest.mark.parametrize("text,key", [
    ("input:\n  pathh: x\n", "input.pathh"),
    ("bogus: 1\n", "bogus"),
    ("adanet:\n  max_iterations: three\n", "adanet.max_iterations"),
    ("features:\n  numeric: age\n", "features.numeric"),
    ("training:\n  backend: mpi\n", "training.backend"),
    ("input:\n  format: xlsx\n", "input.format"),
    ("adanet:\n  lambda: -1\n", "adanet.lambda"),
    ("adanet:\n  max_depth: 0\n", "adanet.max_depth"),
    ("adanet:\n  widths: []\n", "adanet.widths"),
    ("testing:\n  faults: [{candidate: a, slow_factor: 4}]\n", "testing.faults"),
    ("baselines:\n  models: [lightgbm]\n", "baselines.models[0]"),
    ("features:\n  train_fraction: 0.5\n", "features.train_fraction"),
])
def test_bad_config_names_the_key(tmp_path, text, key):
    with pytest.raises(BadInputError, match=key.replace("[", r"\[").replace("]", r"\]")):
        load_config(write(tmp_path, text))


def test_bad_override_names_the_key(tmp_path):
    with pytest.raises(BadInputError, match="training.workers"):
        load_config(write(tmp_path, "{}"), ["training.workers=many"])
    with pytest.raises(BadInputError, match="key=value"):
        parse_override("novalue")


def test_missing_config_file():
    with pytest.raises(BadInputError, match="not found"):
        load_config("/nonexistent/conf.yaml")

def test_yaml_yes_and_no_stay_strings(tmp_path):
    cfg = load_config(write(tmp_path, "input:\n  positive: yes\n  label: no\n"))
    assert cfg.input.positive == "yes" and cfg.input.label == "no"
    with pytest.raises(BadInputError, match="'testing.enabled' must be true or false"):
        load_config(write(tmp_path, "testing:\n  enabled: yes\n"))


def test_yaml_dates_in_files_and_overrides_stay_strings(tmp_path):
    cfg = load_config(write(tmp_path, "run:\n  date: 2026-01-02\n  id: 20260102\n"))
    assert cfg.run.date == "2026-01-02" and cfg.run.id == "20260102"
    assert parse_override("run.date=2026-03-04") == ("run.date", "2026-03-04")
    assert parse_override("features.exclude=[a, b]") == ("features.exclude", ["a", "b"])
    assert parse_override("input.filter=") == ("input.filter", None)


def test_run_defaults_are_generated():
    cfg = load_config()
    assert cfg.dataset == "default"
    assert re.fullmatch(r"\d{8}T\d{6}-[0-9a-f]{6}", cfg.run.id)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", cfg.run.date)
    assert load_config(dataset="given").dataset == "given"
    assert load_config(overrides=["dataset=set_here"], dataset="given").dataset == "set_here"


def test_dataset_must_be_a_table_name(tmp_path):
    with pytest.raises(BadInputError, match="'dataset' must be letters, digits and underscores"):
        load_config(write(tmp_path, "{}", "my-data.yaml"))


@pytest.mark.parametrize("text,message", [
    ("input: [\n", "not valid YAML"),
    ("- a\n- b\n", "mapping at top level"),
])
def test_bad_file_is_bad_input(tmp_path, text, message):
    with pytest.raises(BadInputError, match=message):
        load_config(write(tmp_path, text))


def test_override_into_a_value_is_bad_input():
    with pytest.raises(BadInputError, match="'dataset' is not a section"):
        load_config(overrides=["dataset=x", "dataset.sub=1"])
    with pytest.raises(BadInputError, match="not valid YAML"):
        parse_override("features.exclude=[a")


@pytest.mark.parametrize("override,line", [
    ("input.pathh=x", "unknown config key 'input.pathh' (known here: filter, format, label, "
                      "max_invalid_fraction, max_null_label_fraction, options, path, positive)"),
    ("adanet.widths=[8, 0]", "config key 'adanet.widths[1]' must be >= 1, got 0"),
    ("adanet.max_iterations=three", "config key 'adanet.max_iterations' must be an integer, got 'three'"),
    ("adanet.epochs=", "config key 'adanet.epochs' must not be null"),
    ("input=3", "config key 'input' must be a mapping, got 3"),
    ("testing={enabled: true, faults: [{cand: x}]}", "unknown config key 'testing.faults[0].cand' "
                                                     "(known here: candidate, fail, iteration, slow_factor, worker)"),
])
def test_error_is_one_line_naming_the_dotted_key(override, line):
    with pytest.raises(BadInputError) as info:
        load_config(overrides=[override])
    assert str(info.value) == line


def test_several_errors_report_the_first_and_count_the_rest():
    with pytest.raises(BadInputError) as info:
        load_config(overrides=["adanet.max_depth=0", "adanet.batch_size=0"])
    assert str(info.value) == "config key 'adanet.max_depth' must be >= 1, got 0 (and 1 more errors)"
    assert "\n" not in str(info.value)


def test_unknown_key_lists_yaml_names():
    with pytest.raises(BadInputError, match=r"known here: .*\blambda\b") as info:
        load_config(overrides=["adanet.lambdaa=1"])
    assert "lambda_" not in str(info.value)


@pytest.mark.parametrize("name", sorted(f for f in os.listdir(os.path.join(ROOT, "conf")) if f.endswith(".yaml")))
def test_shipped_conf_files_load(name):
    cfg = load_config(os.path.join(ROOT, "conf", name))
    assert cfg.dataset == name[:-len(".yaml")]
    assert json.loads(cfg.to_json())["dataset"] == cfg.dataset


def test_load_config_does_not_import_torch_or_pyspark():
    code = ("import sys; from adanet_spark.config import load_config; "
            "cfg = load_config('conf/default.yaml', ['adanet.generator=simple']); "
            "assert 'torch' not in sys.modules, 'torch imported'; "
            "assert 'pyspark' not in sys.modules, 'pyspark imported'; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


# Every section's bad values, in one table: the loader is what turns each into a line naming its key.
@pytest.mark.parametrize("override,key", [
    ("adanet.lambda=-0.1", "adanet.lambda"),
    ("adanet.beta=-1", "adanet.beta"),
    ("adanet.max_iterations=0", "adanet.max_iterations"),
    ("adanet.max_depth=0", "adanet.max_depth"),
    ("adanet.widths=[]", "adanet.widths"),
    ("adanet.widths=[0]", "adanet.widths[0]"),
    ("adanet.widths=8", "adanet.widths"),
    ("adanet.learning_rates=[]", "adanet.learning_rates"),
    ("adanet.learning_rates=[0.1, 0]", "adanet.learning_rates[1]"),
    ("adanet.candidates_per_iteration=0", "adanet.candidates_per_iteration"),
    ("adanet.dropout=1.0", "adanet.dropout"),
    ("adanet.epochs=0", "adanet.epochs"),
    ("adanet.batch_size=0", "adanet.batch_size"),
    ("adanet.embedding_dim_cap=0", "adanet.embedding_dim_cap"),
    ("adanet.patience=-1", "adanet.patience"),
    ("adanet.weight_decay=-1", "adanet.weight_decay"),
    ("adanet.mixture_epochs=-1", "adanet.mixture_epochs"),
    ("adanet.mixture_learning_rate=0", "adanet.mixture_learning_rate"),
    ("adanet.min_improvement=-1", "adanet.min_improvement"),
    ("adanet.connections=yes", "adanet.connections"),
    ("adanet.activation=sigmoid", "adanet.activation"),
    ("adanet.complexity=l2", "adanet.complexity"),
    ("adanet.generator=no-such-generator", "adanet.generator"),
    ("adanet.warm_start=yesterday", "adanet.warm_start"),
    ("input.positive=true", "input.positive"),
    ("input.positive=[1]", "input.positive"),
    ("input.format=xlsx", "input.format"),
    ("input.options=[a]", "input.options"),
    ("input.max_null_label_fraction=1.5", "input.max_null_label_fraction"),
    ("input.max_null_label_fraction=x", "input.max_null_label_fraction"),
    ("features.numeric=age", "features.numeric"),
    ("features.exclude=", "features.exclude"),
    ("features.top_k=0", "features.top_k"),
    ("features.top_k=1.5", "features.top_k"),
    ("features.valid_fraction=0", "features.valid_fraction"),
    ("features.test_fraction=1", "features.test_fraction"),
    ("features.train_fraction=0.5", "features.train_fraction"),
    ("output.database=[a]", "output.database"),
    ("run.seed=x", "run.seed"),
    ("training.backend=mpi", "training.backend"),
    ("training.mode=eventually", "training.mode"),
    ("training.workers=0", "training.workers"),
    ("training.workers=many", "training.workers"),
    ("training.group_size=0", "training.group_size"),
    ("straggler.quorum=0", "straggler.quorum"),
    ("straggler.quorum=1.5", "straggler.quorum"),
    ("straggler.deadline_factor=0.5", "straggler.deadline_factor"),
    ("straggler.max_retries=-1", "straggler.max_retries"),
    ("testing.faults={candidate: x}", "testing.faults"),
    ("testing={enabled: true, faults: [{fail: boom}]}", "testing.faults[0].fail"),
    ("testing={enabled: true, faults: [{slow_factor: 0.5}]}", "testing.faults[0].slow_factor"),
    ("testing={enabled: true, faults: [{iteration: first}]}", "testing.faults[0].iteration"),
    ("testing={enabled: true, faults: [{worker: 1.5}]}", "testing.faults[0].worker"),
])
def test_bad_value_names_the_key(names_key, override, key):
    with names_key(key):
        load_config(overrides=[override])


def test_exponent_floats_are_numbers_as_in_yaml_1_2():
    assert load_config(overrides=["adanet.weight_decay=1e-5"]).adanet.weight_decay == 1e-5
    assert load_config(overrides=["adanet.weight_decay=2.5E-3"]).adanet.weight_decay == 2.5e-3
    assert load_config(overrides=["input.positive=1e5x"]).input.positive == "1e5x"
