"""benchmarks/headline.py: the suite's datasets and configs, and a partial run merged into the record."""
import json
import os
import sys

from adanet_spark.paths import REPO_ROOT

sys.path.insert(0, os.path.join(REPO_ROOT, "benchmarks"))
import headline  # noqa: E402


def test_suite_datasets_use_data_only_confs_and_the_library_s_adanet_defaults():
    from adanet_spark.config import AdaNetConfig
    for name in headline.DATASETS:
        assert headline.conf_adanet_keys(name) == {}
        cfg, sets = headline.dataset_config(name, quick=False, overrides=[])
        assert cfg.dataset == f"headline_{name}"
        assert cfg.adanet == AdaNetConfig()  # the full run sets no adanet.* key
        assert not any(s.startswith("adanet.") for s in sets)
        assert cfg.training.backend == "spark" and cfg.training.workers == 2
    flights, _ = headline.dataset_config("flights", quick=False, overrides=[])
    assert flights.features.split_by == "flight_date"
    assert flights.input.filter == "(arr_delay IS NOT NULL) AND pmod(xxhash64(*), 3) = 0"
    quick, _ = headline.dataset_config("bio", quick=True, overrides=["baselines.random_trials=3"])
    assert quick.dataset == "headline_bio_quick" and quick.baselines.random_trials == 3
    assert quick.features.split_key == "BLOCK_ID"


def test_a_partial_run_replaces_only_its_datasets(tmp_path):
    path = str(tmp_path / "headline.json")
    headline.write_json(path, {"datasets": {"adult": {"rows": 1}, "bio": {"rows": 2}}})
    record = headline.merged(path, {"flights": {"rows": 3}, "bio": {"rows": 4}})
    assert record == {"datasets": {"flights": {"rows": 3}, "adult": {"rows": 1}, "bio": {"rows": 4}}}
    assert list(record["datasets"]) == ["flights", "adult", "bio"]  # the suite's order
    with open(path, "w") as fh:
        json.dump({"flights": {"train_s": 1}}, fh)  # the superseded layout is started over
    assert headline.merged(path, {"adult": {"rows": 1}}) == {"datasets": {"adult": {"rows": 1}}}


def test_unknown_dataset_exits_2_before_spark_starts(capsys):
    assert headline.main(["--datasets", "nosuch", "--quick"]) == 2
    assert "no conf/<name>.yaml for nosuch" in capsys.readouterr().err
