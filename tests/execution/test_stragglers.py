"""Straggler policies on plain snapshots: no tracker, no clock."""
from __future__ import annotations

import pytest

from adanet_spark.adanet.protocol import DROPPED
from adanet_spark.config import StragglerConfig
from adanet_spark.execution.stragglers import (AttemptProgress, ExplainsDeadline, NeverDrop, Peer, QuorumDeadline,
                                               SlowWorker, Stop, StragglerPolicy)


def test_quorum_count_rounds_up():
    p = QuorumDeadline(quorum=0.5)
    assert [p.quorum_count(n) for n in (1, 2, 3, 4, 5)] == [1, 1, 2, 2, 3]
    assert QuorumDeadline(quorum=1.0).quorum_count(4) == 4


def test_from_config():
    p = QuorumDeadline.from_config(StragglerConfig(quorum=0.75, deadline_factor=2.0, max_retries=3))
    assert (p.quorum, p.deadline_factor) == (0.75, 2.0)


def test_deadline_from_median_time_per_cost_once_the_quorum_is_met():
    p = QuorumDeadline(quorum=0.5, deadline_factor=1.5, project=False)
    assert p.deadline_s(AttemptProgress(100.0, completed_s_per_cost=(10.0,), n_tasks=4)) is None
    assert not p.should_stop(AttemptProgress(100.0, completed_s_per_cost=(10.0,), n_tasks=4))
    done = (10.0, 20.0)
    assert p.deadline_s(AttemptProgress(0.0, completed_s_per_cost=done, n_tasks=4)) == pytest.approx(22.5)
    assert p.deadline_s(AttemptProgress(0.0, cost=2.0, completed_s_per_cost=done, n_tasks=4)) == pytest.approx(45)
    assert not p.should_stop(AttemptProgress(22.0, completed_s_per_cost=done, n_tasks=4))
    assert p.should_stop(AttemptProgress(23.0, completed_s_per_cost=done, n_tasks=4))


def test_deadline_has_a_floor():
    p = QuorumDeadline(quorum=0.5, min_deadline_s=1.0)
    assert p.deadline_s(AttemptProgress(0.5, completed_s_per_cost=(0.02,), n_tasks=2)) == 1.0
    assert not p.should_stop(AttemptProgress(0.5, completed_s_per_cost=(0.02,), n_tasks=2))


def test_projection_from_the_rate_between_reports():
    # Reports at 0.5s (10%) and 1s (60%): 1.0/s after a slow start -> done at 1.4s from start.
    snap = dict(completed_s_per_cost=(1.0,), n_tasks=3, report_elapsed_s=1.0, report_span_s=0.5)
    fast = AttemptProgress(1.0, progress=0.6, first_progress=0.1, **snap)
    slow = AttemptProgress(1.0, progress=0.22, first_progress=0.02, **snap)
    assert fast.projected_total_s == pytest.approx(1.4) and slow.projected_total_s == pytest.approx(2.95)
    p = QuorumDeadline(quorum=0.3, deadline_factor=1.5, min_progress=0.2, min_report_s=0.5)
    assert [p.should_stop(fast), p.should_stop(slow)] == [False, True]  # deadline 1.5s, elapsed 1s
    assert not QuorumDeadline(quorum=0.3, deadline_factor=1.5, project=False).should_stop(slow)


def test_projection_needs_enough_progress_span_and_time():
    p = QuorumDeadline(quorum=0.5, deadline_factor=1.5, min_progress=0.2, min_span=0.1, min_report_s=1.0)
    base = dict(completed_s_per_cost=(2.0,), n_tasks=2, report_elapsed_s=2.0)
    assert not p.should_stop(AttemptProgress(2.0, progress=0.1, first_progress=0.01, report_span_s=2.0, **base))
    assert not p.should_stop(AttemptProgress(2.0, progress=0.3, first_progress=0.25, report_span_s=2.0, **base))
    assert not p.should_stop(AttemptProgress(2.0, progress=0.3, first_progress=0.01, report_span_s=0.5, **base))
    assert p.should_stop(AttemptProgress(2.0, progress=0.3, first_progress=0.01, report_span_s=2.0, **base))


def test_no_projection_without_a_rate():
    assert AttemptProgress(1.0).projected_total_s is None
    assert AttemptProgress(1.0, progress=0.5, first_progress=0.5, report_elapsed_s=1.0,
                           report_span_s=0.0).projected_total_s is None


def test_never_drop():
    p = NeverDrop()
    assert not p.should_stop(AttemptProgress(1e9, completed_s_per_cost=(1.0,), n_tasks=1))
    assert not isinstance(p, ExplainsDeadline) and isinstance(QuorumDeadline(), ExplainsDeadline)


def test_a_policy_is_one_method():
    class Always(StragglerPolicy):
        def should_stop(self, progress):
            return progress.elapsed_s > 0

    assert Always().should_stop(AttemptProgress(1.0))
    assert Always().verdict(AttemptProgress(1.0)) == Stop(DROPPED, "past its deadline")  # a stop is a drop
    assert Always().verdict(AttemptProgress(0.0)) is None
    with pytest.raises(TypeError):
        StragglerPolicy()


# ---------------------------------------------------------------- SlowWorker: a worker slower than expected
def done(rate=10.0, cost=1.0, total=None):
    """A completed candidate that ran its reports at ``rate`` seconds per unit of progress."""
    return Peer(cost=cost, progress_span=1.0, report_span_s=rate, total_s=rate + 2.0 if total is None else total)


def running(rate=10.0, cost=1.0, span=0.5):
    return Peer(cost=cost, progress_span=span, report_span_s=rate * span)


def attempt(rate, cost=1.0, span=0.3, peers=(), n_tasks=4, silent=0.0):
    """An attempt whose reports span ``span`` of progress at ``rate`` s per unit, the first at 2 s."""
    return AttemptProgress(2.0 + rate * span + silent, cost=cost, n_tasks=n_tasks, progress=0.05 + span,
                           first_progress=0.05, report_elapsed_s=2.0 + rate * span, report_span_s=rate * span,
                           peers=tuple(peers))


PEERS = (done(10.0), done(12.0), running(11.0))


def test_a_4x_slowed_worker_is_detected():
    stop = SlowWorker().verdict(attempt(40.0, peers=PEERS))
    assert stop.status == DROPPED and "3.6x slower than expected" in stop.reason
    assert not SlowWorker().should_stop(attempt(12.0, peers=PEERS))  # its normal pace


def test_a_big_candidate_with_a_proportional_runtime_is_not_a_straggler():
    """Bigger, or more steps in its budget (the cost counts both): proportionally more time per unit."""
    assert not SlowWorker().should_stop(attempt(4 * 11.0, cost=4.0, peers=PEERS))
    assert SlowWorker().should_stop(attempt(4 * 4 * 11.0, cost=4.0, peers=PEERS))  # and 4x slowed on top


def test_a_small_candidate_is_not_expected_to_be_faster_than_the_others():
    """Small subnetworks spend their time in per-step overheads: no discount for a low cost."""
    assert SlowWorker().expected_rate_s(attempt(1.0, cost=0.1, peers=PEERS)) == pytest.approx(11.0)
    assert not SlowWorker().should_stop(attempt(20.0, cost=0.1, peers=PEERS))


def test_early_stopping_is_no_slowness():
    """The others stopped early (after a third of their budget): their whole-run times are short,
    but their rate per unit of progress is what this one is measured against."""
    early = tuple(Peer(1.0, 0.3, 3.0, total_s=4.0) for _ in range(3))
    normal = attempt(10.0, span=0.8, peers=early)  # 10.0 s elapsed: 2.5x the others' runs
    assert not SlowWorker().should_stop(normal)
    assert QuorumDeadline(quorum=0.5).should_stop(  # the earlier rule drops it
        AttemptProgress(normal.elapsed_s, completed_s_per_cost=(4.0, 4.0, 4.0), n_tasks=4))


def test_nothing_is_judged_before_the_pace_of_a_quorum_of_the_others_is_known():
    """Running others count (their rate is measured), once their reports span enough."""
    early = (done(10.0), running(10.0, span=0.05), Peer(1.0, 0.5, 0.5))  # 5% of progress; 0.5 s of reports
    p = SlowWorker(quorum=0.5)  # 2 of the 3 others
    assert p.expected_rate_s(attempt(40.0, peers=early)) is None and p.deadline_s(attempt(40.0, peers=early)) is None
    assert not p.should_stop(attempt(40.0, peers=early))
    assert SlowWorker(quorum=0.3).should_stop(attempt(40.0, peers=early))  # 1 of 3 is enough
    assert p.should_stop(attempt(40.0, peers=(running(10.0), running(12.0), running(60.0))))  # none completed


def test_the_rate_needs_enough_progress_and_time():
    p = SlowWorker(min_span=0.1, min_report_s=1.0)
    assert not p.should_stop(attempt(40.0, span=0.05, peers=PEERS))  # 5% of progress: too little
    assert not p.should_stop(attempt(3.0, span=0.2, peers=(done(0.5), done(0.5))))  # 0.6 s of reports
    assert p.should_stop(attempt(3.0, span=0.4, peers=(done(0.5), done(0.5))))
    assert p.expected_rate_s(attempt(1.0, n_tasks=2, peers=(running(1.0, span=0.05),))) is None  # too little
    assert p.expected_rate_s(attempt(1.0, n_tasks=2, peers=(running(1.0, span=0.5),))) is None  # 0.5 s


def test_a_hung_attempt_is_dropped_once_silent_for_several_whole_runs():
    """No report for slow_factor x the expected whole run (the others' 12 s with start-up)."""
    p = SlowWorker(slow_factor=2.5)
    assert p.deadline_s(attempt(10.0, peers=PEERS)) == pytest.approx(2.5 * 13.0)
    assert not p.should_stop(attempt(10.0, peers=PEERS, silent=30.0))
    stop = p.verdict(attempt(10.0, peers=PEERS, silent=33.0))
    assert stop.status == DROPPED and "no progress reported for 33.0 s" in stop.reason
    never = AttemptProgress(33.0, n_tasks=4, peers=PEERS)  # not a single report since its start
    assert p.should_stop(never) and not p.should_stop(AttemptProgress(32.0, n_tasks=4, peers=PEERS))
    starting = AttemptProgress(1e6, n_tasks=4, peers=(running(10.0), running(10.0), running(10.0)))
    assert not p.should_stop(starting)  # start-up: compared with completed runs only


def test_slow_worker_explains_its_deadline():
    assert isinstance(SlowWorker(), ExplainsDeadline)
    assert SlowWorker(min_deadline_s=5.0).deadline_s(attempt(1.0, peers=(done(0.1, total=0.2),) * 3)) == 5.0
