"""The GrowStrategy: the incumbent, its metrics from the workers, growth by the winner."""
import dataclasses
import math

import pytest

from adanet_spark.adanet.architecture import CandidateSpec, InputSpec
from adanet_spark.adanet.ensemble import Ensemble
from adanet_spark.adanet.strategy import GrowStrategy, Standing
from adanet_spark.adanet.train import TrainBudget, train_candidate
from tests.adanet.adanet_data import parity_data

INPUTS = InputSpec(6, (4, 6), 16)


@pytest.fixture(scope="module")
def trained():
    """Two real results of iteration 0 (bias-only previous ensemble), b arriving before a.
    Workers measure the incumbent on their own (e.g. data-parallel shards), so b's
    numbers for it are made to differ from a's: which result is used must not depend
    on arrival order."""
    data = {"train": parity_data(600, 0), "valid": parity_data(200, 1)}
    budget = TrainBudget(epochs=1, batch_size=200, min_steps=1, patience=0)
    a, b = (train_candidate(CandidateSpec(name, depth, 8, 3e-3, INPUTS), data, budget, seed=seed)
            for name, depth, seed in (("a", 2, 2), ("b", 1, 1)))
    b = dataclasses.replace(b, previous_bias=b.previous_bias + 0.5,
                            previous_valid={k: v + 0.5 for k, v in b.previous_valid.items()})
    return {"b": b, "a": a}


def test_initial_is_a_bias_only_ensemble_or_the_warm_start():
    start = GrowStrategy().initial(None)
    assert len(start.ensemble) == 0 and start.valid is None and math.isnan(start.objective)
    warm = Ensemble(bias=1.25)
    assert GrowStrategy().initial(warm).ensemble is warm


def test_previous_metrics_come_from_the_first_result_by_name(trained):
    standing = GrowStrategy().with_previous_metrics(GrowStrategy().initial(None), trained)
    a = trained["a"]
    assert standing.train == a.previous_train and standing.valid == a.previous_valid
    assert standing.objective == a.previous_valid["objective"]
    # the workers fit the bias-only ensemble's bias to the base rate; the driver takes it
    assert float(standing.ensemble.bias.detach()) == pytest.approx(a.previous_bias)


def test_known_metrics_and_warm_starts_are_kept(trained):
    known = Standing(Ensemble(bias=0.1), valid={"loss": 1.0, "auc": 0.5, "objective": 1.0})
    assert GrowStrategy().with_previous_metrics(known, trained) is known
    empty = Standing(Ensemble(bias=0.1))
    assert GrowStrategy().with_previous_metrics(empty, {}) is empty
    warm = trained["a"].ensemble()
    filled = GrowStrategy().with_previous_metrics(Standing(warm), trained)
    assert filled.ensemble is warm and filled.valid == trained["a"].previous_valid


def test_grow_takes_the_winners_ensemble_or_keeps_the_incumbent(trained):
    strategy = GrowStrategy()
    before = strategy.with_previous_metrics(strategy.initial(None), trained)
    assert strategy.grow(before, trained, None) is before
    after = strategy.grow(before, trained, "b")
    assert len(after.ensemble) == 1 and list(after.ensemble.architecture.depths) == [1]
    assert after.train == trained["b"].train and after.valid == trained["b"].valid
