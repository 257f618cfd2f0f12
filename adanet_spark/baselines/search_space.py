"""The neural baselines' hyperparameters: one net, the grid and random draws.

One search space (``baselines.search_space``: depth, width, learning rate,
dropout, batch size, weight decay, each a [low, high] range, uniform or
log-uniform) serves both searches: ``grid_search_nn`` trains the Cartesian
product of ``baselines.grid`` (whose values config validation keeps inside the
space) and ``random_search_nn`` draws ``baselines.random_trials`` points from
it with a seeded ``random.Random``, so a seed always gives the same trials.
Pure Python (no torch), like the config it reads.
"""
from __future__ import annotations

import itertools
import math
import random
from dataclasses import asdict, dataclass
from typing import Any

from adanet_spark.config import NET_PARAMS, GridConfig, NetConfig, RangeConfig, SearchSpaceConfig

PARAMS = tuple(NET_PARAMS)  # depth, width, learning_rate, dropout, batch_size, weight_decay
INTEGER = tuple(name for name, (integer, *_rest) in NET_PARAMS.items() if integer)


@dataclass(frozen=True)
class NetParams:
    """One feed-forward net and how to train it (a point of the search space)."""

    depth: int
    width: int
    learning_rate: float
    dropout: float
    batch_size: int
    weight_decay: float

    @classmethod
    def from_config(cls, net: Any) -> "NetParams":
        """From a :class:`NetConfig` (or anything with the six attributes)."""
        return cls(**{p: _typed(p, getattr(net, p)) for p in PARAMS})

    def to_dict(self) -> dict:
        return asdict(self)

    def label(self) -> str:
        """A short, unique, human-readable name, e.g. ``d2-w128-lr0.001-do0.1-bs512-wd1e-05``."""
        return (f"d{self.depth}-w{self.width}-lr{self.learning_rate:.3g}-do{self.dropout:.3g}"
                f"-bs{self.batch_size}-wd{self.weight_decay:.3g}")


def _typed(name: str, value: float) -> Any:
    return int(round(value)) if name in INTEGER else float(value)


def manual_trials(manual: NetConfig) -> list[NetParams]:
    return [NetParams.from_config(manual)]


def grid_trials(grid: GridConfig) -> list[NetParams]:
    """Every combination of the grid's values, in declaration order (depth varies slowest)."""
    axes = [getattr(grid, p) for p in PARAMS]
    return [NetParams(**{p: _typed(p, v) for p, v in zip(PARAMS, combo)})
            for combo in itertools.product(*axes)]


def sample(dim: RangeConfig, rng: random.Random) -> float:
    if dim.low == dim.high:
        return float(dim.low)
    if dim.log:
        return math.exp(rng.uniform(math.log(dim.low), math.log(dim.high)))
    return rng.uniform(dim.low, dim.high)


def random_trials(space: SearchSpaceConfig, n: int, seed: int) -> list[NetParams]:
    """``n`` independent draws from the space; the same seed gives the same list.

    Integer dimensions are drawn on the continuous range and rounded, so their
    end points get half the weight of inner values; ``random.Random`` (Mersenne
    Twister, ``uniform``) is stable across platforms and Python versions.
    """
    rng = random.Random(seed)
    trials = []
    for _ in range(n):
        values = {p: sample(getattr(space, p), rng) for p in PARAMS}  # fixed draw order
        trials.append(NetParams(**{p: _typed(p, v) for p, v in values.items()}))
    return trials
