"""The Ensembler refits mixture weights and bias on frozen logits, and keeps a refit only
when it lowers the training objective."""
import pytest
import torch

from adanet_spark.adanet.ensembler import Ensembler
from adanet_spark.adanet.loop import StepPlan
from adanet_spark.adanet.objective import bce, penalty, penalty_coefficients
from adanet_spark.adanet.protocol import TrainContext
from adanet_spark.adanet.train import TrainBudget

COMPLEXITIES = [1.0, 2 ** 0.5]


@pytest.fixture(scope="module")
def logits():
    """Two frozen subnetworks' logits; the labels follow 2 * z0 - z1 + 0.5."""
    gen = torch.Generator().manual_seed(0)
    z = torch.randn(2000, 2, generator=gen)
    labels = (torch.rand(2000, generator=gen) < torch.sigmoid(z @ torch.tensor([2.0, -1.0]) + 0.5)).float()
    return z, labels


def refit(z, labels, mixture, bias, **budget):
    budget = TrainBudget(**{"mixture_epochs": 20, "mixture_learning_rate": 0.1, **budget})
    plan = StepPlan.make(len(labels), len(labels), 200, budget.mixture_epochs, TrainContext(), False)
    return Ensembler(budget).refit(z, labels, mixture, bias, COMPLEXITIES, plan, TrainContext(),
                                   torch.Generator().manual_seed(1))


def train_objective(z, labels, w, b, lambda_=0.0, beta=0.0):
    return float(bce(b + z @ w, labels)) + float(penalty(w, penalty_coefficients(COMPLEXITIES, lambda_, beta)))


def test_refit_is_kept_when_it_lowers_the_objective(logits):
    z, labels = logits
    start_w, start_b = torch.tensor([0.1, 0.1]), torch.tensor(0.0)
    w, b, accepted = refit(z, labels, start_w, start_b)
    assert accepted
    assert train_objective(z, labels, w, b) < train_objective(z, labels, start_w, start_b) - 0.05
    assert w[0] > 1.0 and w[1] < -0.5 and float(b) > 0.2  # towards (2, -1, 0.5)
    assert not w.requires_grad and not b.requires_grad


def test_refit_that_makes_things_worse_is_dropped(logits):
    z, labels = logits
    good_w, good_b, _ = refit(z, labels, torch.tensor([0.1, 0.1]), torch.tensor(0.0))
    w, b, accepted = refit(z, labels, good_w, good_b, mixture_epochs=1, mixture_learning_rate=50.0)
    assert not accepted and w is good_w and b is good_b


def test_the_l1_penalty_shrinks_the_mixture(logits):
    z, labels = logits
    plain, _, _ = refit(z, labels, torch.tensor([0.1, 0.1]), torch.tensor(0.0))
    shrunk, _, accepted = refit(z, labels, torch.tensor([0.1, 0.1]), torch.tensor(0.0), lambda_=0.1, beta=0.05)
    assert accepted and float(shrunk.abs().sum()) < float(plain.abs().sum())
