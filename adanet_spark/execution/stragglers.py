"""Straggler policies: when to give up on a running candidate, decided from its progress.

Like an Optuna pruner, a policy answers one question about one running attempt,
:meth:`StragglerPolicy.should_stop`, from a snapshot of what is known about it
(:class:`AttemptProgress`). It owns no clock, no thread and no queue: the
:class:`~adanet_spark.execution.tracker.IterationTracker` builds the snapshots
and acts on the answers, retries are the tracker's business too. So a policy is
unit-tested with plain numbers.

:class:`QuorumDeadline` (today's rule): a running candidate is dropped once at
least ``quorum`` (a fraction, rounded up) of the iteration's candidates have
completed and its elapsed time exceeds ``deadline_factor`` x the median train
time per unit cost of the completed ones, times its own cost (and at least
``min_deadline_s``). With ``project`` on, a candidate that has reported progress
p >= ``min_progress`` is dropped sooner, as soon as its projected total time
exceeds that deadline; the projection extrapolates the progress rate between
its first and latest reports (spanning >= ``min_span`` of progress and >=
``min_report_s`` seconds), so the fixed start-up cost of a task does not count
as slowness. :class:`NeverDrop`: sync mode, the baseline.
"""
from __future__ import annotations

import abc
import math
import statistics
from dataclasses import dataclass
from typing import Optional, Protocol, Tuple, runtime_checkable


@dataclass(frozen=True)
class AttemptProgress:
    """What is known of one running attempt, at one moment.

    Times are seconds since the attempt started (its worker's "started" message,
    or its launch when the backend sends none).
    """

    elapsed_s: float
    cost: float = 1.0  # the task's relative compute (CandidateTask.cost, > 0)
    completed_s_per_cost: Tuple[float, ...] = ()  # this iteration's completed attempts
    n_tasks: int = 1  # candidates in the iteration
    # False: its worker has not reported the start (yet, or ever), so elapsed_s counts from the
    # launch. The tracker holds such an attempt back for its start grace before asking at all.
    started: bool = True
    progress: float = 0.0  # latest reported fraction done
    first_progress: float = 0.0  # fraction at the first report
    report_elapsed_s: Optional[float] = None  # elapsed_s at the latest report (None: no report)
    report_span_s: Optional[float] = None  # seconds between the first and the latest report

    @property
    def progress_span(self) -> float:
        return self.progress - self.first_progress

    @property
    def projected_total_s(self) -> Optional[float]:
        """Projected train time from the rate between the first and the latest report (so
        a fixed start-up cost - imports, data loading - does not skew it)."""
        return projected_total(self.report_elapsed_s, self.progress, self.first_progress, self.report_span_s)


def projected_total(report_elapsed_s: Optional[float], progress: float, first_progress: float,
                    report_span_s: Optional[float]) -> Optional[float]:
    """Elapsed time at the latest report plus the rest at the observed rate; None without a rate."""
    if report_elapsed_s is None or report_span_s is None:
        return None
    dp = progress - first_progress
    if dp <= 0 or report_span_s <= 0:
        return None
    return report_elapsed_s + (1.0 - progress) * report_span_s / dp


class StragglerPolicy(abc.ABC):
    """Decides whether a running attempt is a straggler to drop."""

    @abc.abstractmethod
    def should_stop(self, progress: AttemptProgress) -> bool:
        """True to drop this attempt now (it frees its slot; the outcome is ``dropped``)."""


@runtime_checkable
class ExplainsDeadline(Protocol):
    """A policy that can tell the time it allows an attempt (for logs and outcomes only)."""

    def deadline_s(self, progress: AttemptProgress) -> Optional[float]: ...


@dataclass(frozen=True)
class NeverDrop(StragglerPolicy):
    """Every candidate runs to its end (sync mode, and the local backend)."""

    def should_stop(self, progress: AttemptProgress) -> bool:
        return False


@dataclass(frozen=True)
class QuorumDeadline(StragglerPolicy):
    """Drop past ``deadline_factor`` x the median completed time, once a quorum has completed."""

    quorum: float = 0.5
    deadline_factor: float = 1.5
    project: bool = True  # drop early from reported progress
    min_progress: float = 0.2  # projections from less progress than this are too noisy
    min_span: float = 0.1  # ... or from reports spanning less progress than this
    min_report_s: float = 1.0  # ... or than this many seconds
    min_deadline_s: float = 1.0  # never drop a candidate sooner than this (timing jitter)

    @classmethod
    def from_config(cls, straggler) -> "QuorumDeadline":
        """From a :class:`~adanet_spark.config.StragglerConfig` (its ``max_retries`` is the tracker's)."""
        return cls(quorum=straggler.quorum, deadline_factor=straggler.deadline_factor)

    def quorum_count(self, n_tasks: int) -> int:
        """How many candidates must have completed before any is dropped (at least 1)."""
        return max(1, math.ceil(self.quorum * n_tasks - 1e-9))

    def deadline_s(self, progress: AttemptProgress) -> Optional[float]:
        """Seconds this attempt may take, or None while the quorum is not met."""
        done = progress.completed_s_per_cost
        if len(done) < self.quorum_count(progress.n_tasks):
            return None
        return max(self.min_deadline_s, self.deadline_factor * statistics.median(done) * progress.cost)

    def should_stop(self, progress: AttemptProgress) -> bool:
        deadline = self.deadline_s(progress)
        if deadline is None:
            return False
        if progress.elapsed_s > deadline:
            return True
        if not self._can_project(progress):
            return False
        projected = progress.projected_total_s
        return projected is not None and projected > deadline

    def _can_project(self, p: AttemptProgress) -> bool:
        return (self.project and self.min_progress <= p.progress < 1.0
                and p.progress_span >= self.min_span
                and p.report_span_s is not None and p.report_span_s >= self.min_report_s)


# config.training.Mode's values; checked here too, for executors built in code, not from a config.
MODES = ("async", "sync")


def policy_for_mode(mode: str, policy: Optional[StragglerPolicy]) -> StragglerPolicy:
    """The policy an executor applies: ``policy`` (default :class:`QuorumDeadline`) in async
    mode; :class:`NeverDrop` in sync mode, the baseline that waits for every candidate."""
    if mode not in MODES:
        raise ValueError(f"mode must be async or sync, got {mode!r}")
    if mode == "sync":
        return NeverDrop()
    return policy if policy is not None else QuorumDeadline()
