"""Numeric encodings: piecewise-linear on quantile bins (with the plain value), and a candidate
that uses it."""
import math
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from torch import nn

from adanet_spark.adanet.architecture import CandidateSpec, InputSpec
from adanet_spark.adanet.encodings import PiecewiseLinear, numeric_encoder
from adanet_spark.adanet.ensemble import Ensemble
from adanet_spark.adanet.inputs import InputLayer
from adanet_spark.adanet.train import TrainBudget, train_candidate
from tests.adanet.adanet_data import linear_data

# feature 0: edges -1, 0, 1 (two bins); feature 1: no bins; feature 2: one bin (repeated edges count once)
BINS = ((-1.0, 0.0, 1.0), (), (0.5, 2.0, 0.5, 0.5))


def test_output_is_the_plain_values_then_one_column_per_bin():
    ple = PiecewiseLinear(BINS)
    assert ple.out_extra == 3
    x = torch.tensor([[-2.0, 7.0, 0.5], [0.5, 7.0, 2.0], [3.0, 7.0, 5.0]])
    out = ple(x)
    assert out.shape == (3, 3 + 3)
    torch.testing.assert_close(out[:, :3], x)
    torch.testing.assert_close(out[:, 3:], torch.tensor([
        [-1.0, 0.0, 0.0],  # below the first edge: the first bin extends linearly, the rest are 0
        [1.0, 0.5, 1.0],  # a full first bin, half of the second; the only bin of feature 2 at its end
        [1.0, 3.0, 3.0],  # above the last edge: the last bin extends linearly
    ]))


def test_inside_the_edges_every_component_is_in_zero_one_and_monotone():
    ple = PiecewiseLinear(BINS[:1])
    x = torch.linspace(-1.0, 1.0, 201).unsqueeze(1)
    enc = ple(x)[:, 1:]
    assert enc.min() >= 0.0 and enc.max() <= 1.0
    assert (enc.diff(dim=0) >= 0).all()  # a larger value never lowers a component
    torch.testing.assert_close(enc.sum(1), x.squeeze(1) + 1.0)  # the components add up to the position


def test_features_without_two_edges_pass_through():
    ple = PiecewiseLinear(((0.3,), ()))
    x = torch.randn(4, 2)
    assert ple.out_extra == 0 and torch.equal(ple(x), x)


def test_numeric_encoder_by_name():
    assert isinstance(numeric_encoder("ple", BINS), PiecewiseLinear)
    assert isinstance(numeric_encoder("ple", ()), nn.Identity)  # no bins fitted: plain
    assert isinstance(numeric_encoder("plain", BINS), nn.Identity)
    with pytest.raises(ValueError, match="unknown numeric encoding 'fourier'.*plain"):
        numeric_encoder("fourier", BINS)


def test_the_input_layer_widens_by_the_number_of_bins():
    spec = InputSpec(3, (4,), 16, bins=BINS)
    plain, ple = InputLayer(spec), InputLayer(spec, encoding="ple")
    assert ple.out_dim == plain.out_dim + 3
    out = ple(torch.zeros(5, 3), torch.zeros(5, 1, dtype=torch.int64))
    assert out.shape == (5, ple.out_dim)


def cost_of_the_bins(bins, width=16):
    inputs = InputSpec(3, (4,), width, bins=bins)
    return CandidateSpec("p", 2, width, 1e-2, inputs, encoding="ple").cost() - \
        CandidateSpec("p", 2, width, 1e-2, inputs).cost()


def test_a_candidates_cost_counts_the_bins_its_first_layer_reads():
    bins = ((-1.0, 0.0, 1.0), (), (0.5, 2.0))
    assert cost_of_the_bins(bins) == (2 + 0 + 1) * 16 == (PiecewiseLinear(bins).out_extra) * 16


def test_repeated_edges_do_not_add_to_the_cost():
    assert cost_of_the_bins(BINS) == PiecewiseLinear(BINS).out_extra * 16


@dataclass
class Numeric:
    mean: float
    std: float
    bins: tuple


@dataclass
class Spec:
    numeric_names: tuple
    cardinalities: tuple
    numeric: tuple


def test_bins_from_the_feature_spec_are_standardised_like_the_values():
    spec = Spec(("a", "b"), (3,), (Numeric(10.0, 2.0, (8.0, 10.0, 14.0)), Numeric(0.0, 1.0, ())))
    assert InputSpec.from_feature_spec(spec, 8).bins == ((-1.0, 0.0, 2.0), ())
    none = Spec(("a",), (), (Numeric(10.0, 2.0, ()),))
    assert InputSpec.from_feature_spec(none, 8).bins == ()


def test_a_candidate_with_the_piecewise_linear_encoding_trains():
    data = {"train": linear_data(2000, 0), "valid": linear_data(500, 1)}
    edges = np.quantile(data["train"].numeric.numpy(), [0.0, 0.25, 0.5, 0.75, 1.0], axis=0).T
    inputs = InputSpec(5, (4,), 16, bins=tuple(tuple(map(float, e)) for e in edges))
    spec = CandidateSpec("first-d1-w16-ple", 1, 16, 1e-2, inputs, encoding="ple")
    # more inputs, more work: 4 bins (5 edges) per feature, 5 features, each into 16 units
    assert spec.cost() - CandidateSpec("p", 1, 16, 1e-2, inputs).cost() == 5 * 4 * 16
    res = train_candidate(spec, data, TrainBudget(batch_size=256, min_steps=40, max_steps=40, patience=0), seed=1)
    ensemble = res.ensemble()
    first = ensemble.subnetworks[0]
    assert first.arch.encoding == "ple" and isinstance(first.inputs.numeric, PiecewiseLinear)
    assert first.layers[0].in_features == 5 + 5 * 4 + 3  # plain values, 4 bins each, one 3-wide embedding
    assert res.valid["loss"] < res.previous_valid["loss"] - 0.05 and not math.isnan(res.valid["auc"])
    again = Ensemble.from_bytes(ensemble.to_bytes())  # the bins travel with the architecture
    np.testing.assert_array_equal(again.predict_proba(data["valid"]), ensemble.predict_proba(data["valid"]))
