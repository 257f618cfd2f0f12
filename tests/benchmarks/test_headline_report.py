"""The headline record: per-dataset summary (the JSON keys other issues read), Markdown, plot."""
import os
import sys
from types import SimpleNamespace

import pytest

from adanet_spark.config import load_config
from adanet_spark.paths import REPO_ROOT

sys.path.insert(0, os.path.join(REPO_ROOT, "benchmarks"))
import headline_report  # noqa: E402


def run(test_auc, train_s, **extra):
    return {"test_auc": test_auc, "train_s": train_s, "eval_s": 0.5, "valid_auc": test_auc + 0.01, "trials": 4,
            "test_rows": 100, "notes": "n", **extra}


def ada(test_auc, train_s, subnetworks, first, dropped):
    return run(test_auc, train_s, subnetworks=subnetworks, iterations=subnetworks + 1,
               first_subnetwork_test_auc=first, dropped_stragglers=dropped)


@pytest.fixture
def entry():
    spec = SimpleNamespace(split={"kind": "time", "column": "day", "train_last": "2024-01-24"})
    table = SimpleNamespace(spec=spec, name="adanet.features_headline_x", counts={"train": 8, "valid": 1, "test": 1})
    per_seed = {"adanet": [ada(0.70, 10.0, 2, 0.66, 1), ada(0.72, 30.0, 3, 0.68, 0)],
                "random_search_nn": [run(0.705, 60.0), run(0.705, 100.0)]}
    run_info = {"adanet_overrides": {}, "suite_overrides": ["a=b"], "quick": False, "sample_every": 1,
                "wall_s": 300.0, "when": "2026-11-27 12:00"}
    return headline_report.summarise_dataset("x", table, load_config(None, []), per_seed, [1, 2],
                                             {"learning_rate": (0.1,)}, run_info)


def test_dataset_entry_holds_what_the_record_promises(entry):
    assert entry["split"] == {"kind": "time", "column": "day"} and entry["rows"] == 10
    assert entry["adanet_overrides"] == {}
    a, r = entry["models"]["adanet"], entry["models"]["random_search_nn"]
    for s in (a, r):
        assert {"test_auc_mean", "test_auc_std", "train_s_mean", "trials", "seeds"} <= set(s)
    assert a["test_auc_mean"] == pytest.approx(0.71) and a["test_auc_std"] == pytest.approx(0.01414, abs=1e-4)
    assert a["subnetworks"] == [2, 3] and a["subnetworks_mean"] == 2.5
    assert a["first_subnetwork_test_auc_mean"] == pytest.approx(0.67) and a["dropped_stragglers"] == 1
    assert entry["time_ratios"] == {"random_search_nn": pytest.approx(4.0)}  # 80 s / 20 s
    assert entry["settings"]["baselines"]["random_and_tpe_trials"] == 20
    assert entry["settings"]["hist_gradient_boosting"] == {"learning_rate": [0.1]}


def test_markdown_and_plot(entry, tmp_path):
    record = {"datasets": {"x": entry}}
    text = headline_report.markdown(record)
    assert "### x" in text and "time-ordered by `day`" in text
    lines = [l for l in text.splitlines() if l.startswith("| ")]
    assert lines[1].startswith("| AdaNet (library defaults) | 0.7100 ± 0.0141 | 0.7200 | 20.0 s | 1 |")
    assert lines[2].startswith("| Random search NN | 0.7050 ± 0.0000") and "| 4.00 |" in lines[2]  # by test AUC
    assert "first subnetwork alone scores 0.6700" in text and "A --quick run" not in text
    assert "A --quick run" in headline_report.markdown(record, quick=True)
    path = str(tmp_path / "h.png")
    headline_report.plot(record, path)
    assert os.path.getsize(path) > 10_000
