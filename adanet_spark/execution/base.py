"""The Executor interface: train the candidates of one iteration, report each as it ends.

Backends (local, spark, horovod) differ only in *where* ``train_fn`` runs; they all
call the same function with the same plain, picklable arguments.
"""
from __future__ import annotations

import abc
import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping, Optional, Sequence

log = logging.getLogger(__name__)

COMPLETED = "completed"
DROPPED = "dropped_straggler"
FAILED = "failed"


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
    them all in one grouped operation (much cheaper than one call per parameter).
    ``report_progress`` takes the fraction done, so a straggler policy can project
    the finish time. ``should_stop`` turns
    true when the executor has given up on the candidate (cooperative cancel).
    ``slow_factor`` > 1 stretches each step (fault injection, testing only).
    """

    rank: int = 0
    size: int = 1
    allreduce_: Optional[Callable[[Any], None]] = None
    report_progress: Callable[[float], None] = lambda fraction: None
    should_stop: Callable[[], bool] = lambda: False
    slow_factor: float = 1.0
    commit: Callable[[], None] = lambda: None


TrainFn = Callable[[dict, Mapping[str, Any], TrainContext], Any]


@dataclass
class TaskOutcome:
    task: CandidateTask
    status: str  # COMPLETED | DROPPED | FAILED
    result: Any = None  # train_fn's return value when COMPLETED
    error: Optional[str] = None
    attempts: int = 1
    worker: str = "driver"
    elapsed_s: float = 0.0
    extra: dict = field(default_factory=dict)


class Executor(abc.ABC):
    """Runs ``train_fn(task.payload, data, ctx)`` for every task of one iteration.

    ``data`` maps split names to objects with a ``load()`` method (TensorData in
    memory, or a ParquetSplit read on the worker). Outcomes are yielded as soon as
    each task completes, fails for good or is dropped, in that order of events.
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


# --------------------------------------------------------------------------- shared machinery
# Added for the asynchronous backends; the interface above is unchanged.

def run_attempt(train_fn: TrainFn, payload: dict, data: Mapping[str, Any], ctx: TrainContext,
                task: CandidateTask, attempt: int, worker: Optional[int], faults: Any = None,
                in_process: bool = False, threads: Optional[int] = None,
                group_workers: Optional[Sequence[int]] = None) -> Any:
    """Worker side of one attempt, the same on every backend: threads, faults, ``train_fn``."""
    if threads:
        import torch
        torch.set_num_threads(int(threads))
    if faults:
        from adanet_spark.execution.faults import apply_faults
        ctx = apply_faults(faults, task, attempt, worker, ctx, in_process=in_process,
                           group_workers=group_workers)
    return train_fn(payload, data, ctx)


def format_error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


class SlotBackend(abc.ABC):
    """What :func:`drive` needs from an asynchronous backend.

    The backend runs attempts on its slots (Spark executor slots, Horovod
    worker groups) and reports what happens through ``events``, a queue of
    ``(kind, attempt_key, info)`` tuples, kind one of ``started`` (info:
    worker), ``progress`` (fraction), ``done`` (result, worker, extra),
    ``error`` (error, worker, charge) or ``cancelled``. A slot is free again
    once its attempt's terminal event (done / error / cancelled) is queued.
    """

    events: "queue.Queue"

    @abc.abstractmethod
    def free_slots(self) -> list:
        ...

    @abc.abstractmethod
    def launch(self, attempt: Any, slot: Any) -> None:
        ...

    @abc.abstractmethod
    def cancel(self, attempt: Any) -> None:
        ...

    def poll(self) -> None:
        """Called on every turn of the loop: health checks (may queue events)."""

    def slot_name(self, slot: Any) -> str:
        return str(slot)


def drive(tracker: Any, backend: SlotBackend, hold: bool = False, poll_s: float = 0.05,
          label: str = "") -> Iterator[TaskOutcome]:
    """The driver loop shared by the asynchronous executors.

    Fills free slots from the tracker, turns backend events into outcomes,
    cancels stragglers. ``hold=True`` (sync mode) yields nothing until every
    task has ended. On exit (also when the consumer stops early) every attempt
    still running is cancelled.
    """
    import queue as _queue

    held: list = []
    slot_of: dict = {}

    def emit(outcome: Optional[TaskOutcome]):
        if outcome is None:
            return []
        _log_outcome(outcome, label)
        if hold:
            held.append(outcome)
            return []
        return [outcome]

    try:
        while not tracker.done():
            backend.poll()
            for slot in backend.free_slots():
                if not tracker.has_pending():
                    break
                att = tracker.next_attempt()
                slot_of[att.key] = slot
                log.info("%sstart iteration %d candidate %s attempt %d on %s", label, att.task.iteration,
                         att.task.name, att.number, backend.slot_name(slot))
                backend.launch(att, slot)
            try:
                events = [backend.events.get(timeout=poll_s)]
            except _queue.Empty:
                events = []
            while True:
                try:
                    events.append(backend.events.get_nowait())
                except _queue.Empty:
                    break
            for kind, key, info in events:
                if kind == "started":
                    tracker.started(key, info.get("worker"), info.get("ago", 0.0))
                elif kind == "progress":
                    tracker.progress(key, info["fraction"])
                elif kind == "done":
                    slot_of.pop(key, None)
                    yield from emit(tracker.completed(key, info.get("result"), worker=info.get("worker"),
                                                      extra=info.get("extra")))
                elif kind == "error":
                    slot_of.pop(key, None)
                    att = tracker.attempt(key)
                    out = tracker.failed(key, info["error"], worker=info.get("worker"),
                                         charge=info.get("charge", True), extra=info.get("extra"))
                    if att is not None and out is None:
                        log.warning("%sattempt %d of candidate %s failed on %s after %.1fs, retrying: %s",
                                    label, att.number, att.task.name, info.get("worker") or att.worker,
                                    att.elapsed(tracker.clock()), info["error"])
                    yield from emit(out)
                elif kind == "cancelled":
                    slot_of.pop(key, None)
            for att in tracker.stragglers():
                backend.cancel(att)
                yield from emit(tracker.dropped(key=att.key))
        for outcome in held:
            yield outcome
    finally:
        for att in tracker.abandon():
            try:
                backend.cancel(att)
            except Exception:  # best effort on the way out
                log.exception("cancelling %s", att.key)


def _log_outcome(o: TaskOutcome, label: str = "") -> None:
    t = o.task
    if o.status == COMPLETED:
        log.info("%sfinish iteration %d candidate %s on %s: %.2fs, attempt %d", label, t.iteration, t.name,
                 o.worker, o.elapsed_s, o.attempts)
    elif o.status == DROPPED:
        log.warning("%sdrop straggler iteration %d candidate %s on %s after %.2fs (deadline %s, progress %.2f)",
                    label, t.iteration, t.name, o.worker, o.elapsed_s,
                    _fmt_s(o.extra.get("deadline_s")), o.extra.get("progress", 0.0))
    else:
        log.error("%sfailed iteration %d candidate %s on %s after %d attempts: %s", label, t.iteration, t.name,
                  o.worker, o.attempts, o.error)


def _fmt_s(v: Optional[float]) -> str:
    return "-" if v is None else f"{v:.2f}s"
