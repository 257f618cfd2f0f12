"""The contracts between the algorithm and whatever runs it.

The search calls an :class:`Executor` with :class:`CandidateTask`\\ s and a
``train_fn(payload, data, ctx)``; the executor runs the function somewhere (this
process, a Spark task, a Horovod group) and yields a :class:`TaskOutcome` per
task as it ends. ``data`` maps split names to :class:`Split`\\ s (``load()``
returns :class:`SplitData`: tensors in memory) or, for splits too big for a
worker's memory, :class:`BatchStream`\\ s; either is read on the process that
trains, so training data never has to pass through the driver.

Everything here is plain Python: executors in other layers implement these
contracts without the algorithm importing them.
"""
from __future__ import annotations

import abc
import logging
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping, Optional, Protocol, Sequence, runtime_checkable

from adanet_spark.adanet.plain import Plain

log = logging.getLogger(__name__)

COMPLETED = "completed"
DROPPED = "dropped_straggler"
FAILED = "failed"
PRUNED = "pruned"  # stopped for a validation loss clearly worse than the others' at equal progress
STATUSES = (COMPLETED, DROPPED, FAILED, PRUNED)


@runtime_checkable
class SplitData(Protocol):
    """One split in memory: ``numeric`` float32 [N, n_num], ``categorical`` int64 [N, n_cat],
    ``label`` float32 [N]."""

    numeric: Any
    categorical: Any
    label: Any

    def __len__(self) -> int: ...

    def shard(self, rank: int, size: int) -> "SplitData":
        """The rows data-parallel rank ``rank`` of ``size`` trains on."""


@runtime_checkable
class Split(Protocol):
    """A reference to one split that the training process loads itself."""

    def load(self) -> SplitData: ...


@runtime_checkable
class BatchStream(Protocol):
    """A split read as a stream of batches, for data larger than a worker's memory.

    ``batches`` yields the rows of data-parallel rank ``rank`` of ``size`` (ranks get
    disjoint parts of the split) as :class:`SplitData` of ``batch_size`` rows (the
    last one may be shorter). With ``shuffle`` the order changes every ``epoch``,
    seeded by ``seed``; without it, rows come in storage order, so a stream and the
    same split loaded in memory give the same batches.
    """

    def num_rows(self, rank: int = 0, size: int = 1) -> int: ...

    def batches(self, batch_size: int, *, seed: int = 0, epoch: int = 0, rank: int = 0, size: int = 1,
                shuffle: bool = True) -> Iterator[SplitData]: ...


@dataclass
class CandidateTask:
    """One unit of work: a candidate of an iteration (or a baseline trial)."""

    iteration: int
    name: str
    payload: dict  # plain values only: what train_fn needs besides the data
    # Relative compute of this task (e.g. multiply-adds per row). Straggler deadlines
    # scale with it, so a candidate that is merely bigger is not mistaken for a slow one.
    cost: float = 1.0


@dataclass
class TrainContext:
    """What a running ``train_fn`` may know of and tell its executor.

    ``rank``/``size`` describe the data-parallel group training this candidate
    (size 1: purely candidate-parallel). ``allreduce_`` averages a tensor in place
    across the group (None when size is 1); given a list of tensors, it averages
    them all in one grouped operation. ``report_progress(fraction, valid_loss=None)``
    takes the fraction of the step budget done (and, at a validation check, the
    validation loss then), so a straggler policy can project the finish time and
    compare candidates at equal progress. ``should_stop``
    turns true when the executor has given up on the candidate (cooperative
    cancel). ``slow_factor`` > 1 stretches each step (fault injection, tests only).
    """

    rank: int = 0
    size: int = 1
    allreduce_: Optional[Callable[[Any], None]] = None
    report_progress: Callable[..., None] = lambda fraction, valid_loss=None: None
    should_stop: Callable[[], bool] = lambda: False
    slow_factor: float = 1.0


TrainFn = Callable[[dict, Mapping[str, Any], TrainContext], Any]


@dataclass
class TaskOutcome:
    task: CandidateTask
    status: str  # COMPLETED | DROPPED | FAILED | PRUNED
    result: Any = None  # train_fn's return value when COMPLETED
    error: Optional[str] = None
    attempts: int = 1
    worker: str = "driver"
    elapsed_s: float = 0.0
    extra: dict = field(default_factory=dict)


class Executor(abc.ABC):
    """Runs ``train_fn(task.payload, data, ctx)`` for every task of one iteration.

    Outcomes are yielded as soon as each task completes, fails for good or is
    dropped, in that order of events.
    """

    @abc.abstractmethod
    def run(self, tasks: Sequence[CandidateTask], train_fn: TrainFn,
            data: Mapping[str, Any]) -> Iterator[TaskOutcome]:
        ...

    def close(self) -> None:
        """Release workers; the executor is not used after this."""

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class InProcessExecutor(Executor):
    """The simplest executor: every task in this process, one after another, no retries.

    What a search uses when it is given none (notebooks, tests). The execution
    layer's executors add retries, straggler dropping and distribution.
    """

    def run(self, tasks: Sequence[CandidateTask], train_fn: TrainFn,
            data: Mapping[str, Any]) -> Iterator[TaskOutcome]:
        for task in tasks:
            start = time.perf_counter()
            try:
                result = train_fn(task.payload, data, TrainContext())
            except Exception as exc:  # one failed candidate must not fail the search
                log.warning("candidate %s failed: %s\n%s", task.name, exc, traceback.format_exc(limit=3))
                yield TaskOutcome(task, FAILED, error=f"{type(exc).__name__}: {exc}",
                                  elapsed_s=time.perf_counter() - start)
                continue
            yield TaskOutcome(task, COMPLETED, result=result, elapsed_s=time.perf_counter() - start)


@dataclass
class CandidateResult(Plain):
    """What a worker returns for one candidate. All values are plain or numpy.

    ``train``/``valid``/``previous_*`` hold ``{"loss", "auc", "objective"}`` of
    ensemble + candidate and of the frozen previous ensemble. With a data-parallel
    group, train losses are averaged over ranks and train AUC is this rank's shard.
    """

    name: str
    iteration: int
    seed: int
    spec: dict
    architecture_json: str  # the candidate's SubnetworkArch
    ensemble_architecture_json: str  # previous ensemble + candidate
    ensemble_weights: dict
    train: dict
    valid: dict
    previous_train: dict
    previous_valid: dict
    previous_bias: float
    complexity: float
    complexities: list
    mixture: list
    epochs_run: float  # passes over the training rows
    best_epoch: float  # the pass at which the best (restored) state was checked
    refit_accepted: bool
    train_seconds: float
    rows_per_s: float
    n_train: int
    rank: int = 0
    size: int = 1
    steps_run: int = 0
    best_step: int = 0  # early stopping restored the state of this step
    total_steps: int = 0  # the step budget
    checks: list = field(default_factory=list)  # [step, validation loss] of every check
    timings: dict = field(default_factory=dict)  # seconds: data, forward_backward, optimizer, validation, ...

    def ensemble(self):
        from adanet_spark.adanet.ensemble import Ensemble  # torch: only when a result is used
        return Ensemble.from_parts(self.ensemble_architecture_json, self.ensemble_weights)

    @classmethod
    def of(cls, value: Any) -> "CandidateResult":
        """A result as returned by a worker: the dataclass itself or its dict."""
        return value if isinstance(value, cls) else cls.from_dict(value)
