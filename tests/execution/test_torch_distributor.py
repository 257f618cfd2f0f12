"""TorchDistributor backend on the real local[2] session: pyspark's TorchDistributor, torchrun,
gloo; async order, job groups, data-parallel groups, stragglers, retries."""
from __future__ import annotations

import time

import pytest
import torch

from adanet_spark.adanet.protocol import COMPLETED, DROPPED, FAILED, CandidateTask, TrainContext
from adanet_spark.config import load_config
from adanet_spark.errors import BadInputError
from adanet_spark.execution.factory import make_executor
from adanet_spark.execution.faults import Fault, FaultPlan
from adanet_spark.execution.stragglers import NeverDrop, QuorumDeadline
from adanet_spark.execution.torch_distributor import TorchDistributorExecutor
from tests.execution import toys


def _tasks(spec, iteration=1):
    return [CandidateTask(iteration, name, {"name": name, "seconds": s, "steps": 10}) for name, s in spec]


def _timed(outcomes):
    t0 = time.monotonic()
    return [(time.monotonic() - t0, o) for o in outcomes]


def _group_jobs(sc, executor, seq):
    """Status of the Spark jobs of the executor's ``seq``-th attempt's job group."""
    tracker = sc.statusTracker()
    return [tracker.getJobInfo(j).status for j in tracker.getJobIdsForGroup(f"adanet-{executor.executor_id}-{seq}")]


def test_candidates_run_concurrently_in_their_own_job_groups(exec_spark, parquet_data):
    with TorchDistributorExecutor(exec_spark, workers=2, policy=NeverDrop()) as ex:
        got = _timed(ex.run(_tasks([("slow", 6.0), ("fast", 0.2)]), toys.sleepy, parquet_data))
    names = [o.task.name for _, o in got]
    assert names == ["fast", "slow"]  # no barrier across candidates: fast is yielded first
    assert got[1][0] - got[0][0] > 2.0
    for _, o in got:
        assert o.status == COMPLETED and o.result["rows"] == 400  # the rank loaded the ParquetSplit
        assert o.result["size"] == 1 and o.worker.startswith("torch-slot")
    groups = {o.extra["job_group"] for _, o in got}
    assert len(groups) == 2
    for seq in (0, 1):
        assert _group_jobs(exec_spark.sparkContext, ex, seq) == ["SUCCEEDED"]


def test_a_group_of_two_ranks_trains_like_one_process_on_all_rows(exec_spark, parquet_data):
    payload = {"name": "dp", "steps": 15, "lr": 0.5, "grouped": True, "seed": 3}
    alone = toys.tiny_torch(payload, parquet_data, TrainContext())
    with TorchDistributorExecutor(exec_spark, workers=2, group_size=2, policy=NeverDrop()) as ex:
        (out,) = list(ex.run([CandidateTask(1, "dp", payload)], toys.tiny_torch, parquet_data))
    assert out.status == COMPLETED, out.error
    r = out.result
    assert (r["rank"], r["size"], r["rows"]) == (0, 2, 200)  # rank 0 trained on its half
    # Gradients averaged over two equal halves are the full batch's: the same weights.
    assert torch.allclose(r["w"], alone["w"], atol=1e-5), (r["w"], alone["w"])


def test_straggler_dropped_and_its_job_group_cancelled(exec_spark):
    plan = FaultPlan.of([Fault(candidate="slow", slow_factor=40.0)])
    pol = QuorumDeadline(quorum=0.5, deadline_factor=2.0)
    with TorchDistributorExecutor(exec_spark, workers=2, policy=pol, max_retries=0, faults=plan) as ex:
        out = {o.task.name: o for o in ex.run(_tasks([("slow", 1.5), ("f1", 1.5), ("f2", 1.5)]), toys.sleepy, {})}
    assert out["slow"].status == DROPPED and out["slow"].worker.startswith("torch-slot0/")
    assert out["f1"].status == COMPLETED and out["f2"].status == COMPLETED
    assert _group_jobs(exec_spark.sparkContext, ex, 0) == ["FAILED"]  # "slow" went first: cancelled


def test_killed_rank_retried_and_always_failing_reported(exec_spark):
    plan = FaultPlan.of([Fault(candidate="killme", fail="kill"), Fault(candidate="bad", fail="always")])
    with TorchDistributorExecutor(exec_spark, workers=2, policy=NeverDrop(), max_retries=1, faults=plan) as ex:
        out = {o.task.name: o for o in ex.run(_tasks([("killme", 0.3), ("bad", 0.1)]), toys.sleepy, {})}
    assert out["killme"].status == COMPLETED and out["killme"].attempts == 2
    assert "Spark job failed" in out["killme"].extra["earlier_errors"][0]
    assert out["bad"].status == FAILED and out["bad"].attempts == 2
    assert "injected failure (always)" in out["bad"].error


def test_a_group_larger_than_a_local_master_is_refused(exec_spark):
    with pytest.raises(BadInputError, match="'training.group_size' is 3, but Spark master local"):
        TorchDistributorExecutor(exec_spark, workers=3, group_size=3)


def test_the_factory_builds_it_from_the_training_section(exec_spark):
    cfg = load_config(overrides=["training.backend=torch_distributor", "training.workers=4", "training.group_size=2",
                                 "training.use_gpu=true", "straggler.max_retries=3"])
    with make_executor(cfg, exec_spark) as ex:
        assert isinstance(ex, TorchDistributorExecutor)
        assert (ex.group_size, ex.workers, ex.use_gpu, ex.max_retries) == (2, 2, True, 3)  # 2 groups of 2 ranks
