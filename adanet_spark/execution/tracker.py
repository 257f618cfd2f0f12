"""One iteration's bookkeeping: which task runs next, retries, and who is a straggler.

An :class:`IterationTracker` follows the candidates of one iteration through
pending -> running -> completed | dropped_straggler | failed. Executors own the
*mechanism* (threads, Spark jobs, Horovod workers) and feed the tracker their
events; the tracker owns every *decision*: the queue order, whether a failure is
retried (up to ``max_retries`` times, at the back of the queue), and which
running attempt its :class:`~adanet_spark.execution.stragglers.StragglerPolicy`
wants stopped. Train times are measured here, on the driver, from the attempt's
start (launch, or the worker's "started" message when the backend has one) to
its result.

No threads and no clock of its own (``clock``, monotonic by default), so it is
unit-tested with a fake clock.
"""
from __future__ import annotations

import collections
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Deque, Dict, List, Optional, Sequence

from adanet_spark.adanet.protocol import COMPLETED, DROPPED, FAILED, CandidateTask, TaskOutcome
from adanet_spark.execution.stragglers import (AttemptProgress, ExplainsDeadline, StragglerPolicy,
                                               projected_total)


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
    checks: List[tuple] = field(default_factory=list)  # (fraction, validation loss) at each check

    @property
    def start(self) -> Optional[float]:
        return self.started_at if self.started_at is not None else self.launched_at

    def elapsed(self, now: float) -> float:
        return 0.0 if self.start is None else max(0.0, now - self.start)

    def projected_total(self) -> Optional[float]:
        """Projected train time from the progress rate (see :class:`AttemptProgress`)."""
        if self.progress_at is None or self.first_progress_at is None or self.start is None:
            return None
        return projected_total(self.progress_at - self.start, self.progress, self.first_progress,
                               self.progress_at - self.first_progress_at)


@dataclass
class TaskState:
    task: CandidateTask
    index: int
    attempts: int = 0
    status: Optional[str] = None  # None while pending or running
    errors: List[str] = field(default_factory=list)


@dataclass
class IterationTracker:
    """Decisions for one iteration; the executor feeds it events and acts on its answers.

    Keys of attempts are unique strings (``"<iteration>:<index>:<attempt>"``), so
    late events of an attempt that was already dropped are recognised and ignored.
    ``expect_started``: the backend reports when an attempt really starts on its
    worker; until then (a slot still being freed, a Python worker starting) it is
    not judged, for up to ``start_grace_s``, after which its clock counts from the launch.
    """

    tasks: Sequence[CandidateTask]
    policy: StragglerPolicy
    max_retries: int = 1
    clock: Callable[[], float] = time.monotonic
    expect_started: bool = False
    start_grace_s: float = 30.0

    def __post_init__(self) -> None:
        self._states = [TaskState(t, i) for i, t in enumerate(self.tasks)]
        self._pending: Deque[int] = collections.deque(range(len(self.tasks)))
        self._running: Dict[str, Attempt] = {}
        self._train_times: List[float] = []  # driver-measured seconds per unit cost, completed only
        self._finished = 0
        self.started_at = self.clock()

    # ------------------------------------------------------------------ queries
    @property
    def n_tasks(self) -> int:
        return len(self._states)

    @property
    def completed_count(self) -> int:
        return len(self._train_times)

    def done(self) -> bool:
        return self._finished == len(self._states)

    def has_pending(self) -> bool:
        return bool(self._pending)

    def running(self) -> List[Attempt]:
        return list(self._running.values())

    def attempt(self, key: str) -> Optional[Attempt]:
        return self._running.get(key)

    def snapshot(self, att: Attempt, now: Optional[float] = None) -> AttemptProgress:
        """What the policy is shown of ``att`` at ``now`` (default: the clock)."""
        now = self.clock() if now is None else now
        start = att.start
        report = att.progress_at is not None and start is not None
        return AttemptProgress(
            elapsed_s=att.elapsed(now), cost=task_cost(att.task), completed_s_per_cost=tuple(self._train_times),
            n_tasks=self.n_tasks, started=att.started_at is not None, progress=att.progress,
            first_progress=att.first_progress,
            report_elapsed_s=(att.progress_at - start) if report else None,
            report_span_s=(att.progress_at - att.first_progress_at) if report else None)

    def deadline(self, task: Optional[CandidateTask] = None) -> Optional[float]:
        """Seconds ``task`` may take (a unit-cost task when None), for logs and outcomes;
        None while no deadline applies or the policy has no notion of one."""
        if not isinstance(self.policy, ExplainsDeadline):
            return None
        cost = task_cost(task) if task is not None else 1.0
        return self.policy.deadline_s(AttemptProgress(0.0, cost, tuple(self._train_times), self.n_tasks))

    def stragglers(self) -> List[Attempt]:
        """Running attempts the policy wants stopped at this moment."""
        now = self.clock()
        return [att for att in self._running.values() if self._is_straggler(att, now)]

    def should_drop(self, key: str) -> bool:
        """True when the running attempt ``key`` is a straggler right now."""
        att = self._running.get(key)
        return att is not None and self._is_straggler(att, self.clock())

    def _is_straggler(self, att: Attempt, now: float) -> bool:
        if att.launched_at is None:
            return False
        if self.expect_started and att.started_at is None and now - att.launched_at < self.start_grace_s:
            return False  # still starting on its worker: not judged yet
        return self.policy.should_stop(self.snapshot(att, now))

    # ------------------------------------------------------------------ events
    def next_attempt(self) -> Optional[Attempt]:
        """Take the next pending task (a retry goes to the back of the queue)."""
        if not self._pending:
            return None
        i = self._pending.popleft()
        st = self._states[i]
        st.attempts += 1
        att = Attempt(st.task, i, st.attempts, f"{st.task.iteration}:{i}:{st.attempts}", launched_at=self.clock())
        self._running[att.key] = att
        return att

    def started(self, key: str, worker: Optional[str] = None, ago: float = 0.0) -> None:
        """The attempt really started on a worker (``ago`` seconds before this message)."""
        att = self._running.get(key)
        if att is None:
            return
        att.started_at = self.clock() - max(0.0, float(ago or 0.0))
        if att.launched_at is not None:
            att.started_at = max(att.started_at, att.launched_at)
        if worker is not None:
            att.worker = worker

    def progress(self, key: str, fraction: float, valid_loss: Optional[float] = None) -> None:
        att = self._running.get(key)
        if att is None:
            return
        if valid_loss is not None:
            att.checks.append((float(fraction), float(valid_loss)))
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
        self._train_times.append(elapsed / task_cost(att.task))
        return self._finish(att, COMPLETED, result=result, elapsed=elapsed, worker=worker or att.worker,
                            extra=extra)

    def failed(self, key: str, error: str, worker: Optional[str] = None, charge: bool = True,
               extra: Optional[dict] = None) -> Optional[TaskOutcome]:
        """An attempt failed. Returns the final outcome, or None when it is queued again.

        ``charge=False`` re-queues it first without counting the attempt (the candidate
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
        if st.attempts <= self.max_retries:
            self._pending.append(att.index)
            return None
        return self._finish(att, FAILED, error=error, elapsed=att.elapsed(self.clock()),
                            worker=worker or att.worker, extra=extra)

    def dropped(self, key: str, extra: Optional[dict] = None) -> Optional[TaskOutcome]:
        att = self._running.pop(key, None)
        if att is None:
            return None
        info = {"deadline_s": self.deadline(att.task), "progress": att.progress}
        info.update(extra or {})
        return self._finish(att, DROPPED, elapsed=att.elapsed(self.clock()), worker=att.worker, extra=info)

    def abandon(self) -> List[Attempt]:
        """Forget every running attempt (the executor is giving up); returns them."""
        out = list(self._running.values())
        self._running.clear()
        self._pending.clear()
        return out

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


def task_cost(task: CandidateTask) -> float:
    """A task's cost as deadlines use it: 1 when unset or not positive."""
    cost = float(getattr(task, "cost", 1.0) or 1.0)
    return cost if cost > 0 else 1.0
