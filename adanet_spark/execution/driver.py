"""The driver loop shared by the asynchronous executors (Spark jobs, Horovod groups).

A backend (:class:`SlotBackend`) knows how to launch an attempt on a slot and
cancel it, and reports what happens as events; :func:`drive` fills free slots
from an :class:`~adanet_spark.execution.tracker.IterationTracker`, turns the
events into :class:`TaskOutcome`\\ s, and cancels the stragglers the tracker
names. Every backend thus makes the same decisions and logs the same lines.
"""
from __future__ import annotations

import abc
import logging
import queue
from typing import Any, Iterator, List, Optional, Sequence

from adanet_spark.adanet.protocol import COMPLETED, DROPPED, PRUNED, CandidateTask, Executor, TaskOutcome
from adanet_spark.execution.policy import policy_for_mode
from adanet_spark.execution.stragglers import StragglerPolicy
from adanet_spark.execution.tracker import Attempt, IterationTracker
from adanet_spark.session import spark_context

log = logging.getLogger(__name__)


class SlotBackend(abc.ABC):
    """What :func:`drive` needs from an asynchronous backend.

    The backend runs attempts on its slots (Spark executor slots, Horovod worker
    groups) and reports what happens through ``events``, a queue of
    ``(kind, attempt_key, info)`` tuples, kind one of ``started`` (info: worker,
    ago), ``progress`` (fraction), ``done`` (result, worker, extra), ``error``
    (error, worker, charge, extra) or ``cancelled``. A slot is free again once its
    attempt's terminal event (done / error / cancelled) is queued.
    """

    def __init__(self, owner: Any = None) -> None:
        self.owner = owner  # the executor this iteration's backend belongs to
        self.events: "queue.Queue" = queue.Queue()
        self.cancelled: set = set()  # keys of the attempts this backend was told to cancel

    @abc.abstractmethod
    def free_slots(self) -> list:
        ...

    @abc.abstractmethod
    def launch(self, attempt: Attempt, slot: Any) -> None:
        ...

    @abc.abstractmethod
    def cancel(self, attempt: Attempt) -> None:
        ...

    def wait_idle(self, timeout_s: float) -> None:
        """Wait for cancelled attempts to wind down, so the next iteration starts with free slots."""

    def poll(self) -> None:
        """Called on every turn of the loop: health checks (may queue events)."""

    def slot_name(self, slot: Any) -> str:
        return str(slot)


def drive(tracker: IterationTracker, backend: SlotBackend, hold: bool = False, poll_s: float = 0.05,
          label: str = "") -> Iterator[TaskOutcome]:
    """Run the tracker's tasks on the backend; yield each outcome as it happens.

    ``hold=True`` (sync mode) yields nothing until every task has ended. On exit
    (also when the consumer stops early) every attempt still running is cancelled.
    """
    loop = _Loop(tracker, backend, hold, label)
    try:
        while not tracker.done():
            backend.poll()
            loop.fill_slots()
            for kind, key, info in _next_events(backend.events, poll_s):
                yield from loop.on_event(kind, key, info)
            for att in tracker.stragglers():
                backend.cancel(att)
                yield from loop.emit(tracker.dropped(key=att.key))
        yield from loop.held
    finally:
        for att in tracker.abandon():
            try:
                backend.cancel(att)
            except Exception:  # best effort on the way out: one failed cancel must not hide the rest
                log.exception("cancelling %s", att.key)


class _Loop:
    """The state of one :func:`drive` call, one small method per kind of work."""

    def __init__(self, tracker: IterationTracker, backend: SlotBackend, hold: bool, label: str):
        self.tracker = tracker
        self.backend = backend
        self.hold = hold
        self.label = label
        self.held: List[TaskOutcome] = []

    def fill_slots(self) -> None:
        for slot in self.backend.free_slots():
            if not self.tracker.has_pending():
                break
            att = self.tracker.next_attempt()
            log.info("%sstart iteration %d candidate %s attempt %d on %s", self.label, att.task.iteration,
                     att.task.name, att.number, self.backend.slot_name(slot))
            self.backend.launch(att, slot)

    def on_event(self, kind: str, key: str, info: dict) -> List[TaskOutcome]:
        tr = self.tracker
        if kind == "started":
            tr.started(key, info.get("worker"), info.get("ago", 0.0))
        elif kind == "progress":
            tr.progress(key, info["fraction"], info.get("valid_loss"))
        elif kind == "done":
            return self.emit(tr.completed(key, info.get("result"), worker=info.get("worker"),
                                          extra=info.get("extra")))
        elif kind == "error":
            return self.on_error(key, info)
        return []  # "cancelled": the slot is free again, the outcome was emitted at the drop

    def on_error(self, key: str, info: dict) -> List[TaskOutcome]:
        tr = self.tracker
        att = tr.attempt(key)
        out = tr.failed(key, info["error"], worker=info.get("worker"), charge=info.get("charge", True),
                        extra=info.get("extra"))
        if att is not None and out is None:
            log.warning("%sattempt %d of candidate %s failed on %s after %.1fs, retrying: %s", self.label,
                        att.number, att.task.name, info.get("worker") or att.worker,
                        att.elapsed(tr.clock()), info["error"])
        return self.emit(out)

    def emit(self, outcome: Optional[TaskOutcome]) -> List[TaskOutcome]:
        """Log an outcome; what the consumer gets now (nothing in sync mode: held to the end)."""
        if outcome is None:
            return []
        log_outcome(outcome, self.label)
        if self.hold:
            self.held.append(outcome)
            return []
        return [outcome]


def _next_events(events: "queue.Queue", wait_s: float) -> list:
    """Wait up to ``wait_s`` for one event, then take whatever else is queued."""
    try:
        out = [events.get(timeout=wait_s)]
    except queue.Empty:
        return []
    while True:
        try:
            out.append(events.get_nowait())
        except queue.Empty:
            return out


def log_outcome(o: TaskOutcome, label: str = "") -> None:
    """The one log line every executor writes when a task ends."""
    t = o.task
    if o.status == COMPLETED:
        log.info("%sfinish iteration %d candidate %s on %s: %.2fs, attempt %d", label, t.iteration, t.name,
                 o.worker, o.elapsed_s, o.attempts)
    elif o.status == DROPPED:
        log.warning("%sdrop straggler iteration %d candidate %s on %s after %.2fs (deadline %s, progress %.2f)",
                    label, t.iteration, t.name, o.worker, o.elapsed_s,
                    _fmt_s(o.extra.get("deadline_s")), o.extra.get("progress", 0.0))
    elif o.status == PRUNED:
        log.info("%sprune iteration %d candidate %s on %s after %.2fs: %s", label, t.iteration, t.name, o.worker,
                 o.elapsed_s, o.error)
    else:
        log.error("%sfailed iteration %d candidate %s on %s after %d attempts: %s", label, t.iteration, t.name,
                  o.worker, o.attempts, o.error)


def _fmt_s(v: Optional[float]) -> str:
    return "-" if v is None else f"{v:.2f}s"


class SlotExecutor(Executor):
    """What the asynchronous executors share: where they run (``spark``, ``workers``
    slots), how they decide (``mode``, straggler ``policy``, ``max_retries``), the
    faults they inject, and one iteration driven over a :class:`SlotBackend`."""

    def __init__(self, spark: Any, workers: int, mode: str, policy: Optional[StragglerPolicy],
                 max_retries: int, faults: Any, poll_s: float):
        self.sc = spark_context(spark)
        self.workers = int(workers)
        self.mode = mode
        self.policy = policy_for_mode(mode, policy)
        self.max_retries = max_retries
        self.faults = faults
        self.poll_s = poll_s
        self._backend: Optional[SlotBackend] = None

    def drive_iteration(self, tasks: Sequence[CandidateTask], backend: SlotBackend, label: str,
                        expect_started: bool) -> Iterator[TaskOutcome]:
        """Run one iteration's tasks on ``backend``; sync mode yields only once all have ended."""
        self._backend = backend
        tracker = IterationTracker(tasks, self.policy, max_retries=self.max_retries,
                                   expect_started=expect_started)
        try:
            yield from drive(tracker, backend, hold=(self.mode == "sync"), poll_s=self.poll_s,
                             label=f"[{label} {self.mode}] ")
        finally:
            backend.wait_idle(timeout_s=30.0)
            self._backend = None
