"""Small synthetic data sets and fast search parameters for the AdaNet tests (CPU, seconds each).

The core takes any object with ``numeric_names`` and ``cardinalities`` as its feature
spec and any :class:`~adanet_spark.adanet.protocol.SplitData` as data, so these
tests use the core's own TensorData and a plain spec, and import nothing of the data layer: the core
is tested as other layers use it, through its protocol.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from adanet_spark.adanet.tensor_data import TensorData


@dataclass(frozen=True)
class Features:
    """What the core reads of a feature spec."""

    numeric_names: tuple[str, ...]
    cardinalities: tuple[int, ...]


def make_spec(n_numeric: int, cardinalities=()) -> Features:
    return Features(tuple(f"x{i}" for i in range(n_numeric)), tuple(cardinalities))


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


def fast_params(**overrides) -> dict:
    """AdaNetSearch keyword arguments for a search of a few seconds: the defaults, made small."""
    return {"max_iterations": 3, "widths": (32,), "candidates_per_iteration": 2, "learning_rates": (3e-3,),
            "epochs": 4, "batch_size": 256, "patience": 2, **overrides}
