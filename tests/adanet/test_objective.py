"""F(w) = loss + sum_j (lambda * r(h_j) + beta) * |w_j|, by hand and on a trained candidate."""
import math
from dataclasses import replace

import pytest
import torch

from adanet_spark.adanet.architecture import CandidateSpec, InputSpec
from adanet_spark.adanet.objective import bce, objective, penalty, penalty_coefficients
from adanet_spark.adanet.train import TrainBudget, train_candidate
from tests.adanet.adanet_data import linear_data


def test_penalty_coefficients_are_lambda_times_complexity_plus_beta():
    coefs = penalty_coefficients([1.0, 2.0, 0.5], lambda_=0.1, beta=0.01)
    assert coefs.dtype == torch.float32
    torch.testing.assert_close(coefs, torch.tensor([0.11, 0.21, 0.06]))
    assert penalty_coefficients([], 0.1, 0.01).shape == (0,)


def test_penalty_is_the_weighted_l1_norm_of_the_mixture():
    mixture = torch.tensor([0.5, -2.0, 0.0])
    coefs = torch.tensor([1.0, 0.25, 3.0])
    assert float(penalty(mixture, coefs)) == pytest.approx(0.5 + 0.5)  # signs do not matter


def test_objective_is_loss_plus_penalty():
    mixture = torch.tensor([1.5, -0.5], requires_grad=True)
    got = objective(0.3, mixture, [1.0, 4.0], lambda_=0.2, beta=0.1)
    assert isinstance(got, float)
    assert got == pytest.approx(0.3 + (0.2 * 1.0 + 0.1) * 1.5 + (0.2 * 4.0 + 0.1) * 0.5)
    assert objective(0.3, mixture, [1.0, 4.0], lambda_=0.0, beta=0.0) == pytest.approx(0.3)


def test_bce_is_the_mean_binary_cross_entropy_of_logits():
    logits, labels = torch.tensor([0.0, 2.0, -1.0]), torch.tensor([1.0, 0.0, 0.0])
    expected = -(math.log(0.5) + math.log(1 - 1 / (1 + math.exp(-2))) + math.log(1 - 1 / (1 + math.exp(1)))) / 3
    assert float(bce(logits, labels)) == pytest.approx(expected, rel=1e-6)


def test_a_trained_candidate_reports_the_objective_with_its_complexity_penalty():
    data = {"train": linear_data(2000, 0), "valid": linear_data(500, 1)}
    spec = CandidateSpec("same-d3-w16", 3, 16, 1e-2, InputSpec(5, (4,), 16))
    budget = TrainBudget(batch_size=256, min_steps=40, max_steps=40, lambda_=0.1, beta=0.01, patience=0)
    res = train_candidate(spec, data, budget, seed=1)
    assert res.complexity == pytest.approx(3 ** 0.5)
    expected = res.valid["loss"] + (0.1 * 3 ** 0.5 + 0.01) * abs(res.mixture[0])
    assert res.valid["objective"] == pytest.approx(expected, rel=1e-6)
    rademacher = replace(budget, complexity="rademacher", lambda_=0.01, beta=0.0)
    res = train_candidate(spec, data, rademacher, seed=1)
    assert 0 < res.complexity < float("inf") and res.best_step > 0
    expected = res.valid["loss"] + 0.01 * res.complexity * abs(res.mixture[0])
    assert res.valid["objective"] == pytest.approx(expected, rel=1e-6)


def test_early_stopping_minimises_the_penalised_loss():
    """A rademacher penalty far heavier than anything the candidate can gain (with lambda 0.1
    it gains a little by step 20 on this data): the best check is step 0, whose zero head has
    complexity 0, and that state is restored."""
    data = {"train": linear_data(2000, 0), "valid": linear_data(500, 1)}
    spec = CandidateSpec("same-d3-w16", 3, 16, 1e-2, InputSpec(5, (4,), 16))
    budget = TrainBudget(batch_size=256, min_steps=40, max_steps=40, lambda_=0.3, patience=0,
                         complexity="rademacher")
    res = train_candidate(spec, data, budget, seed=1)
    assert res.best_step == 0 and res.complexity == 0.0 and res.steps_run == 40
    assert res.valid["loss"] == pytest.approx(res.previous_valid["loss"], abs=1e-6)
    assert min(loss for step, loss in res.checks if step > 0) > res.checks[0][1]
