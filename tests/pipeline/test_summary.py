"""The run summary that jobs/tune.py and jobs/nightly.py print."""
import math

from adanet_spark.pipeline.summary import print_summary, run_summary
from adanet_spark.pipeline.tune import TuneOutcome


def outcome(valid_auc=0.71234, test_auc=0.7):
    return TuneOutcome("r1", 2, "/wh/adanet.db/_models/w/r1/iter-2", 3, valid_auc, test_auc, 12.0, 1.5)


def test_two_lines_final_ensemble_then_model():
    assert run_summary(outcome()).splitlines() == [
        "run r1: final ensemble of iteration 2 (3 subnetworks), valid AUC 0.7123, test AUC 0.7000",
        "model: /wh/adanet.db/_models/w/r1/iter-2"]


def test_missing_aucs_print_as_na(capsys):
    print_summary(outcome(valid_auc=None, test_auc=math.nan))
    first = capsys.readouterr().out.splitlines()[0]
    assert first.endswith("valid AUC n/a, test AUC n/a")
