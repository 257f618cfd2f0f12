"""Horovod-on-Spark backend with real Horovod (Gloo) workers on local[2].

One async pool (2 workers, groups of 1) serves the first tests in order, so the
workers start once for all of them; a second executor checks data-parallel
groups in sync mode.
"""
from __future__ import annotations

import time

import pytest
import torch

from adanet_spark.adanet.protocol import COMPLETED, DROPPED, FAILED, CandidateTask, TrainContext
from adanet_spark.errors import BadInputError
from adanet_spark.execution.faults import Fault, FaultPlan
from adanet_spark.execution.horovod import HorovodExecutor, group_layout
from adanet_spark.execution.stragglers import QuorumDeadline
from tests.execution import toys

# Horovod's own Spark thread reports the cancelled job of a pool we restart or stop.
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")


def _tasks(spec, iteration=1, steps=20):
    return [CandidateTask(iteration, name, {"name": name, "seconds": s, "steps": steps}) for name, s in spec]


@pytest.fixture(scope="module")
def pool(exec_spark):
    plan = FaultPlan.of([Fault(candidate="slow", slow_factor=60.0), Fault(candidate="killme", fail="kill"),
                         Fault(candidate="bad", fail="always")])
    ex = HorovodExecutor(exec_spark, workers=2, group_size=1, mode="async", faults=plan,
                         policy=QuorumDeadline(quorum=0.4, deadline_factor=1.5), max_retries=1)
    yield ex
    ex.close()


def test_group_layout():
    assert group_layout(4, 1, "async") == [[0], [1], [2], [3]]
    assert group_layout(4, 2, "async") == [[0, 1], [2, 3]]
    assert group_layout(5, 2, "async") == [[0, 1], [2, 3]]  # rank 4 idle
    assert group_layout(4, 2, "sync") == [[0, 1, 2, 3]]


def test_async_drops_straggler_and_reuses_its_worker(pool):
    tasks = _tasks([("slow", 1.0), ("f1", 1.0), ("f2", 1.0), ("f3", 1.0), ("f4", 1.0)])
    t0 = time.monotonic()
    got = [(time.monotonic() - t0, o) for o in pool.run(tasks, toys.sleepy, {})]
    out = {o.task.name: o for _, o in got}
    assert out["slow"].status == DROPPED, [(o.task.name, o.status, round(o.elapsed_s, 2)) for _, o in got]
    assert all(out[f"f{i}"].status == COMPLETED for i in range(1, 5))
    assert [o.task.name for _, o in got][0] == "f1"  # yielded as it finished, before the slow one
    assert time.monotonic() - t0 < 30  # the slowed candidate alone would take 60s
    slow_worker = out["slow"].worker
    dropped_at = next(t for t, o in got if o.task.name == "slow")
    assert any(t > dropped_at and o.worker == slow_worker for t, o in got), \
        [(round(t, 2), o.task.name, o.worker) for t, o in got]
    assert pool.stats["pool_starts"] == 1


def test_workers_start_once_across_runs(pool):
    pids = pool.worker_pids()
    assert len(pids) == 2
    quick = _tasks([(f"q{i}", 0.0) for i in range(4)], iteration=2, steps=1)
    t0 = time.monotonic()
    out = list(pool.run(quick, toys.sleepy, {}))
    overhead = time.monotonic() - t0
    assert [o.status for o in out] == [COMPLETED] * 4
    assert {o.result["pid"] for o in out} == set(pids)
    assert pool.worker_pids() == pids and pool.stats["pool_starts"] == 1
    assert overhead < 3.0, pool.stats["iterations"]


def test_killed_worker_retried_and_always_failing_reported(pool):
    tasks = _tasks([("killme", 0.3), ("bad", 0.1), ("ok", 0.3)], iteration=3)
    out = {o.task.name: o for o in pool.run(tasks, toys.sleepy, {})}
    assert out["killme"].status == COMPLETED and out["killme"].attempts == 2
    assert "worker process died" in out["killme"].extra["earlier_errors"][0]
    assert out["bad"].status == FAILED and out["bad"].attempts == 2
    assert "injected failure (always)" in out["bad"].error
    assert out["ok"].status == COMPLETED
    # the pool lost a worker: the next iteration gets a full pool again
    out = list(pool.run(_tasks([("after", 0.0)], iteration=4, steps=1), toys.sleepy, {}))
    assert out[0].status == COMPLETED and len(pool.worker_pids()) == 2
    assert pool.stats["pool_starts"] == 2


def test_close_shuts_workers_down(pool):
    t0 = time.monotonic()
    pool.close()  # frees the two local[2] slots for the next executor
    assert time.monotonic() - t0 < 30
    assert pool.pool.ended.is_set() and pool.worker_pids() == []


def test_sync_mode_trains_data_parallel_like_one_process(exec_spark, parquet_data):
    # lr1's group loses a member (rank 1 killed) on the first attempt: the group cannot
    # finish, the pool is restarted and the candidate retried.
    plan = FaultPlan.of([Fault(candidate="lr1", worker=1, fail="kill")])
    tasks = [CandidateTask(1, f"lr{i}", {"name": f"lr{i}", "seed": i, "steps": 15, "lr": 0.5, "grouped": i == 2})
             for i in range(3)]  # lr2 averages its gradients in one grouped allreduce
    with HorovodExecutor(exec_spark, workers=2, mode="sync", faults=plan, max_retries=1) as ex:
        t0 = time.monotonic()
        got = [(time.monotonic() - t0, o) for o in ex.run(tasks, toys.tiny_torch, parquet_data)]
        assert ex.stats["pool_starts"] == 2
    assert [o.status for _, o in got] == [COMPLETED] * 3
    assert got[-1][0] - got[0][0] < 0.5  # sync: yielded together at the end
    retried = next(o for _, o in got if o.task.name == "lr1")
    assert retried.attempts == 2 and "worker process died" in retried.extra["earlier_errors"][0]
    for _, o in got:
        assert o.result["size"] == 2 and o.result["rows"] == 200  # each rank trained on its half
        # averaged gradients of two equal halves = the full-batch gradient: same weights as one process
        alone = toys.tiny_torch(o.task.payload, parquet_data, TrainContext())
        assert torch.allclose(o.result["w"], alone["w"], atol=1e-5)


def test_more_workers_than_local_slots_is_refused(exec_spark):
    with pytest.raises(BadInputError, match="training.workers"):
        HorovodExecutor(exec_spark, workers=exec_spark.sparkContext.defaultParallelism + 1)
