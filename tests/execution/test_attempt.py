"""The worker-side attempt: threads, faults, then train_fn."""
from __future__ import annotations

import pytest
import torch

from adanet_spark.adanet.protocol import CandidateTask, TrainContext
from adanet_spark.execution.attempt import format_error, run_attempt
from adanet_spark.execution.faults import Fault, FaultPlan, InjectedFault


def seen(payload, data, ctx):
    return {"payload": payload, "data": data, "slow": ctx.slow_factor, "threads": torch.get_num_threads()}


def test_calls_train_fn_with_faults_and_threads_applied():
    saved = torch.get_num_threads()
    task = CandidateTask(1, "a", {"p": 1})
    plan = FaultPlan.of([Fault(candidate="a", slow_factor=3.0)])
    try:
        out = run_attempt(seen, task.payload, {"d": 2}, TrainContext(), task, 1, 0, plan, threads=1)
    finally:
        torch.set_num_threads(saved)
    assert out == {"payload": {"p": 1}, "data": {"d": 2}, "slow": 3.0, "threads": 1}


def test_a_fault_stops_the_attempt_before_train_fn():
    task = CandidateTask(1, "a", {})
    plan = FaultPlan.of([Fault(candidate="a", fail="kill")])
    with pytest.raises(InjectedFault):
        run_attempt(seen, {}, {}, TrainContext(), task, 1, 0, plan, in_process=True)


def test_format_error():
    assert format_error(ValueError("bad x")) == "ValueError: bad x"
