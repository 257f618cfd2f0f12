"""Report records (one per candidate, per previous ensemble and per iteration), sinks, and
the materialiser that builds them.

A record is a flat dataclass of plain values so any sink can store it as a table
row: the in-memory sink here, a Delta sink in the results layer. Selected
candidate records carry the weights the search added (safetensors bytes), so a
finished search can be rebuilt from its reports alone (:func:`ensemble.replay`).
"""
from __future__ import annotations

import abc
import json
import math
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping, Optional, Sequence

from adanet_spark.adanet.architecture import build_subnetwork_arch
from adanet_spark.adanet.budget import TrainBudget

CANDIDATE = "candidate"
PREVIOUS = "previous"
ITERATION = "iteration"

NAN = math.nan


@dataclass
class ReportRecord:
    kind: str  # CANDIDATE | PREVIOUS | ITERATION
    iteration: int
    candidate: str  # candidate name; "previous" for the incumbent; the winner for ITERATION
    status: str  # completed | dropped_straggler | failed
    selected: bool
    architecture_json: str  # SubnetworkArch (candidates) or EnsembleArch (previous, iteration)
    hyperparameters_json: str = "{}"
    train_loss: float = NAN
    train_auc: float = NAN
    train_objective: float = NAN
    valid_loss: float = NAN
    valid_auc: float = NAN
    valid_objective: float = NAN
    complexity: float = NAN
    n_subnetworks: int = 0  # ensemble size with this candidate
    train_seconds: float = NAN
    attempts: int = 0
    worker: str = ""
    error: Optional[str] = None
    seed: Optional[int] = None
    weights: Optional[bytes] = None  # selected candidates: see Ensemble.last_step_bytes
    created_at: float = field(default_factory=time.time)

    def to_dict(self) -> dict:
        return asdict(self)


class ReportSink(abc.ABC):
    """Where report records go; called once per iteration with that iteration's records."""

    @abc.abstractmethod
    def write(self, records: Sequence[ReportRecord]) -> None:
        ...


class InMemorySink(ReportSink):
    def __init__(self) -> None:
        self.records: list[ReportRecord] = []
        self._lock = threading.Lock()

    def write(self, records: Sequence[ReportRecord]) -> None:
        with self._lock:
            self.records.extend(records)


class ReportMaterializer:
    """Turns one iteration's outcomes into report records (tensorflow/adanet's
    ReportMaterializer): one per candidate, one for the incumbent before the
    iteration (``previous``) and one for the ensemble after it (``iteration``).
    ``budget`` (a dict of the training budget) is recorded with every candidate."""

    def __init__(self, budget: dict):
        self.budget = budget

    def records(self, iteration: int, specs: Sequence[Any], tasks: Sequence[Any], outcomes: Sequence[Any],
                results: Mapping[str, Any], before: Any, after: Any, winner: Optional[str],
                seconds: float) -> list[ReportRecord]:
        by_name = {s.name: s for s in specs}
        seeds = {t.name: t.payload["seed"] for t in tasks}
        out = [self.candidate(o, by_name[o.task.name], before.ensemble, results.get(o.task.name),
                              o.task.name == winner, seeds[o.task.name]) for o in outcomes]
        out.append(ensemble_record(PREVIOUS, iteration, "previous", before, winner is None, 0.0))
        out.append(ensemble_record(ITERATION, iteration, winner or "previous", after, True, seconds))
        return out

    def candidate(self, outcome: Any, spec: Any, previous: Any, result: Any, selected: bool,
                  seed: int) -> ReportRecord:
        arch = build_subnetwork_arch(spec, previous.architecture)
        # The candidate's effective settings: the search's budget as this candidate got it.
        hyper = TrainBudget.from_dict(self.budget).for_candidate(spec).to_dict()
        hyper.update({k: v for k, v in spec.to_dict().items() if k != "inputs" and v is not None}, seed=seed)
        if result is not None:  # where early stopping found its best: the generator reads it
            hyper.update(steps_run=result.steps_run, best_step=result.best_step, total_steps=result.total_steps)
        rec = ReportRecord(kind=CANDIDATE, iteration=outcome.task.iteration, candidate=spec.name,
                           status=outcome.status, selected=selected, architecture_json=arch.to_json(),
                           hyperparameters_json=json.dumps(hyper, sort_keys=True),
                           n_subnetworks=len(previous) + 1, train_seconds=outcome.elapsed_s,
                           attempts=outcome.attempts, worker=str(outcome.worker), error=outcome.error, seed=seed)
        if result is not None:
            fill_metrics(rec, result.train, result.valid)
            rec.complexity = result.complexity
            if selected:
                rec.weights = result.ensemble().last_step_bytes()
        return rec


def fill_metrics(rec: ReportRecord, train: Optional[dict], valid: Optional[dict]) -> None:
    if train:
        rec.train_loss, rec.train_auc, rec.train_objective = train["loss"], train["auc"], train["objective"]
    if valid:
        rec.valid_loss, rec.valid_auc, rec.valid_objective = valid["loss"], valid["auc"], valid["objective"]


def ensemble_record(kind: str, iteration: int, name: str, standing: Any, selected: bool,
                    seconds: float) -> ReportRecord:
    """A record of an ensemble (a :class:`~adanet_spark.adanet.strategy.Standing`)."""
    rec = ReportRecord(kind=kind, iteration=iteration, candidate=name,
                       status="completed" if standing.valid else "unknown", selected=selected,
                       architecture_json=standing.ensemble.architecture.to_json(),
                       n_subnetworks=len(standing.ensemble), train_seconds=seconds)
    fill_metrics(rec, standing.train, standing.valid)
    return rec
