"""The straggler / retry policy, without Spark: a fake clock drives the tracker."""
from __future__ import annotations

import pytest

from adanet_spark.config import StragglerConfig
from adanet_spark.execution.base import COMPLETED, DROPPED, FAILED, CandidateTask
from adanet_spark.execution.stragglers import IterationTracker, StragglerPolicy


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def tasks(n):
    return [CandidateTask(1, f"c{i}", {}) for i in range(n)]


def start_all(tr):
    out = []
    while tr.has_pending():
        out.append(tr.next_attempt())
    return out


def test_quorum_count_rounds_up():
    p = StragglerPolicy(quorum=0.5)
    assert [p.quorum_count(n) for n in (1, 2, 3, 4, 5)] == [1, 1, 2, 2, 3]
    assert StragglerPolicy(quorum=1.0).quorum_count(4) == 4


def test_no_drop_before_quorum_then_deadline_from_median():
    clock = Clock()
    tr = IterationTracker(tasks(4), StragglerPolicy(quorum=0.5, deadline_factor=1.5, project=False), clock)
    a, b, c, d = start_all(tr)
    clock.t += 10
    assert tr.completed(a.key, "ra").status == COMPLETED
    clock.t += 100  # long, but only 1 of the 2 needed has completed
    assert tr.deadline() is None and tr.stragglers() == []
    clock.t = 100 + 20
    tr.completed(b.key)
    # median(10, 20) = 15 -> deadline 22.5s; c and d have run 20s
    assert tr.deadline() == pytest.approx(22.5)
    assert tr.stragglers() == []
    clock.t = 100 + 23
    assert {x.key for x in tr.stragglers()} == {c.key, d.key}
    out = tr.dropped(c.key)
    assert out.status == DROPPED and out.extra["deadline_s"] == pytest.approx(22.5)
    assert tr.completed(c.key) is None  # a late result of a dropped attempt is ignored
    tr.completed(d.key)
    assert tr.done()


def test_elapsed_counts_from_start_not_from_iteration_start():
    clock = Clock()
    tr = IterationTracker(tasks(2), StragglerPolicy(quorum=0.5, deadline_factor=1.5, project=False), clock)
    a = tr.next_attempt()
    clock.t += 10
    tr.completed(a.key)
    b = tr.next_attempt()  # queued task starts late: its clock starts now
    clock.t += 14
    assert tr.stragglers() == []  # 14 < 15
    clock.t += 2
    assert [x.key for x in tr.stragglers()] == [b.key]


def test_started_event_resets_clock():
    clock = Clock()
    tr = IterationTracker(tasks(2), StragglerPolicy(quorum=0.5, deadline_factor=1.5, project=False), clock)
    a, b = start_all(tr)
    clock.t += 10
    tr.completed(a.key)
    tr.started(b.key, "w1")  # the worker really started only now
    clock.t += 10
    assert tr.stragglers() == []
    assert tr.running()[0].worker == "w1"


def test_projection_drops_early_and_ignores_startup_cost():
    clock = Clock()
    pol = StragglerPolicy(quorum=0.3, deadline_factor=1.5, project=True, min_progress=0.2, min_report_s=0.5)
    tr = IterationTracker(tasks(3), pol, clock)
    a, b, c = start_all(tr)
    clock.t = 104
    tr.completed(a.key)  # median 4s -> deadline 6s
    assert tr.deadline() == pytest.approx(6.0)
    clock.t = 104.5
    tr.progress(b.key, 0.1)
    tr.progress(c.key, 0.02)
    clock.t = 105
    tr.progress(b.key, 0.6)  # slow start-up, then 1.0/s: done at ~5.4s (elapsed/p would say 8.3s)
    tr.progress(c.key, 0.22)  # 0.4/s: done at ~6.95s
    assert [x.key for x in tr.stragglers()] == [c.key]  # elapsed 5s < 6s: caught by projection only
    assert c.projected_total() == pytest.approx(6.95) and b.projected_total() == pytest.approx(5.4)


def test_projection_needs_enough_progress():
    clock = Clock()
    pol = StragglerPolicy(quorum=0.5, deadline_factor=1.5, project=True, min_progress=0.2)
    tr = IterationTracker(tasks(2), pol, clock)
    a, b = start_all(tr)
    tr.progress(b.key, 0.01)
    clock.t += 2
    tr.progress(b.key, 0.1)  # projected ~20s, but only 10% done: no decision yet
    tr.completed(a.key)  # deadline 3s
    clock.t += 0.5
    assert tr.stragglers() == []


def test_retry_then_fail():
    tr = IterationTracker(tasks(2), StragglerPolicy(max_retries=1), Clock())
    a, b = start_all(tr)
    assert tr.failed(a.key, "boom 1") is None  # queued again
    assert tr.has_pending()
    a2 = tr.next_attempt()
    assert a2.number == 2 and a2.task.name == "c0"
    out = tr.failed(a2.key, "boom 2")
    assert out.status == FAILED and out.error == "boom 2" and out.attempts == 2
    assert out.extra["earlier_errors"] == ["boom 1"]
    tr.completed(b.key)
    assert tr.done()


def test_uncharged_failure_is_requeued_first_without_counting():
    tr = IterationTracker(tasks(3), StragglerPolicy(max_retries=0), Clock())
    a = tr.next_attempt()
    assert tr.failed(a.key, "pool torn down", charge=False) is None
    again = tr.next_attempt()
    assert again.task.name == "c0" and again.number == 1


def test_sync_policy_never_drops():
    clock = Clock()
    tr = IterationTracker(tasks(2), StragglerPolicy(drop=False), clock)
    a, b = start_all(tr)
    clock.t += 1
    tr.completed(a.key)
    clock.t += 1000
    assert tr.stragglers() == [] and tr.deadline() is None


def test_from_config():
    p = StragglerPolicy.from_config(StragglerConfig(quorum=0.75, deadline_factor=2.0, max_retries=3), drop=False)
    assert (p.quorum, p.deadline_factor, p.max_retries, p.drop) == (0.75, 2.0, 3, False)


def test_deadline_has_a_floor():
    clock = Clock()
    tr = IterationTracker(tasks(2), StragglerPolicy(quorum=0.5, min_deadline_s=1.0), clock)
    a, b = start_all(tr)
    clock.t += 0.02
    tr.completed(a.key)
    clock.t += 0.5
    assert tr.deadline() == 1.0 and tr.stragglers() == []


def test_waits_for_reported_start_within_grace():
    clock = Clock()
    tr = IterationTracker(tasks(2), StragglerPolicy(quorum=0.5, start_grace_s=30.0), clock,
                          expect_started=True)
    a, b = start_all(tr)
    tr.started(a.key)
    clock.t += 2
    tr.completed(a.key)  # deadline 3s
    clock.t += 10
    assert tr.stragglers() == []  # b has not started on its worker yet
    tr.started(b.key)
    clock.t += 3.5
    assert [x.key for x in tr.stragglers()] == [b.key]


def test_deadline_scales_with_task_cost():
    """A candidate twice as big may take twice as long before it counts as a straggler."""
    clock = Clock()
    work = [CandidateTask(1, "small", {}, cost=1.0), CandidateTask(1, "small2", {}, cost=1.0),
            CandidateTask(1, "big", {}, cost=2.0), CandidateTask(1, "slow", {}, cost=1.0)]
    tr = IterationTracker(work, StragglerPolicy(quorum=0.5, deadline_factor=1.5, project=False), clock)
    a, b, big, slow = start_all(tr)
    clock.t += 10
    tr.completed(a.key)
    tr.completed(b.key)
    assert tr.deadline(big.task) == pytest.approx(30.0) and tr.deadline(slow.task) == pytest.approx(15.0)
    clock.t += 10  # both have run 20 s: the slow unit-cost one is late, the big one is not
    assert [x.key for x in tr.stragglers()] == [slow.key]
    clock.t += 11
    assert {x.key for x in tr.stragglers()} == {slow.key, big.key}
