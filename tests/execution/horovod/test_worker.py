"""One task on a worker of a group of one, with a recording link (no Horovod needed)."""
from __future__ import annotations

from adanet_spark.adanet.protocol import CandidateTask
from adanet_spark.execution.horovod.worker import Membership, build_context, run_task
from tests.execution import toys


class Recorder:
    def __init__(self):
        self.sent = []

    def send(self, msg):
        self.sent.append(msg)
        return True


def me():
    return Membership(rank=0, group=0, members=[0], process_set=None)


def info(name, **payload):
    return {"run_id": "r", "task": CandidateTask(1, name, {"name": name, **payload}), "attempt": 1,
            "group": 0, "ranks": [0]}


def run(train_fn):
    return {"train_fn": train_fn, "data": {}, "faults": None}


def test_a_task_reports_started_then_done():
    link = Recorder()
    run_task(me(), link, run(toys.sleepy), "k", info("a", seconds=0.0, steps=1), threads=None)
    kinds = [m[0] for m in link.sent]
    assert kinds[0] == "started" and kinds[-1] == "done"
    assert link.sent[-1][2]["result"]["name"] == "a" and link.sent[-1][2]["worker"].startswith("horovod-rank0")


def test_an_error_is_reported_and_charged():
    link = Recorder()
    run_task(me(), link, run(toys.crashy), "k", info("b"), threads=None)
    kind, key, payload = link.sent[-1]
    assert (kind, key, payload["charge"]) == ("error", "k", True) and "bad candidate b" in payload["error"]


def test_a_task_without_its_run_is_not_charged():
    link = Recorder()
    run_task(me(), link, None, "k", info("c"), threads=None)
    assert link.sent[-1][0] == "error" and link.sent[-1][2]["charge"] is False


def test_a_cancelled_task_stops_and_says_so():
    link, m = Recorder(), me()
    m.cancelled.add("k")
    run_task(m, link, run(toys.sleepy), "k", info("d", seconds=5.0, steps=10), threads=None)
    assert link.sent[-1][0] == "cancelled"


def test_context_of_a_group_of_one():
    link, m, stopped = Recorder(), me(), []
    ctx = build_context(m, link, "k", stopped)
    assert (ctx.rank, ctx.size, ctx.allreduce_) == (0, 1, None)
    ctx.report_progress(0.1)
    ctx.report_progress(0.2)  # within PROGRESS_EVERY_S: dropped
    ctx.report_progress(1.0)  # the end always goes out
    assert [m_[2]["fraction"] for m_ in link.sent] == [0.1, 1.0]
    assert not ctx.should_stop() and stopped == []
    m.cancelled.add("k")
    assert ctx.should_stop() and stopped == [True]
