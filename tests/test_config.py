import pytest

from adanet_spark.config import load_config, parse_override
from adanet_spark.errors import BadInputError


def write(tmp_path, text):
    path = tmp_path / "mydata.yaml"
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
    ("baselines:\n  models: [xgboost]\n", "baselines.models[0]"),
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
