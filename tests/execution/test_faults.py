"""Fault plans: matching, refusal without testing.enabled, what an attempt gets."""
from __future__ import annotations

import pytest

from adanet_spark import config as C
from adanet_spark.adanet.protocol import CandidateTask, TrainContext
from adanet_spark.config import FaultConfig, JobConfig, load_config
from adanet_spark.errors import BadInputError
from adanet_spark.execution.factory import make_executor
from adanet_spark.execution.faults import Fault, FaultPlan, InjectedFault, apply_faults


def test_faults_refused_unless_testing_enabled():
    # The config refuses this on load; sections stay mutable, so the executor checks again.
    cfg = JobConfig(testing=C.TestingConfig(enabled=True, faults=[FaultConfig(candidate="x", fail="kill")]))
    testing = cfg.testing
    testing.enabled = False
    with pytest.raises(BadInputError, match="testing.faults"):
        FaultPlan.from_config(testing)
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


def test_slow_fault_in_a_group_slows_one_member():
    plan = FaultPlan.of([Fault(candidate="a", slow_factor=4.0), Fault(candidate="b", worker=1, slow_factor=3.0)])
    a, b = CandidateTask(1, "a", {}), CandidateTask(1, "b", {})
    assert [apply_faults(plan, a, 1, w, TrainContext(), group_workers=[0, 1]).slow_factor for w in (0, 1)] \
        == [4.0, 1.0]
    assert [apply_faults(plan, b, 1, w, TrainContext(), group_workers=[0, 1]).slow_factor for w in (0, 1)] \
        == [1.0, 3.0]
    assert apply_faults(plan, a, 1, 1, TrainContext()).slow_factor == 4.0  # no group: itself


def test_kill_in_process_raises_instead():
    plan = FaultPlan.of([Fault(candidate="k", fail="kill")])
    with pytest.raises(InjectedFault, match="simulated in-process"):
        apply_faults(plan, CandidateTask(1, "k", {}), 1, 0, TrainContext(), in_process=True)
    apply_faults(plan, CandidateTask(1, "k", {}), 2, 0, TrainContext(), in_process=True)  # first attempt only


def test_plan_refuses_bad_faults_naming_the_key():
    with pytest.raises(BadInputError, match=r"testing.faults\[1\].fail"):
        FaultPlan.of([Fault(candidate="a"), {"fail": "explode"}])
    with pytest.raises(BadInputError, match=r"testing.faults\[0\].slow_factor"):
        FaultPlan.of([Fault(slow_factor=0.5)])
    assert not FaultPlan.of([])
