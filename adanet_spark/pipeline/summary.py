"""The run summary the tune and nightly jobs print when a run succeeds."""
from __future__ import annotations

from adanet_spark.pipeline.tune import TuneOutcome
from adanet_spark.results.report import fmt_number


def run_summary(outcome: TuneOutcome) -> str:
    """Two lines: the final ensemble with its AUCs, and the model URI to score with."""
    return (f"run {outcome.run_id}: final ensemble of iteration {outcome.final_iteration} "
            f"({outcome.n_subnetworks} subnetworks), valid AUC {fmt_number(outcome.valid_auc)}, "
            f"test AUC {fmt_number(outcome.test_auc)}\n"
            f"model: {outcome.model_uri}")


def print_summary(outcome: TuneOutcome) -> None:
    print(run_summary(outcome))
