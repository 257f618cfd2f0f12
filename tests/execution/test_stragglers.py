"""Straggler policies on plain snapshots: no tracker, no clock."""
from __future__ import annotations

import pytest

from adanet_spark.config import StragglerConfig
from adanet_spark.execution.stragglers import (AttemptProgress, ExplainsDeadline, NeverDrop, QuorumDeadline,
                                               StragglerPolicy, policy_for_mode)


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
    with pytest.raises(TypeError):
        StragglerPolicy()


def test_policy_for_mode():
    mine = QuorumDeadline(quorum=0.3)
    assert policy_for_mode("async", mine) is mine
    assert policy_for_mode("async", None) == QuorumDeadline()
    assert policy_for_mode("sync", mine) == NeverDrop()
    with pytest.raises(ValueError, match="async or sync"):
        policy_for_mode("eventually", None)
