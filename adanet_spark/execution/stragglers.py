"""Straggler and retry policy: pure bookkeeping shared by every executor.

One :class:`IterationTracker` follows the candidates of one iteration through
pending -> running -> completed | dropped_straggler | failed. The executors own
the *mechanism* (threads, Spark jobs, Horovod workers); the tracker owns every
*decision*: which task runs next, whether a failure is retried, and which
running candidate is a straggler.

The rule (``StragglerPolicy``): a running candidate is dropped once at least
``quorum`` (a fraction, rounded up) of the iteration's candidates have
completed and its elapsed time exceeds ``deadline_factor`` x the median train
time of the completed ones (and ``min_deadline_s``). With ``project`` on, a candidate that has reported
progress p >= ``min_progress`` is dropped sooner, as soon as its projected
total time exceeds that deadline; the projection extrapolates the progress
rate between its first and latest reports (spanning >= ``min_span`` of
progress and >= ``min_report_s`` seconds), so the
fixed start-up cost of a task does not count as slowness. Train times are
measured on the driver from the attempt's start (launch, or the worker's
"started" message when the backend has one) to its result. A failed attempt is retried
(queued again) up to ``max_retries`` times, then reported ``failed``.

No threads, no Spark, no clock of its own: time comes from ``clock`` (a
monotonic clock by default), so the policy is unit-tested with a fake clock.
"""
from __future__ import annotations

import collections
import math
import statistics
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Deque, Dict, List, Optional, Sequence

from adanet_spark.execution.base import (COMPLETED, DROPPED, FAILED, CandidateTask, TaskOutcome)


@dataclass(frozen=True)
class StragglerPolicy:
    quorum: float = 0.5
    deadline_factor: float = 1.5
    max_retries: int = 1
    drop: bool = True  # False: never drop (sync mode, the baseline)
    project: bool = True  # drop early from reported progress
    min_progress: float = 0.2  # projections from less progress than this are too noisy
    min_span: float = 0.1  # ... or from reports spanning less progress than this
    min_report_s: float = 1.0  # ... or than this many seconds
    min_deadline_s: float = 1.0  # never drop a candidate sooner than this (timing jitter)
    start_grace_s: float = 30.0  # how long a launched attempt may take to report its start

    @classmethod
    def from_config(cls, straggler, drop: bool = True, project: bool = True) -> "StragglerPolicy":
        """From a :class:`~adanet_spark.config.StragglerConfig`."""
        return cls(quorum=straggler.quorum, deadline_factor=straggler.deadline_factor,
                   max_retries=straggler.max_retries, drop=drop, project=project)

    def quorum_count(self, n_tasks: int) -> int:
        """How many candidates must have completed before any is dropped (at least 1)."""
        return max(1, math.ceil(self.quorum * n_tasks - 1e-9))


@dataclass
class Attempt:
    """One try of one task on one worker."""

    task: CandidateTask
    index: int  # position of the task in the iteration
    number: int  # 1-based attempt number
    key: str
    worker: Optional[str] = None
    launched_at: Optional[float] = None
    started_at: Optional[float] = None
    progress: float = 0.0
    progress_at: Optional[float] = None
    first_progress: float = 0.0
    first_progress_at: Optional[float] = None

    def projected_total(self) -> Optional[float]:
        """Projected train time from the progress rate between the first and the latest
        report (so a fixed start-up cost - imports, data loading - does not skew it)."""
        if self.first_progress_at is None or self.progress_at is None:
            return None
        dp = self.progress - self.first_progress
        dt = self.progress_at - self.first_progress_at
        if dp <= 0 or dt <= 0:
            return None
        start = self.started_at if self.started_at is not None else self.launched_at
        return (self.progress_at - start) + (1.0 - self.progress) * dt / dp

    def elapsed(self, now: float) -> float:
        start = self.started_at if self.started_at is not None else self.launched_at
        return 0.0 if start is None else max(0.0, now - start)


@dataclass
class _TaskState:
    task: CandidateTask
    index: int
    attempts: int = 0
    status: Optional[str] = None  # None while pending or running
    errors: List[str] = field(default_factory=list)


class IterationTracker:
    """Decisions for one iteration; the executor feeds it events and acts on its answers.

    Keys of attempts are unique strings (``"<iteration>:<index>:<attempt>"``),
    so late events of an attempt that was already dropped are recognised and
    ignored.
    """

    def __init__(self, tasks: Sequence[CandidateTask], policy: StragglerPolicy,
                 clock: Callable[[], float] = time.monotonic, expect_started: bool = False):
        self.policy = policy
        self.clock = clock
        # The backend reports when an attempt really starts on its worker: until then
        # (a slot still being freed, a Python worker starting) it is not judged, for up
        # to policy.start_grace_s, after which its clock counts from the launch.
        self.expect_started = expect_started
        self._states = [_TaskState(t, i) for i, t in enumerate(tasks)]
        self._pending: Deque[int] = collections.deque(range(len(tasks)))
        self._running: Dict[str, Attempt] = {}
        # Driver-measured seconds per unit of task cost, completed attempts only.
        self._train_times: List[float] = []
        self._finished = 0
        self.started_at = clock()

    # ------------------------------------------------------------------ queries
    @property
    def n_tasks(self) -> int:
        return len(self._states)

    def done(self) -> bool:
        return self._finished == len(self._states)

    def has_pending(self) -> bool:
        return bool(self._pending)

    def running(self) -> List[Attempt]:
        return list(self._running.values())

    def attempt(self, key: str) -> Optional[Attempt]:
        return self._running.get(key)

    @property
    def completed_count(self) -> int:
        return len(self._train_times)

    def deadline(self, task: Optional[CandidateTask] = None) -> Optional[float]:
        """Seconds ``task`` may take (a unit-cost task when None), or None while the
        quorum is not met: deadline_factor x the median completed time per unit cost."""
        if not self.policy.drop or self.completed_count < self.policy.quorum_count(self.n_tasks):
            return None
        cost = _cost(task) if task is not None else 1.0
        return max(self.policy.min_deadline_s,
                   self.policy.deadline_factor * statistics.median(self._train_times) * cost)

    # ------------------------------------------------------------------ events
    def next_attempt(self) -> Optional[Attempt]:
        """Take the next pending task (a retry goes to the back of the queue)."""
        if not self._pending:
            return None
        i = self._pending.popleft()
        st = self._states[i]
        st.attempts += 1
        key = f"{st.task.iteration}:{i}:{st.attempts}"
        att = Attempt(st.task, i, st.attempts, key, launched_at=self.clock())
        self._running[key] = att
        return att

    def started(self, key: str, worker: Optional[str] = None, ago: float = 0.0) -> None:
        """The attempt really started on a worker (``ago`` seconds before this message)."""
        att = self._running.get(key)
        if att is not None:
            att.started_at = self.clock() - max(0.0, float(ago or 0.0))
            if att.launched_at is not None:
                att.started_at = max(att.started_at, att.launched_at)
            if worker is not None:
                att.worker = worker

    def progress(self, key: str, fraction: float) -> None:
        att = self._running.get(key)
        if att is not None:
            att.progress = min(1.0, max(0.0, float(fraction)))
            att.progress_at = self.clock()
            if att.first_progress_at is None:
                att.first_progress, att.first_progress_at = att.progress, att.progress_at

    def completed(self, key: str, result: Any = None, worker: Optional[str] = None,
                  extra: Optional[dict] = None) -> Optional[TaskOutcome]:
        att = self._running.pop(key, None)
        if att is None:
            return None  # already dropped: a late result is ignored
        elapsed = att.elapsed(self.clock())
        self._train_times.append(elapsed / _cost(att.task))
        return self._finish(att, COMPLETED, result=result, elapsed=elapsed,
                            worker=worker or att.worker, extra=extra)

    def failed(self, key: str, error: str, worker: Optional[str] = None, charge: bool = True,
               extra: Optional[dict] = None) -> Optional[TaskOutcome]:
        """An attempt failed. Returns the final outcome, or None when it is queued again.

        ``charge=False`` re-queues without counting the attempt (the candidate
        was a bystander, e.g. its worker group was torn down by another's fault).
        """
        att = self._running.pop(key, None)
        if att is None:
            return None
        st = self._states[att.index]
        st.errors.append(error)
        if not charge:
            st.attempts -= 1
            self._pending.appendleft(att.index)
            return None
        if st.attempts <= self.policy.max_retries:
            self._pending.append(att.index)
            return None
        return self._finish(att, FAILED, error=error, elapsed=att.elapsed(self.clock()),
                            worker=worker or att.worker, extra=extra)

    def stragglers(self) -> List[Attempt]:
        """Running attempts past the deadline (or projected past it) at this moment."""
        if self.deadline() is None:
            return []
        now = self.clock()
        out = []
        for att in self._running.values():
            deadline = self.deadline(att.task)
            if att.launched_at is None:
                continue
            if (self.expect_started and att.started_at is None
                    and now - att.launched_at < self.policy.start_grace_s):
                continue
            elapsed = att.elapsed(now)
            if elapsed > deadline:
                out.append(att)
            elif (self.policy.project and self.policy.min_progress <= att.progress < 1.0
                  and att.progress - att.first_progress >= self.policy.min_span
                  and att.progress_at - att.first_progress_at >= self.policy.min_report_s):
                projected = att.projected_total()
                if projected is not None and projected > deadline:
                    out.append(att)
        return out

    def should_drop(self, key: str) -> bool:
        """True when the running attempt ``key`` is a straggler right now."""
        return any(a.key == key for a in self.stragglers())

    def dropped(self, key: str, extra: Optional[dict] = None) -> Optional[TaskOutcome]:
        att = self._running.pop(key, None)
        if att is None:
            return None
        now = self.clock()
        info = {"deadline_s": self.deadline(att.task), "progress": att.progress}
        info.update(extra or {})
        return self._finish(att, DROPPED, elapsed=att.elapsed(now), worker=att.worker, extra=info)

    def abandon(self) -> List[Attempt]:
        """Forget every running attempt (the executor is giving up); returns them."""
        out = list(self._running.values())
        self._running.clear()
        self._pending.clear()
        return out

    # ------------------------------------------------------------------ helpers
    def _finish(self, att: Attempt, status: str, result: Any = None, error: Optional[str] = None,
                elapsed: float = 0.0, worker: Optional[str] = None,
                extra: Optional[dict] = None) -> TaskOutcome:
        st = self._states[att.index]
        st.status = status
        self._finished += 1
        info = {"queued_s": round((att.started_at or att.launched_at or self.started_at) - self.started_at, 3)}
        if len(st.errors) > (1 if status == FAILED else 0):
            info["earlier_errors"] = st.errors[:-1] if status == FAILED else list(st.errors)
        info.update(extra or {})
        return TaskOutcome(att.task, status, result=result, error=error, attempts=att.number,
                           worker=worker or "?", elapsed_s=elapsed, extra=info)


def _cost(task: CandidateTask) -> float:
    cost = float(getattr(task, "cost", 1.0) or 1.0)
    return cost if cost > 0 else 1.0
