"""The iteration tracker with a fake clock: queue order, retries, stragglers by the policy."""
from __future__ import annotations

import pytest

from adanet_spark.adanet.protocol import COMPLETED, DROPPED, FAILED, CandidateTask
from adanet_spark.execution.stragglers import NeverDrop, QuorumDeadline
from adanet_spark.execution.tracker import IterationTracker


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


def test_no_drop_before_quorum_then_deadline_from_median():
    clock = Clock()
    tr = IterationTracker(tasks(4), QuorumDeadline(quorum=0.5, deadline_factor=1.5, project=False), clock=clock)
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
    tr = IterationTracker(tasks(2), QuorumDeadline(quorum=0.5, deadline_factor=1.5, project=False), clock=clock)
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
    tr = IterationTracker(tasks(2), QuorumDeadline(quorum=0.5, deadline_factor=1.5, project=False), clock=clock)
    a, b = start_all(tr)
    clock.t += 10
    tr.completed(a.key)
    tr.started(b.key, "w1")  # the worker really started only now
    clock.t += 10
    assert tr.stragglers() == []
    assert tr.running()[0].worker == "w1"


def test_projection_drops_early_and_ignores_startup_cost():
    clock = Clock()
    pol = QuorumDeadline(quorum=0.3, deadline_factor=1.5, project=True, min_progress=0.2, min_report_s=0.5)
    tr = IterationTracker(tasks(3), pol, clock=clock)
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
    assert tr.snapshot(c).projected_total_s == pytest.approx(6.95)  # what the policy saw


def test_projection_needs_enough_progress():
    clock = Clock()
    pol = QuorumDeadline(quorum=0.5, deadline_factor=1.5, project=True, min_progress=0.2)
    tr = IterationTracker(tasks(2), pol, clock=clock)
    a, b = start_all(tr)
    tr.progress(b.key, 0.01)
    clock.t += 2
    tr.progress(b.key, 0.1)  # projected ~20s, but only 10% done: no decision yet
    tr.completed(a.key)  # deadline 3s
    clock.t += 0.5
    assert tr.stragglers() == []


def test_retry_then_fail():
    tr = IterationTracker(tasks(2), QuorumDeadline(), max_retries=1, clock=Clock())
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


def test_retry_goes_to_the_back_of_the_queue():
    tr = IterationTracker(tasks(3), NeverDrop(), max_retries=1, clock=Clock())
    a = tr.next_attempt()
    assert tr.failed(a.key, "boom") is None
    assert [tr.next_attempt().task.name for _ in range(3)] == ["c1", "c2", "c0"]


def test_uncharged_failure_is_requeued_first_without_counting():
    tr = IterationTracker(tasks(3), QuorumDeadline(), max_retries=0, clock=Clock())
    a = tr.next_attempt()
    assert tr.failed(a.key, "pool torn down", charge=False) is None
    again = tr.next_attempt()
    assert again.task.name == "c0" and again.number == 1


def test_sync_policy_never_drops():
    clock = Clock()
    tr = IterationTracker(tasks(2), NeverDrop(), clock=clock)
    a, b = start_all(tr)
    clock.t += 1
    tr.completed(a.key)
    clock.t += 1000
    assert tr.stragglers() == [] and tr.deadline() is None


def test_deadline_has_a_floor():
    clock = Clock()
    tr = IterationTracker(tasks(2), QuorumDeadline(quorum=0.5, min_deadline_s=1.0), clock=clock)
    a, b = start_all(tr)
    clock.t += 0.02
    tr.completed(a.key)
    clock.t += 0.5
    assert tr.deadline() == 1.0 and tr.stragglers() == []


@pytest.mark.parametrize("grace,wait,started_late", [
    (30.0, 10.0, True),  # within the grace: not judged until it reports its start
    (5.0, 2.0, False),  # past the grace: its clock counts from the launch
])
def test_unstarted_attempt_is_judged_only_after_its_start_or_the_grace(grace, wait, started_late):
    clock = Clock()
    tr = IterationTracker(tasks(2), QuorumDeadline(quorum=0.5), clock=clock, expect_started=True,
                          start_grace_s=grace)
    a, b = start_all(tr)
    tr.started(a.key)
    clock.t += 2
    tr.completed(a.key)  # deadline 3s
    clock.t += wait
    assert tr.stragglers() == []  # b has not started yet, or is still within the grace
    if started_late:
        tr.started(b.key)
    clock.t += 3.5 if started_late else 1.5
    assert [x.key for x in tr.stragglers()] == [b.key]


def test_deadline_scales_with_task_cost():
    """A candidate twice as big may take twice as long before it counts as a straggler."""
    clock = Clock()
    work = [CandidateTask(1, "small", {}, cost=1.0), CandidateTask(1, "small2", {}, cost=1.0),
            CandidateTask(1, "big", {}, cost=2.0), CandidateTask(1, "slow", {}, cost=1.0)]
    tr = IterationTracker(work, QuorumDeadline(quorum=0.5, deadline_factor=1.5, project=False), clock=clock)
    a, b, big, slow = start_all(tr)
    clock.t += 10
    tr.completed(a.key)
    tr.completed(b.key)
    assert tr.deadline(big.task) == pytest.approx(30.0) and tr.deadline(slow.task) == pytest.approx(15.0)
    clock.t += 10  # both have run 20 s: the slow unit-cost one is late, the big one is not
    assert [x.key for x in tr.stragglers()] == [slow.key]
    clock.t += 11
    assert {x.key for x in tr.stragglers()} == {slow.key, big.key}


def test_abandon_forgets_running_and_pending():
    tr = IterationTracker(tasks(3), NeverDrop(), clock=Clock())
    a = tr.next_attempt()
    assert [x.key for x in tr.abandon()] == [a.key]
    assert not tr.has_pending() and tr.running() == []
    assert tr.completed(a.key) is None  # a late result after giving up is ignored
