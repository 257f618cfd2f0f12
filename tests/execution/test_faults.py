"""Fault plans: matching, refusal without testing.enabled, and their effect in-process."""
from __future__ import annotations

import pytest

import toys
from adanet_spark import config as C
from adanet_spark.config import FaultConfig, JobConfig, load_config
from adanet_spark.errors import BadInputError
from adanet_spark.execution.base import COMPLETED, DROPPED, FAILED, CandidateTask, TrainContext
from adanet_spark.execution.factory import make_executor
from adanet_spark.execution.faults import Fault, FaultPlan, InjectedFault, apply_faults
from adanet_spark.execution.local import LocalExecutor
from adanet_spark.execution.stragglers import StragglerPolicy


def test_faults_refused_unless_testing_enabled():
    testing = C.TestingConfig(enabled=False, faults=[FaultConfig(candidate="x", fail="kill")])
    with pytest.raises(BadInputError, match="testing.faults"):
        FaultPlan.from_config(testing)
    cfg = JobConfig(testing=testing)
    cfg.training.backend = "local"
    with pytest.raises(BadInputError, match="testing.enabled"):
        make_executor(cfg)
    with pytest.raises(BadInputError, match="testing.faults"):
        load_config(overrides=["testing.faults=[{candidate: x, fail: kill}]"])
    assert FaultPlan.from_config(C.TestingConfig(enabled=True, faults=testing.faults))


def test_fault_matching():
    plan = FaultPlan.of([Fault(candidate="deep-*", iteration=2, slow_factor=4.0),
                         Fault(worker=1, fail="raise")])
    t = CandidateTask(2, "deep-d3", {})
    assert apply_faults(plan, t, 1, 0, TrainContext()).slow_factor == 4.0
    assert apply_faults(plan, CandidateTask(1, "deep-d3", {}), 1, 0, TrainContext()).slow_factor == 1.0
    with pytest.raises(InjectedFault):
        apply_faults(plan, CandidateTask(1, "x", {}), 1, 1, TrainContext())
    apply_faults(plan, CandidateTask(1, "x", {}), 2, 1, TrainContext())  # raise: first attempt only
    # a group: a raise aimed at one member hits the whole group alike
    with pytest.raises(InjectedFault):
        apply_faults(plan, CandidateTask(1, "x", {}), 1, 0, TrainContext(), group_workers=[0, 1])


def test_local_executor_faults_and_retries():
    plan = FaultPlan.of([Fault(candidate="killme", fail="kill"), Fault(candidate="bad", fail="always"),
                         Fault(candidate="flaky", fail="raise")])
    ex = LocalExecutor(policy=StragglerPolicy(max_retries=1, drop=False), faults=plan)
    tasks = [CandidateTask(1, n, {"name": n, "seconds": 0.01, "steps": 1}) for n in ("killme", "bad", "flaky", "ok")]
    out = {o.task.name: o for o in ex.run(tasks, toys.sleepy, {})}
    assert out["killme"].status == COMPLETED and out["killme"].attempts == 2
    assert out["flaky"].status == COMPLETED and out["flaky"].attempts == 2
    assert out["bad"].status == FAILED and "injected failure (always)" in out["bad"].error
    assert out["ok"].status == COMPLETED and out["ok"].attempts == 1


def test_local_executor_drops_straggler_cooperatively():
    plan = FaultPlan.of([Fault(candidate="slow", slow_factor=50.0)])
    ex = LocalExecutor(policy=StragglerPolicy(quorum=0.5, deadline_factor=1.5, max_retries=0), faults=plan)
    tasks = [CandidateTask(1, n, {"name": n, "seconds": 0.1, "steps": 10}) for n in ("a", "b", "slow", "c")]
    out = {o.task.name: o for o in ex.run(tasks, toys.sleepy, {})}
    assert out["slow"].status == DROPPED
    assert out["slow"].elapsed_s < 2.5  # 0.1s x 50 = 5s had it not been stopped (deadline floor 1s)
    assert all(out[n].status == COMPLETED for n in "abc")


def test_make_executor_local_from_config():
    cfg = load_config(overrides=["training.backend=local", "straggler.max_retries=2"])
    ex = make_executor(cfg)
    assert isinstance(ex, LocalExecutor) and ex.policy.max_retries == 2 and not ex.policy.drop
    cfg = load_config(overrides=["training.backend=local", "training.mode=sync"])
    assert not make_executor(cfg).policy.drop


def test_slow_fault_in_a_group_slows_one_member():
    plan = FaultPlan.of([Fault(candidate="a", slow_factor=4.0), Fault(candidate="b", worker=1, slow_factor=3.0)])
    a, b = CandidateTask(1, "a", {}), CandidateTask(1, "b", {})
    assert [apply_faults(plan, a, 1, w, TrainContext(), group_workers=[0, 1]).slow_factor for w in (0, 1)] \
        == [4.0, 1.0]
    assert [apply_faults(plan, b, 1, w, TrainContext(), group_workers=[0, 1]).slow_factor for w in (0, 1)] \
        == [1.0, 3.0]
    assert apply_faults(plan, a, 1, 1, TrainContext()).slow_factor == 4.0  # no group: itself
