"""Small synthetic data sets and fast configs for the AdaNet tests (CPU, seconds each)."""
import dataclasses

import numpy as np

from adanet_spark.config import AdaNetConfig
from adanet_spark.data.spec import CategoricalFeature, FeatureSpec, NumericFeature
from adanet_spark.data.tensors import TensorData


def make_spec(n_numeric: int, cardinalities=()) -> FeatureSpec:
    return FeatureSpec(
        "synthetic",
        tuple(NumericFeature(f"x{i}", 0.0, 1.0, 0.0) for i in range(n_numeric)),
        tuple(CategoricalFeature(f"c{j}", tuple(f"l{k}" for k in range(card - 1)))
              for j, card in enumerate(cardinalities)))


def parity_data(n: int, seed: int, n_numeric: int = 6, cards=(4, 6)) -> TensorData:
    """Label = sign(x0 * x1 * x2): invisible to any linear model, needs depth."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, n_numeric)).astype(np.float32)
    c = np.stack([rng.integers(0, k, n) for k in cards], 1)
    y = (x[:, 0] * x[:, 1] * x[:, 2] > 0).astype(np.float32)
    return TensorData.from_numpy(x, c, y)


def linear_data(n: int, seed: int, n_numeric: int = 5, cards=(4,)) -> TensorData:
    """Labels drawn from a logistic model: the Bayes-optimal scorer is linear."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, n_numeric)).astype(np.float32)
    c = np.stack([rng.integers(0, k, n) for k in cards], 1)
    w = np.linspace(1.0, -1.0, n_numeric)
    p = 1.0 / (1.0 + np.exp(-2.0 * (x @ w)))
    y = (rng.uniform(size=n) < p).astype(np.float32)
    return TensorData.from_numpy(x, c, y)


def fast_config(**overrides) -> AdaNetConfig:
    base = dict(max_iterations=3, widths=[32], candidates_per_iteration=2, learning_rates=[3e-3],
                epochs=4, batch_size=256, patience=2)
    base.update(overrides)
    return dataclasses.replace(AdaNetConfig(), **base)
