import pickle
from dataclasses import replace

import numpy as np
import pytest
import torch

from adanet_spark.adanet.architecture import CandidateSpec, InputSpec
from adanet_spark.adanet.ensemble import Ensemble
from adanet_spark.adanet.protocol import CandidateResult, TrainContext
from adanet_spark.adanet.train import (PAYLOAD_KIND, TrainBudget, adanet_train_fn, derive_seed, make_payload,
                                       train_candidate)
from adanet_spark.adanet.tensor_data import TensorData
from tests.adanet.adanet_data import make_spec, parity_data

INPUTS = InputSpec(6, (4, 6), 16)
# 3 passes over 2000 rows in batches of 256: 24 steps (min_steps 1 lets the data decide)
BUDGET = TrainBudget(epochs=3, batch_size=256, min_steps=1, max_steps=1000, patience=0)


def spec(name="same-d2-w16", depth=2, width=16, learning_rate=3e-3, **kw):
    return CandidateSpec(name=name, depth=depth, width=width, learning_rate=learning_rate, inputs=INPUTS, **kw)


@pytest.fixture(scope="module")
def data():
    return {"train": parity_data(2000, 0), "valid": parity_data(500, 1)}


def test_result_is_plain_and_consistent(data):
    res = train_candidate(spec(), data, BUDGET, seed=5)
    res = pickle.loads(pickle.dumps(res))  # what an executor ships back
    assert (res.steps_run, res.total_steps, res.n_train) == (24, 24, 2000)
    assert res.epochs_run == pytest.approx(24 * 256 / 2000) and res.checks[0][0] == 0 and res.checks[-1][0] == 24
    for split in (res.train, res.valid, res.previous_train, res.previous_valid):
        assert set(split) == {"loss", "auc", "objective"}
    assert res.valid["loss"] < res.previous_valid["loss"]  # better than the base rate
    base_rate = float(data["train"].label.mean())
    assert res.previous_bias == pytest.approx(np.log(base_rate / (1 - base_rate)), abs=1e-5)
    ens = res.ensemble()
    logits = ens.predict_logits(data["valid"])
    loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, data["valid"].label)
    assert float(loss) == pytest.approx(res.valid["loss"], abs=1e-5)
    assert CandidateResult.from_dict(res.to_dict()).valid == res.valid


def test_same_seed_same_result_and_seed_ignores_worker(data):
    a = train_candidate(spec(), data, BUDGET, seed=11)
    b = train_candidate(spec(), data, BUDGET, seed=11)
    assert a.valid == b.valid
    assert all(np.array_equal(a.ensemble_weights[k], b.ensemble_weights[k]) for k in a.ensemble_weights)
    assert derive_seed(0, 1, "same-d2-w16") == derive_seed(0, 1, "same-d2-w16")
    assert derive_seed(0, 1, "same-d2-w16") != derive_seed(0, 2, "same-d2-w16")


def test_train_fn_adapter_with_a_previous_ensemble_and_connections(data):
    first = train_candidate(spec("same-d1-w16", depth=1), data, BUDGET, seed=2).ensemble()
    payload = make_payload(spec("deeper-d2-w16", depth=2), first, BUDGET, seed=3, iteration=1)
    payload = pickle.loads(pickle.dumps(payload))
    assert payload["kind"] == PAYLOAD_KIND and TrainBudget.from_dict(payload["budget"]) == BUDGET
    res = adanet_train_fn(payload, data, TrainContext())
    assert (res.iteration, res.seed) == (1, 3)
    grown = res.ensemble()
    assert len(grown) == 2 and grown.architecture.subnetworks[1].reads == ((), (0,))
    # The frozen subnetwork is untouched by training the new one.
    for k, v in first.subnetworks[0].state_dict().items():
        assert torch.equal(grown.subnetworks[0].state_dict()[k], v)
    # The previous ensemble's metrics match what the frozen ensemble predicts.
    loss = torch.nn.functional.binary_cross_entropy_with_logits(first.predict_logits(data["valid"]),
                                                                data["valid"].label)
    assert res.previous_valid["loss"] == pytest.approx(float(loss), abs=1e-5)


def test_a_candidate_joining_an_ensemble_starts_at_the_shrinkage_weight(data):
    """Learning rate 0: nothing moves, so the mixture weight is the one training started with."""
    budget = TrainBudget(batch_size=256, min_steps=6, max_steps=6, checks=3, patience=0, shrinkage=0.3,
                         refit_mixture_weights=False)
    still = spec(learning_rate=0.0)
    first = train_candidate(still, data, budget, seed=2)
    assert first.mixture == [1.0]  # the first subnetwork starts at full weight
    joined = train_candidate(still, data, budget, previous=first.ensemble(), seed=3)
    assert joined.mixture == [1.0, pytest.approx(0.3)]
    full = train_candidate(still, data, replace(budget, shrinkage=1.0), previous=first.ensemble(), seed=3)
    assert full.mixture == [1.0, 1.0]


def test_bad_inputs_are_named(data):
    bad = parity_data(100, 0)
    bad.categorical[3, 1] = 6  # cardinality 6: valid indices are 0..5
    with pytest.raises(ValueError, match="categorical column 1"):
        train_candidate(spec(), {"train": bad, "valid": data["valid"]}, BUDGET)
    wrong = CandidateSpec("x", 1, 8, 1e-3, InputSpec.from_feature_spec(make_spec(3, (4,)), 16))
    with pytest.raises(ValueError, match="expected 3 and 1"):
        train_candidate(wrong, data, BUDGET)
    with pytest.raises(ValueError, match="split 'valid' has no rows"):
        empty = TensorData(torch.zeros(0, 6), torch.zeros(0, 2, dtype=torch.int64), torch.zeros(0))
        train_candidate(spec(), {"train": data["train"], "valid": empty}, BUDGET)


def test_batch_norm_dropout_and_previous_ensemble_round_trip(data):
    res = train_candidate(spec(batch_norm=True, dropout=0.2), data, BUDGET, seed=1)
    ens = Ensemble.from_bytes(res.ensemble().to_bytes())
    np.testing.assert_array_equal(ens.predict_proba(data["valid"]), res.ensemble().predict_proba(data["valid"]))


def test_each_split_is_loaded_once_per_candidate(data):
    """The core asks each split to load itself once; caching across candidates is the
    executor's (execution/split_cache.py)."""
    loads = []

    class Counting:
        def __init__(self, name):
            self.name = name

        def load(self):
            loads.append(self.name)
            return data[self.name]

    train_candidate(spec(), {"train": Counting("train"), "valid": Counting("valid")},
                    TrainBudget(epochs=2, batch_size=256, min_steps=1, patience=0), seed=1)
    assert sorted(loads) == ["train", "valid"]
