"""The iteration tracker with a fake clock: queue order, retries, stragglers and pruning by the policy."""
from __future__ import annotations

import math

import pytest

from adanet_spark.adanet.protocol import COMPLETED, DROPPED, FAILED, PRUNED, CandidateTask
from adanet_spark.execution.policy import ProgressPolicy
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
    big, a, b, slow = start_all(tr)  # the most expensive first
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


# ---------------------------------------------------------------- the default policy, through the tracker
def costed(*costs):
    return [CandidateTask(1, f"c{i}", {}, cost=c) for i, c in enumerate(costs)]


def test_the_most_expensive_candidates_are_launched_first():
    tr = IterationTracker(costed(1.0, 8.0, 2.0, 8.0, 4.0), NeverDrop(), max_retries=1, clock=Clock())
    first = tr.next_attempt()
    assert first.task.name == "c1"
    assert tr.failed(first.key, "boom") is None  # a retry still goes to the back
    assert [tr.next_attempt().task.name for _ in range(5)] == ["c3", "c4", "c2", "c0", "c1"]


def advance(tr, clock, atts, pace, seconds, losses=None, step=0.05):
    """Run the fake clock ``seconds`` on in 0.1 s ticks. Each attempt reports its progress (time
    since its launch / its ``pace``, in seconds per budget) at every ``step`` of it, with the
    validation loss ``losses[name](fraction)`` (None without); after each tick the policy is
    asked, as the driver does. Returns the keys it wanted stopped, in order."""
    losses, flagged = losses or {}, []
    end = clock.t + seconds
    while True:
        for a in atts:
            f = math.floor(min(1.0, (clock.t - a.launched_at) / pace[a.task.name]) / step + 1e-6) * step
            if a.progress_at is None or f > a.progress + 1e-9:
                tr.progress(a.key, f, losses[a.task.name](f) if a.task.name in losses else None)
        flagged += [x.key for x in tr.stragglers() if x.key not in flagged]
        if clock.t >= end - 1e-9:
            return flagged
        clock.t = round(clock.t + 0.1, 6)


def test_a_4x_slowed_worker_is_dropped_and_a_big_candidate_is_not():
    clock = Clock()
    tr = IterationTracker(costed(1.0, 4.0, 1.0, 1.0), ProgressPolicy(), clock=clock)
    big, a, b, slow = start_all(tr)
    assert big.task.name == "c1"
    pace = {"c1": 40.0, "c0": 10.0, "c2": 12.0, "c3": 44.0}  # the big one: 4x the cost, 4x the time
    assert advance(tr, clock, [big, a, b, slow], pace, 4.3) == []  # slow: reports over 5% of its budget
    assert advance(tr, clock, [big, a, b, slow], pace, 0.1) == [slow.key]  # 10%: judged while the others run
    out = tr.dropped(slow.key)
    assert out.status == DROPPED and "3.7x slower than expected" in out.error and out.extra["deadline_s"] > 0
    assert advance(tr, clock, [big, a, b], pace, 5.6) == []
    tr.completed(a.key)
    assert advance(tr, clock, [big, b], pace, 2.0) == []
    tr.completed(b.key)
    assert advance(tr, clock, [big], pace, 28.0) == []
    assert tr.completed(big.key).status == COMPLETED


def test_a_hung_candidate_is_dropped_a_slower_improving_one_kept_a_stalled_learner_pruned():
    """The issue's case. A bigger candidate learns on at a slower pace; one worker hangs
    (no report after the first); one candidate's validation loss stalls."""
    clock = Clock()
    tr = IterationTracker(costed(2.0, 1.0, 1.0, 1.0, 1.0), ProgressPolicy(), clock=clock)
    slower, a, b, hung, stalled = start_all(tr)
    losses = {"c0": lambda f: 0.69 - 0.25 * f, "c1": lambda f: 0.69 - 0.2 * f, "c2": lambda f: 0.69 - 0.2 * f,
              "c4": lambda f: max(0.66, 0.69 - 0.2 * f)}
    pace = {"c0": 20.0, "c1": 10.0, "c2": 10.0, "c3": 10.0, "c4": 10.0}
    assert advance(tr, clock, [slower, a, b, hung, stalled], pace, 0.0, losses) == []
    assert advance(tr, clock, [slower, a, b, stalled], pace, 10.0, losses) == [stalled.key]
    pruned = tr.dropped(stalled.key)
    assert pruned.status == PRUNED and pruned.error.startswith("pruned: validation loss 0.6600 at 50% of")
    assert "deadline_s" not in pruned.extra and tr.peers(slower.index)[-1].checks  # its curve still counts
    tr.completed(a.key)
    tr.completed(b.key)
    assert advance(tr, clock, [slower], pace, 9.9, losses) == []  # hung: silent for 19.9 s, 20 s allowed
    assert advance(tr, clock, [slower], pace, 0.2, losses) == [hung.key]
    assert "no progress reported for 20.1 s (allowed 20.0 s)" in tr.dropped(hung.key).error
    assert advance(tr, clock, [slower], pace, 0.1, losses) == [] and tr.completed(slower.key).status == COMPLETED
    assert tr.done()


def test_a_normal_run_drops_nothing():
    """Costs from 1 to 8, times not proportional to them, early stopping, two slots:
    no candidate is stopped."""
    clock = Clock()
    tr = IterationTracker(costed(1.0, 8.0, 2.0, 4.0, 1.0, 2.0), ProgressPolicy(), clock=clock)
    pace = {"c1": 30.0, "c3": 18.0, "c2": 12.0, "c5": 13.0, "c0": 9.0, "c4": 11.0}
    losses = {n: (lambda f, d=0.004 * i: 0.69 - (0.2 + d) * f) for i, n in enumerate(sorted(pace))}
    slots, order = [tr.next_attempt(), tr.next_attempt()], []
    while slots:
        assert advance(tr, clock, slots, pace, 0.5, losses) == []
        for att in [x for x in slots if x.progress >= (0.6 if x.task.name == "c2" else 1.0)]:  # c2 stops early
            assert tr.completed(att.key).status == COMPLETED
            order.append(att.task.name)
            slots.remove(att)
            slots += [tr.next_attempt()] if tr.has_pending() else []
    assert tr.done() and order == ["c3", "c2", "c1", "c5", "c0", "c4"]
