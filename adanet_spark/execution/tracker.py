"""One iteration's bookkeeping: which task runs next, retries, and who is a straggler.

An :class:`IterationTracker` follows the candidates of one iteration through
pending -> running -> completed | dropped_straggler | pruned | failed. Executors
own the *mechanism* (threads, Spark jobs, Horovod workers) and feed the tracker
their events; the tracker owns every *decision*: the queue order (the most
expensive candidates first, so the longest ones do not start last), whether a
failure is retried (up to ``max_retries`` times, at the back of the queue), and
which running attempt its :class:`~adanet_spark.execution.stragglers.StragglerPolicy`
wants stopped, and why (a straggler, or pruned). Train times are measured here,
on the driver, from the attempt's start (launch, or the worker's "started"
message when the backend has one) to its result.

No threads and no clock of its own (``clock``, monotonic by default), so it is
unit-tested with a fake clock.
"""
from __future__ import annotations

import collections
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Deque, Dict, List, Optional, Sequence

from adanet_spark.adanet.protocol import COMPLETED, DROPPED, FAILED, CandidateTask, TaskOutcome
from adanet_spark.execution.stragglers import (AttemptProgress, ExplainsDeadline, Peer, Stop, StragglerPolicy,
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

    def as_peer(self, total_s: Optional[float] = None) -> Peer:
        """What the other candidates' policy decisions see of this attempt."""
        span = None if self.first_progress_at is None else self.progress_at - self.first_progress_at
        return Peer(task_cost(self.task), self.progress - self.first_progress, span, total_s, tuple(self.checks))


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
        # The most expensive first (ties in the given order): the longest candidates do not start last.
        order = sorted(range(len(self.tasks)), key=lambda i: -task_cost(self.tasks[i]))
        self._pending: Deque[int] = collections.deque(order)
        self._running: Dict[str, Attempt] = {}
        self._train_times: List[float] = []  # driver-measured seconds per unit cost, completed only
        self._ended: Dict[int, Peer] = {}  # per task: its completed or pruned attempt, as a peer
        self._verdicts: Dict[str, Stop] = {}  # running attempts the policy wants stopped, and why
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
            report_span_s=(att.progress_at - att.first_progress_at) if report else None,
            checks=tuple(att.checks), peers=self.peers(att.index))

    def peers(self, index: Optional[int] = None) -> tuple:
        """The other tasks' latest attempts (running, completed or pruned) as :class:`Peer`\\ s."""
        running = {att.index: att.as_peer() for att in self._running.values()}
        merged = {**self._ended, **running}
        return tuple(peer for i, peer in sorted(merged.items()) if i != index)

    def deadline(self, task: Optional[CandidateTask] = None) -> Optional[float]:
        """Seconds ``task`` may take (a unit-cost task when None), for logs and outcomes;
        None while no deadline applies or the policy has no notion of one."""
        if not isinstance(self.policy, ExplainsDeadline):
            return None
        cost = task_cost(task) if task is not None else 1.0
        index = next((st.index for st in self._states if st.task is task), None)
        return self.policy.deadline_s(AttemptProgress(0.0, cost, tuple(self._train_times), self.n_tasks,
                                                      peers=self.peers(index)))

    def stragglers(self) -> List[Attempt]:
        """Running attempts the policy wants stopped at this moment (stragglers and pruned)."""
        now = self.clock()
        return [att for att in self._running.values() if self._verdict(att, now) is not None]

    def should_drop(self, key: str) -> bool:
        """True when the policy wants the running attempt ``key`` stopped right now."""
        att = self._running.get(key)
        return att is not None and self._verdict(att, self.clock()) is not None

    def _verdict(self, att: Attempt, now: float) -> Optional[Stop]:
        if att.key in self._verdicts:
            return self._verdicts[att.key]  # decided: it is being stopped
        if att.launched_at is None:
            return None
        if self.expect_started and att.started_at is None and now - att.launched_at < self.start_grace_s:
            return None  # still starting on its worker: not judged yet
        stop = self.policy.verdict(self.snapshot(att, now))
        if stop is not None:
            self._verdicts[att.key] = stop
        return stop

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
        self._verdicts.pop(key, None)  # it finished before it could be stopped
        elapsed = att.elapsed(self.clock())
        self._train_times.append(elapsed / task_cost(att.task))
        self._ended[att.index] = att.as_peer(total_s=elapsed)
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
        self._verdicts.pop(key, None)
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
        """The attempt was stopped: ``dropped_straggler``, or ``pruned`` when the policy said so
        (its reason becomes the outcome's error)."""
        att = self._running.get(key)
        if att is None:
            return None
        stop = self._verdicts.pop(key, None) or Stop(DROPPED)
        info = {"progress": att.progress, "reason": stop.reason}
        if stop.status == DROPPED:  # the time (or silence) its policy allowed it, as it saw the attempt
            explains = isinstance(self.policy, ExplainsDeadline)
            info["deadline_s"] = self.policy.deadline_s(self.snapshot(att)) if explains else None
        else:  # pruned: its curve still counts for the others' comparisons
            self._ended[att.index] = att.as_peer()
        del self._running[key]
        info.update(extra or {})
        return self._finish(att, stop.status, error=stop.reason or None, elapsed=att.elapsed(self.clock()),
                            worker=att.worker, extra=info)

    def abandon(self) -> List[Attempt]:
        """Forget every running attempt (the executor is giving up); returns them."""
        out = list(self._running.values())
        self._running.clear()
        self._pending.clear()
        self._verdicts.clear()
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
