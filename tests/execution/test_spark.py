"""Spark backend on a real local[2] session: async order, stragglers, retries, sync."""
from __future__ import annotations

import time

from adanet_spark.adanet.protocol import COMPLETED, DROPPED, FAILED, CandidateTask
from adanet_spark.execution.faults import Fault, FaultPlan
from adanet_spark.execution.spark import SparkExecutor
from adanet_spark.execution.stragglers import NeverDrop, QuorumDeadline
from tests.execution import toys


def _tasks(spec, iteration=1):
    return [CandidateTask(iteration, name, {"name": name, "seconds": s, "steps": 10}) for name, s in spec]


def _consume(outcomes):
    t0 = time.monotonic()
    got = []
    for o in outcomes:
        got.append((time.monotonic() - t0, o))
    return got


def test_async_yields_as_they_finish_and_loads_data_on_the_task(exec_spark, parquet_data):
    with SparkExecutor(exec_spark, workers=2, policy=NeverDrop()) as ex:
        got = _consume(ex.run(_tasks([("slow", 4.0), ("fast", 0.2)]), toys.sleepy, parquet_data))
    names = [o.task.name for _, o in got]
    assert names == ["fast", "slow"]
    assert got[1][0] - got[0][0] > 2.0  # fast was yielded well before slow finished
    for _, o in got:
        assert o.status == COMPLETED and o.result["rows"] == 400  # ParquetSplit loaded in the task
        assert o.worker.startswith("spark-slot")


def test_straggler_dropped_slot_reused(exec_spark):
    plan = FaultPlan.of([Fault(candidate="slow", slow_factor=40.0)])
    pol = QuorumDeadline(quorum=0.4, deadline_factor=2.0)
    tasks = _tasks([("slow", 1.5), ("f1", 1.5), ("f2", 1.5), ("f3", 1.5), ("f4", 1.5)])
    t0 = time.monotonic()
    with SparkExecutor(exec_spark, workers=2, policy=pol, max_retries=0, faults=plan) as ex:
        got = _consume(ex.run(tasks, toys.sleepy, {}))
    wall = time.monotonic() - t0
    out = {o.task.name: o for _, o in got}
    assert out["slow"].status == DROPPED
    assert all(out[f"f{i}"].status == COMPLETED for i in range(1, 5))
    assert wall < 45  # the slowed candidate alone would take 60s
    slow_slot = out["slow"].worker.split("/")[0]
    dropped_at = next(t for t, o in got if o.task.name == "slow")
    # a candidate launched after the drop ran on the slot the straggler held
    later = [o for t, o in got if t > dropped_at and o.worker.startswith(slow_slot)]
    assert later, [(round(t, 1), o.task.name, o.worker) for t, o in got]


def test_killed_worker_retried_and_always_failing_reported(exec_spark):
    plan = FaultPlan.of([Fault(candidate="killme", fail="kill"), Fault(candidate="bad", fail="always")])
    with SparkExecutor(exec_spark, workers=2, policy=NeverDrop(), max_retries=1, faults=plan) as ex:
        out = {o.task.name: o for o in ex.run(_tasks([("killme", 0.3), ("bad", 0.1), ("ok", 0.3)]),
                                              toys.sleepy, {})}
    assert out["killme"].status == COMPLETED and out["killme"].attempts == 2
    assert "Spark job failed" in out["killme"].extra["earlier_errors"][0]
    assert out["bad"].status == FAILED and out["bad"].attempts == 2
    assert "injected failure (always)" in out["bad"].error
    assert out["ok"].status == COMPLETED


def test_sync_waits_for_every_candidate_and_never_drops(exec_spark):
    plan = FaultPlan.of([Fault(candidate="slow", slow_factor=8.0)])
    pol = QuorumDeadline(quorum=0.3, deadline_factor=1.0)
    with SparkExecutor(exec_spark, workers=2, mode="sync", policy=pol, max_retries=0, faults=plan) as ex:
        got = _consume(ex.run(_tasks([("slow", 0.5), ("a", 0.2), ("b", 0.2)]), toys.sleepy, {}))
    assert [o.status for _, o in got] == [COMPLETED] * 3
    times = [t for t, _ in got]
    assert max(times) - min(times) < 0.5  # all yielded together, after the last one ended
    assert {o.task.name for _, o in got} == {"slow", "a", "b"}
    # the slowed one ran ~4s, far past 1x the median: sync mode kept it
    assert next(o for _, o in got if o.task.name == "slow").elapsed_s > 3.0
