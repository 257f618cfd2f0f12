"""The search's report records as rows of the ``candidates`` and ``ensembles`` tables.

The AdaNet core reports in its own terms (:class:`~adanet_spark.adanet.reports.ReportRecord`,
NaN for a metric it could not compute); the tables want their column names and NULL
for a missing metric, so that SQL aggregates skip it instead of returning NaN.
"""
from __future__ import annotations

from typing import Any, Mapping

from adanet_spark.results.models import num_parameters
from adanet_spark.results.tables import nan_to_none


def candidate_row(record: Any, timings: Mapping[str, float]) -> dict:
    """One ``candidates`` row from a CANDIDATE record and its worker's timings
    (``total_s``/``loop_s``; empty when the candidate never completed)."""
    total, loop = timings.get("total_s"), timings.get("loop_s")
    # What the worker spent outside the training loop: loading, evaluation, mixture refit.
    eval_s = max(0.0, total - loop) if total is not None and loop is not None else None
    return {"candidate": record.candidate, "architecture": record.architecture_json,
            "hyperparameters": record.hyperparameters_json, "status": record.status, "error": record.error,
            "attempts": int(record.attempts), "worker": record.worker,
            "train_seconds": nan_to_none(record.train_seconds), "eval_seconds": eval_s,
            "loss": nan_to_none(record.valid_loss), "valid_auc": nan_to_none(record.valid_auc),
            "train_auc": nan_to_none(record.train_auc), "complexity": nan_to_none(record.complexity),
            "objective": nan_to_none(record.valid_objective), "selected": bool(record.selected)}


def ensemble_row(record: Any, ensemble: Any, winner: str, uri: str) -> dict:
    """The ``ensembles`` row of an iteration from its ITERATION record and the ensemble
    after it, saved under ``uri``; ``is_final`` and ``test_auc`` are set when the run ends."""
    return {"selected_candidate": winner, "n_subnetworks": len(ensemble),
            "subnetworks": ensemble.architecture.to_json(),
            "mixture_weights": [float(w) for w in ensemble.mixture.detach().tolist()],
            "bias": float(ensemble.bias.detach()), "model_uri": uri,
            "valid_loss": nan_to_none(record.valid_loss), "valid_auc": nan_to_none(record.valid_auc),
            "valid_objective": nan_to_none(record.valid_objective), "test_auc": None,
            "num_parameters": num_parameters(ensemble), "train_seconds": nan_to_none(record.train_seconds),
            "is_final": False}
