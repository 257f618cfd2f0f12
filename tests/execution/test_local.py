"""The in-process executor: retries and faults, cooperative drops, the split cache."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from adanet_spark.adanet.protocol import COMPLETED, DROPPED, FAILED, CandidateTask
from adanet_spark.data.tensors import TensorData
from adanet_spark.execution import split_cache
from adanet_spark.execution.faults import Fault, FaultPlan
from adanet_spark.execution.local import LocalExecutor
from adanet_spark.execution.stragglers import NeverDrop, QuorumDeadline
from tests.execution import toys

LOADS = []


@dataclass(frozen=True)
class CountingSplit:
    """A hashable split reference (like ParquetSplit) that counts its reads."""

    name: str
    rows: int = 5

    def load(self) -> TensorData:
        LOADS.append(self.name)
        return TensorData(torch.zeros(self.rows, 1), torch.zeros(self.rows, 0, dtype=torch.long),
                          torch.zeros(self.rows))


def test_local_executor_faults_and_retries():
    plan = FaultPlan.of([Fault(candidate="killme", fail="kill"), Fault(candidate="bad", fail="always"),
                         Fault(candidate="flaky", fail="raise")])
    ex = LocalExecutor(policy=NeverDrop(), max_retries=1, faults=plan)
    tasks = [CandidateTask(1, n, {"name": n, "seconds": 0.01, "steps": 1}) for n in ("killme", "bad", "flaky", "ok")]
    out = {o.task.name: o for o in ex.run(tasks, toys.sleepy, {})}
    assert out["killme"].status == COMPLETED and out["killme"].attempts == 2
    assert out["flaky"].status == COMPLETED and out["flaky"].attempts == 2
    assert out["bad"].status == FAILED and "injected failure (always)" in out["bad"].error
    assert out["ok"].status == COMPLETED and out["ok"].attempts == 1


def test_local_executor_drops_straggler_cooperatively():
    plan = FaultPlan.of([Fault(candidate="slow", slow_factor=50.0)])
    ex = LocalExecutor(policy=QuorumDeadline(quorum=0.5, deadline_factor=1.5), max_retries=0, faults=plan)
    tasks = [CandidateTask(1, n, {"name": n, "seconds": 0.1, "steps": 10}) for n in ("a", "b", "slow", "c")]
    out = {o.task.name: o for o in ex.run(tasks, toys.sleepy, {})}
    assert out["slow"].status == DROPPED
    assert out["slow"].elapsed_s < 2.5  # 0.1s x 50 = 5s had it not been stopped (deadline floor 1s)
    assert all(out[n].status == COMPLETED for n in "abc")


def test_defaults_never_drop_and_never_retry():
    ex = LocalExecutor()
    assert ex.policy == NeverDrop() and ex.max_retries == 0
    out = list(ex.run([CandidateTask(1, "x", {"name": "x"})], toys.crashy, {}))
    assert out[0].status == FAILED and out[0].attempts == 1 and "bad candidate x" in out[0].error


def test_split_references_are_read_once_per_search():
    split_cache.clear()
    LOADS.clear()
    data = {"train": CountingSplit("train", rows=7), "valid": CountingSplit("valid")}
    tasks = [CandidateTask(1, f"c{i}", {"name": f"c{i}", "seconds": 0.0, "steps": 1}) for i in range(3)]
    out = list(LocalExecutor().run(tasks, toys.sleepy, data))
    assert [o.result["rows"] for o in out] == [7, 7, 7]
    assert LOADS == ["train"]  # three candidates, one read (toys.sleepy loads only train)
