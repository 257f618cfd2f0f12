"""The Spark task body outside Spark: errors come back as values; the hub link is optional."""
from __future__ import annotations

import queue

from adanet_spark.adanet.protocol import CandidateTask
from adanet_spark.execution.channel import Hub
from adanet_spark.execution.spark_task import TaskLink, make_task, run_in_task
from tests.execution import toys


def spec(train_fn, name="a", hub=None, **payload):
    return {"train_fn": train_fn, "payload": {"name": name, **payload}, "data": {},
            "task": CandidateTask(1, name, {}), "attempt": 1, "slot": 0, "key": "1:0:1", "faults": None,
            "threads": None, "hub": hub.address if hub else None, "authkey": hub.authkey if hub else None}


def test_result_and_error_come_back_as_values():
    ok = run_in_task(spec(toys.sleepy, seconds=0.0, steps=1))
    assert ok["ok"] and ok["result"]["name"] == "a" and ok["elapsed"] >= 0
    bad = run_in_task(spec(toys.crashy, name="b"))
    assert not bad["ok"] and bad["error"] == "ValueError: bad candidate b" and "crashy" in bad["trace"]


def test_task_drains_its_input_and_yields_one_result():
    assert [out["ok"] for out in make_task(spec(toys.sleepy, seconds=0.0, steps=1))(iter([0]))] == [True]


def test_without_a_hub_progress_goes_nowhere():
    link = TaskLink(spec(toys.sleepy))
    link.report_progress(0.5)  # nothing to send to, and no error
    assert not link.stop.is_set()
    link.close()


def test_with_a_hub_the_task_says_hello_started_and_progress():
    got = queue.Queue()
    hub = Hub(lambda cid, msg: got.put(msg), advertise_host="127.0.0.1")
    try:
        out = run_in_task(spec(toys.sleepy, hub=hub, seconds=0.6, steps=3))
        kinds = [got.get(timeout=5)[0] for _ in range(3)]
    finally:
        hub.close()
    assert out["ok"]
    assert kinds[:2] == ["hello", "started"] and kinds[2] == "progress"
