"""Small synthetic data sets and fast search parameters for the AdaNet tests (CPU, seconds each).

The core takes any object with ``numeric_names`` and ``cardinalities`` as its feature
spec and any :class:`~adanet_spark.adanet.protocol.SplitData` as data, so these
tests use the core's own TensorData and a plain spec, and import nothing of the data layer: the core
is tested as other layers use it, through its protocol.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Callable, Iterator, Optional

import numpy as np
import torch

from adanet_spark.adanet.budget import TrainBudget
from adanet_spark.adanet.generator import SearchSpace
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
    """AdaNetSearch keyword arguments for a search of a few seconds: the defaults, made small.
    Overrides go where they belong: a SearchSpace field, a TrainBudget field, or the search."""
    space = {"widths": (32,), "candidates_per_iteration": 2, "learning_rates": (3e-3,)}
    budget = {"batch_size": 256, "min_steps": 100, "max_steps": 400, "patience": 4}
    top = {"max_iterations": 3}
    space_names = {f.name for f in fields(SearchSpace)}
    budget_names = {f.name for f in fields(TrainBudget)}
    for key, value in overrides.items():
        (space if key in space_names else budget if key in budget_names else top)[key] = value
    return {"space": SearchSpace(**space), "budget": TrainBudget(**budget), **top}


Order = Callable[[int, int, int], torch.Tensor]  # (rows, seed, epoch) -> a permutation of the rows


def seeded_order(rows: int, seed: int, epoch: int) -> torch.Tensor:
    """A shuffle that depends on the seed and changes every epoch."""
    return torch.randperm(rows, generator=torch.Generator().manual_seed(seed * 1000 + epoch))


class TensorStream:
    """A :class:`~adanet_spark.adanet.protocol.BatchStream` test double over a TensorData.

    Ranks read every ``size``-th row (TensorData.shard); ``shuffle=False`` yields storage
    order, ``shuffle=True`` the order ``order(rows, seed, epoch)`` gives. It has no
    ``load``, so the core must read it batch by batch. ``calls`` records every request.
    """

    def __init__(self, data: TensorData, order: Optional[Order] = None):
        self.data = data
        self.order = order or seeded_order
        self.calls: list[dict] = []

    def num_rows(self, rank: int = 0, size: int = 1) -> int:
        return len(self.data.shard(rank, size))

    def batches(self, batch_size: int, *, seed: int = 0, epoch: int = 0, rank: int = 0, size: int = 1,
                shuffle: bool = True) -> Iterator[TensorData]:
        self.calls.append({"batch_size": batch_size, "seed": seed, "epoch": epoch, "rank": rank, "size": size,
                           "shuffle": shuffle})
        part = self.data.shard(rank, size)
        index = self.order(len(part), seed, epoch) if shuffle else torch.arange(len(part))
        for start in range(0, len(part), batch_size):
            yield part.subset(index[start:start + batch_size])
