"""The shared driver loop on a scripted in-memory backend and a fake clock."""
from __future__ import annotations

import queue

from adanet_spark.adanet.protocol import COMPLETED, DROPPED, FAILED, CandidateTask
from adanet_spark.execution.driver import SlotBackend, drive
from adanet_spark.execution.stragglers import NeverDrop, QuorumDeadline
from adanet_spark.execution.tracker import IterationTracker


class Ticking:
    """A clock that moves one second each time it is read."""

    def __init__(self):
        self.t = 0.0

    def __call__(self):
        self.t += 1.0
        return self.t


class Scripted(SlotBackend):
    """Each launch answers at once from ``script(attempt)``: (kind, info), or None to keep running."""

    def __init__(self, slots, script):
        self.events = queue.Queue()
        self.free = list(range(slots))
        self.script = script
        self.launched, self.cancelled = [], []

    def free_slots(self):
        return list(self.free)

    def launch(self, att, slot):
        self.free.remove(slot)
        self.launched.append((att.task.name, att.number))
        answer = self.script(att)
        if answer is not None:
            self.events.put((answer[0], att.key, answer[1]))
            self.free.append(slot)

    def cancel(self, att):
        self.cancelled.append(att.task.name)


def tasks(*names):
    return [CandidateTask(1, n, {}) for n in names]


def done(att):
    return "done", {"result": att.task.name, "worker": "w"}


def test_outcomes_in_order_of_events_with_retries():
    def script(att):
        if att.task.name == "flaky" and att.number == 1:
            return "error", {"error": "boom", "worker": "w"}
        if att.task.name == "bad":
            return "error", {"error": "always", "worker": "w"}
        return done(att)

    backend = Scripted(1, script)
    tracker = IterationTracker(tasks("a", "flaky", "bad", "b"), NeverDrop(), max_retries=1, clock=Ticking())
    out = list(drive(tracker, backend, poll_s=0.001))
    assert [(o.task.name, o.status, o.attempts) for o in out] == [
        ("a", COMPLETED, 1), ("b", COMPLETED, 1), ("flaky", COMPLETED, 2), ("bad", FAILED, 2)]
    assert out[2].extra["earlier_errors"] == ["boom"] and out[3].error == "always"
    assert backend.launched[:4] == [("a", 1), ("flaky", 1), ("bad", 1), ("b", 1)]  # retries at the back


def test_uncharged_error_is_retried_without_counting():
    def script(att):
        if att.task.name == "a" and len(backend.launched) == 1:
            return "error", {"error": "group torn down", "charge": False}
        return done(att)

    backend = Scripted(1, script)
    out = list(drive(IterationTracker(tasks("a"), NeverDrop(), max_retries=0, clock=Ticking()), backend,
                     poll_s=0.001))
    assert [(o.status, o.attempts) for o in out] == [(COMPLETED, 1)]


def test_hold_yields_everything_at_the_end():
    backend = Scripted(2, done)
    gen = drive(IterationTracker(tasks("a", "b", "c"), NeverDrop(), clock=Ticking()), backend, hold=True,
                poll_s=0.001)
    first = next(gen)
    assert len(backend.launched) == 3  # all had ended before the first outcome came out
    assert [first.task.name] + [o.task.name for o in gen] == ["a", "b", "c"]


def test_straggler_is_cancelled_and_dropped():
    backend = Scripted(2, lambda att: None if att.task.name == "slow" else done(att))
    tracker = IterationTracker(tasks("slow", "a", "b"), QuorumDeadline(quorum=0.3, min_deadline_s=0.0),
                               clock=Ticking())
    out = {o.task.name: o for o in drive(tracker, backend, poll_s=0.001)}
    assert out["slow"].status == DROPPED and backend.cancelled == ["slow"]
    assert out["a"].status == out["b"].status == COMPLETED


def test_stopping_early_cancels_what_still_runs():
    backend = Scripted(2, lambda att: None if att.task.name == "stuck" else done(att))
    gen = drive(IterationTracker(tasks("stuck", "a"), NeverDrop(), clock=Ticking()), backend, poll_s=0.001)
    assert next(gen).task.name == "a"
    gen.close()
    assert backend.cancelled == ["stuck"]
