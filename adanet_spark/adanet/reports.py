"""Report records (one per candidate, per previous ensemble and per iteration) and sinks.

A record is a flat dataclass of plain values so any sink can store it as a table
row: the in-memory sink here, a Delta sink in the results layer. Selected
candidate records carry the weights the search added (safetensors bytes), so a
finished search can be rebuilt from its reports alone (:func:`ensemble.replay`).
"""
from __future__ import annotations

import abc
import math
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Optional, Sequence

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
