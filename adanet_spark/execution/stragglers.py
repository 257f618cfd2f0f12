"""Straggler policies: when to stop a running candidate, decided from its progress.

Like an Optuna pruner, a policy answers one question about one running attempt,
:meth:`StragglerPolicy.verdict` (yes/no: :meth:`~StragglerPolicy.should_stop`),
from a snapshot of what is known about it and the iteration's other candidates
(:class:`AttemptProgress`). It owns no clock, no thread and no queue: the
:class:`~adanet_spark.execution.tracker.IterationTracker` builds the snapshots
and acts on the answers, retries are the tracker's business too. So a policy is
unit-tested with plain numbers.

A candidate is stopped for one of two reasons, each with its own status:

- ``dropped_straggler``: its *worker* is slow. :class:`SlowWorker` compares the
  attempt's progress rate with the rate this candidate should have, predicted from
  the other candidates' measured rates and costs; a bigger candidate, or one that
  runs more steps, is allowed proportionally more time, and early stopping is no
  slowness (rates are per unit of progress, not whole-run times).
- ``pruned``: the *candidate* learns clearly worse than the others at equal
  training progress (:class:`~adanet_spark.execution.pruning.MedianStopping`).

:class:`ProgressPolicy` (``straggler.policy: progress``, the default) applies
both. :class:`QuorumDeadline` (``straggler.policy: quorum_deadline``, the earlier
rule) drops a candidate still running once ``quorum`` of the iteration's
candidates have completed and its elapsed (or, from ``min_progress`` on,
projected) time exceeds ``deadline_factor`` x their median time per unit cost
times its own cost. :class:`NeverDrop`: sync mode, the baseline.
"""
from __future__ import annotations

import abc
import math
import statistics
from dataclasses import dataclass
from typing import Optional, Protocol, Sequence, Tuple, runtime_checkable

from adanet_spark.adanet.protocol import DROPPED

Check = Tuple[float, float]  # (fraction of the step budget done, validation loss at that check)


def rate_s(progress_span: float, span_s: Optional[float]) -> Optional[float]:
    """Seconds per unit of progress over a span of reports; None without a rate."""
    if span_s is None or progress_span <= 0 or span_s <= 0:
        return None
    return span_s / progress_span


@dataclass(frozen=True)
class Peer:
    """Another candidate of the iteration (its latest attempt), as far as it got."""

    cost: float = 1.0
    progress_span: float = 0.0  # progress between its first and latest reports
    report_span_s: Optional[float] = None  # seconds between them
    total_s: Optional[float] = None  # its train time, once completed (None: running or stopped)
    checks: Tuple[Check, ...] = ()

    @property
    def completed(self) -> bool:
        return self.total_s is not None

    @property
    def rate_s(self) -> Optional[float]:
        return rate_s(self.progress_span, self.report_span_s)


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
    checks: Tuple[Check, ...] = ()  # its validation checks so far
    peers: Tuple[Peer, ...] = ()  # the iteration's other candidates

    @property
    def progress_span(self) -> float:
        return self.progress - self.first_progress

    @property
    def rate_s(self) -> Optional[float]:
        """Seconds per unit of progress between its first and latest reports (start-up excluded)."""
        return rate_s(self.progress_span, self.report_span_s)

    @property
    def silent_s(self) -> float:
        """Seconds since its latest report (since its start when it has reported nothing)."""
        return self.elapsed_s - (self.report_elapsed_s or 0.0)

    @property
    def projected_total_s(self) -> Optional[float]:
        """Projected train time from the rate between the first and the latest report (so
        a fixed start-up cost - imports, data loading - does not skew it)."""
        return projected_total(self.report_elapsed_s, self.progress, self.first_progress, self.report_span_s)


def projected_total(report_elapsed_s: Optional[float], progress: float, first_progress: float,
                    report_span_s: Optional[float]) -> Optional[float]:
    """Elapsed time at the latest report plus the rest at the observed rate; None without a rate."""
    rate = rate_s(progress - first_progress, report_span_s)
    if report_elapsed_s is None or rate is None:
        return None
    return report_elapsed_s + (1.0 - progress) * rate


def quorum_count(quorum: float, n_tasks: int) -> int:
    """How many candidates must have completed before any is dropped (at least 1)."""
    return max(1, math.ceil(quorum * n_tasks - 1e-9))


@dataclass(frozen=True)
class Stop:
    """A policy's answer: stop this attempt, with this status and why."""

    status: str  # protocol.DROPPED (a straggler) or protocol.PRUNED
    reason: str = ""


class StragglerPolicy(abc.ABC):
    """Decides whether a running attempt is to be stopped."""

    @abc.abstractmethod
    def should_stop(self, progress: AttemptProgress) -> bool:
        """True to stop this attempt now (it frees its slot)."""

    def verdict(self, progress: AttemptProgress) -> Optional[Stop]:
        """Why to stop this attempt now, or None to let it run. By default a stop is a
        straggler drop; policies that prune say so."""
        return Stop(DROPPED, "past its deadline") if self.should_stop(progress) else None


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
        return quorum_count(self.quorum, n_tasks)

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


@dataclass(frozen=True)
class SlowWorker(StragglerPolicy):
    """Drop an attempt whose worker runs ``slow_factor`` x slower than this candidate should.

    *Should*: the median over the other candidates of their seconds per unit of
    progress, each scaled up by the cost ratio when this candidate costs more
    (``rate_j * max(1, cost / cost_j)``): a bigger candidate (or one with more steps
    in its budget, when the cost counts them) may take proportionally longer, and a
    smaller one is not expected to be faster than the others (small subnetworks
    spend their time in per-step overheads, not in their multiply-adds). Rates are
    measured between the first and the latest progress report, so start-up time and
    early stopping (a candidate that ends at 40% of its budget) are no slowness. A
    rate counts once the reports span ``min_span`` of progress and, while running,
    ``min_report_s`` seconds. Nothing is judged before the pace of ``quorum`` of the
    other candidates is known (running or completed: a cheap candidate launched last
    is judged while the expensive ones still run). An attempt silent for
    ``slow_factor`` x the expected time of a whole run is hung: dropped too (before
    its first report, only against completed runs, whose times include start-up).
    """

    quorum: float = 0.5
    slow_factor: float = 2.0
    min_span: float = 0.1
    min_report_s: float = 1.0
    min_deadline_s: float = 1.0

    def paced(self, peers: Sequence[Peer]) -> list:
        """The peers whose rate is measured well enough to compare with."""
        return [peer for peer in peers if peer.rate_s is not None and peer.progress_span >= self.min_span
                and (peer.completed or peer.report_span_s >= self.min_report_s)]

    def expected_rate_s(self, p: AttemptProgress) -> Optional[float]:
        """Seconds per unit of progress this candidate should take; None while the quorum of
        the others' rates is not known."""
        known = self.paced(p.peers)
        if len(known) < quorum_count(self.quorum, max(1, p.n_tasks - 1)):
            return None
        return statistics.median(peer.rate_s * max(1.0, p.cost / peer.cost) for peer in known)

    def deadline_s(self, p: AttemptProgress) -> Optional[float]:
        """The silence allowed: ``slow_factor`` x the expected time of a whole run, the more
        lenient of the completed runs' times (start-up included) and the expected rate;
        before its first report, the completed runs' only. None when neither is known."""
        rate = self.expected_rate_s(p)
        totals = [peer.total_s * max(1.0, p.cost / peer.cost) for peer in p.peers if peer.completed]
        whole = [statistics.median(totals)] if totals and rate is not None else []
        if rate is not None and p.report_elapsed_s is not None:
            whole.append(rate)
        return max(self.min_deadline_s, self.slow_factor * max(whole)) if whole else None

    def verdict(self, p: AttemptProgress) -> Optional[Stop]:
        expected = self.expected_rate_s(p)
        if expected is None:
            return None
        measured = p.progress_span >= self.min_span and (p.report_span_s or 0.0) >= self.min_report_s
        if measured and p.rate_s > self.slow_factor * expected:
            return Stop(DROPPED, f"straggler: {p.rate_s / expected:.1f}x slower than expected ({p.rate_s:.2f} s "
                                 f"per unit of progress, expected {expected:.2f} s from the others)")
        deadline = self.deadline_s(p)
        if deadline is not None and p.silent_s > deadline:
            return Stop(DROPPED, f"straggler: no progress reported for {p.silent_s:.1f} s (allowed {deadline:.1f} s)")
        return None

    def should_stop(self, progress: AttemptProgress) -> bool:
        return self.verdict(progress) is not None


# config.training.Mode's values; checked here too, for executors built in code, not from a config.
MODES = ("async", "sync")
