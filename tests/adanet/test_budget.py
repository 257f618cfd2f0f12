"""The step budget follows the data size; its schedule warms up, then decays on a cosine."""
import math

import pytest

from adanet_spark.adanet.architecture import CandidateSpec, InputSpec
from adanet_spark.adanet.budget import StepPlan, TrainBudget

BUDGET = TrainBudget(batch_size=100, epochs=4, min_steps=300, max_steps=3000, checks=20, weight_decay=1e-5)


def checks_of(plan: StepPlan) -> list[int]:
    return [s for s in range(plan.total_steps + 1) if plan.is_check(s)]


@pytest.mark.parametrize("rows,total", [
    (1_000, 300),  # small table: 4 epochs are 40 steps, too few: min_steps
    (50_000, 2_000),  # in between: epochs x rows / batch
    (50_030, 2_002),  # ... rounded up
    (10_000_000, 3_000),  # large table: one epoch alone is more than max_steps
])
def test_the_step_budget_follows_the_data_size(rows, total):
    plan = StepPlan.make(rows, BUDGET)
    assert plan.total_steps == total
    assert (plan.rows, plan.batch_size, plan.steps_per_epoch) == (rows, 100, rows // 100)


def test_a_table_smaller_than_a_batch_is_one_batch_per_epoch():
    plan = StepPlan.make(40, BUDGET)
    assert (plan.batch_size, plan.steps_per_epoch, plan.total_steps) == (40, 1, 300)


def test_batch_norm_leaves_out_a_last_batch_of_one_row():
    assert StepPlan.make(1001, BUDGET, batch_norm=True).rows == 1000
    assert StepPlan.make(1001, BUDGET, batch_norm=False).rows == 1001
    assert StepPlan.make(1002, BUDGET, batch_norm=True).rows == 1002


@pytest.mark.parametrize("rows", [1_000, 50_030, 10_000_000, 123_457])
def test_at_least_checks_plus_one_validation_checks_step_zero_and_the_end_included(rows):
    plan = StepPlan.make(rows, BUDGET)
    steps = checks_of(plan)
    assert steps[0] == 0 and steps[-1] == plan.total_steps
    assert len(steps) >= BUDGET.checks + 1
    assert plan.check_every == plan.total_steps // BUDGET.checks
    assert all(b - a <= plan.check_every for a, b in zip(steps, steps[1:]))


def test_warmup_then_cosine_down_to_min_lr():
    plan = StepPlan.make(1_000, TrainBudget(batch_size=100, min_steps=200, max_steps=200, warmup=0.1, min_lr=0.2))
    assert (plan.total_steps, plan.warmup_steps, plan.min_lr) == (200, 20, 0.2)
    f = [plan.lr_factor(s) for s in range(plan.total_steps + 1)]
    # linear warmup: 1/20, 2/20, ... reaching the peak at the last warmup step
    assert f[:20] == pytest.approx([(s + 1) / 20 for s in range(20)])
    assert f[20] == pytest.approx(1.0)
    # cosine: halfway between peak and floor at the middle of the decay, the floor at the end
    assert f[110] == pytest.approx(0.2 + 0.8 * 0.5)
    assert f[65] == pytest.approx(0.2 + 0.8 * 0.5 * (1 + math.cos(math.pi * 0.25)))
    assert f[200] == pytest.approx(0.2)
    assert all(b <= a + 1e-12 for a, b in zip(f[20:], f[21:]))  # never rises after the warmup
    assert plan.lr_factor(10_000) == pytest.approx(0.2)  # past the budget it stays at the floor


def test_no_warmup_starts_at_the_peak():
    plan = StepPlan.make(1_000, TrainBudget(batch_size=100, min_steps=50, max_steps=50, warmup=0.0))
    assert plan.warmup_steps == 0 and plan.lr_factor(0) == pytest.approx(1.0)


def test_for_candidate_scales_the_steps_and_takes_its_own_weight_decay():
    inputs = InputSpec(2, ())
    plain = CandidateSpec("a", 1, 8, 1e-3, inputs)
    assert BUDGET.for_candidate(plain) == BUDGET
    more = BUDGET.for_candidate(CandidateSpec("b", 1, 8, 1e-3, inputs, steps_scale=2.0, weight_decay=1e-3))
    assert (more.epochs, more.min_steps, more.max_steps, more.weight_decay) == (8, 600, 6000, 1e-3)
    assert StepPlan.make(1_000, more).total_steps == 2 * StepPlan.make(1_000, BUDGET).total_steps
    assert (BUDGET.min_steps, BUDGET.weight_decay) == (300, 1e-5)  # the search's budget is left alone


def test_budget_round_trips_and_ignores_unknown_keys():
    budget = TrainBudget(epochs=7, lambda_=0.5, complexity="rademacher", shrinkage=0.25, min_steps=5)
    assert TrainBudget.from_dict({**budget.to_dict(), "added_by_a_newer_driver": 1}) == budget
