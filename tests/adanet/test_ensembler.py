"""The Ensembler refits mixture weights and bias on frozen logits (fit on training rows), and
keeps a refit only when it lowers the VALIDATION objective."""
import pytest
import torch

from adanet_spark.adanet.budget import TrainBudget
from adanet_spark.adanet.ensembler import Ensembler
from adanet_spark.adanet.objective import bce, penalty, penalty_coefficients
from adanet_spark.adanet.protocol import TrainContext

COMPLEXITIES = [1.0, 2 ** 0.5]


def logits(seed, weights=(2.0, -1.0), bias=0.5, n=2000):
    """Two frozen subnetworks' logits; the labels follow weights . z + bias."""
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(n, 2, generator=gen)
    labels = (torch.rand(n, generator=gen) < torch.sigmoid(z @ torch.tensor(weights) + bias)).float()
    return z, labels


@pytest.fixture(scope="module")
def train():
    return logits(0)


def refit(train, valid, mixture, bias, **budget):
    budget = TrainBudget(**{"mixture_epochs": 20, "mixture_learning_rate": 0.1, "batch_size": 200, **budget})
    return Ensembler(budget).refit(train, valid, mixture, bias, COMPLEXITIES, TrainContext(),
                                   torch.Generator().manual_seed(1))


def objective(split, w, b, lambda_=0.0, beta=0.0):
    z, labels = split
    return float(bce(b + z @ w, labels)) + float(penalty(w, penalty_coefficients(COMPLEXITIES, lambda_, beta)))


START = (torch.tensor([0.1, 0.1]), torch.tensor(0.0))


def test_refit_is_kept_when_it_lowers_the_validation_objective(train):
    valid = logits(1)  # the same law, other rows
    w, b, accepted = refit(train, valid, *START)
    assert accepted
    assert objective(valid, w, b) < objective(valid, *START) - 0.05
    assert w[0] > 1.0 and w[1] < -0.5 and float(b) > 0.2  # towards (2, -1, 0.5)
    assert not w.requires_grad and not b.requires_grad


def test_refit_that_lowers_the_training_objective_but_raises_the_validation_one_is_rejected(train):
    """Validation rows follow another law (the newest subnetwork overfit the training rows):
    the same refit that lowers the training objective makes validation worse, so it is dropped."""
    valid = logits(1, weights=(-1.0, 2.0), bias=-0.5)
    kept_w, kept_b, kept = refit(train, train, *START)  # judged on the training rows: kept
    assert kept and objective(train, kept_w, kept_b) < objective(train, *START) - 0.05
    assert objective(valid, kept_w, kept_b) > objective(valid, *START)  # ... and worse on validation
    w, b, accepted = refit(train, valid, *START)  # the same fit (same seed), judged on validation
    assert not accepted and w is START[0] and b is START[1]


def test_refit_that_makes_things_worse_is_dropped(train):
    valid = logits(1)
    good_w, good_b, _ = refit(train, valid, *START)
    w, b, accepted = refit(train, valid, good_w, good_b, mixture_epochs=1, mixture_learning_rate=50.0)
    assert not accepted and w is good_w and b is good_b


def test_the_l1_penalty_shrinks_the_mixture(train):
    valid = logits(1)
    plain, _, _ = refit(train, valid, *START)
    shrunk, _, accepted = refit(train, valid, *START, lambda_=0.1, beta=0.05)
    assert accepted and float(shrunk.abs().sum()) < float(plain.abs().sum())
