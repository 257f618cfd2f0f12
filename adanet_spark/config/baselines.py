"""The ``baselines`` section: which comparison models run, and the neural baselines'
one net (``manual``), search space and grid."""
from __future__ import annotations

from typing import Annotated, Literal, Optional

from pydantic import Field, model_validator

from adanet_spark.config.base import Section, require

BaselineModel = Literal["logistic_regression", "manual_nn", "grid_search_nn", "random_search_nn",
                        "tpe_search_nn", "xgboost"]

# Per hyperparameter of the neural baselines: integer?, smallest allowed value,
# whether that bound is exclusive, largest allowed value (exclusive).
NET_PARAMS = {
    "depth": (True, 1, False, None),
    "width": (True, 1, False, None),
    "learning_rate": (False, 0.0, True, None),
    "dropout": (False, 0.0, False, 1.0),
    "batch_size": (True, 1, False, None),
    "weight_decay": (False, 0.0, False, None),
}


def check_net_value(value: float, name: str, key: str) -> None:
    """``value`` is allowed for hyperparameter ``name`` (see NET_PARAMS); else names ``key``."""
    integer, lo, lo_open, hi = NET_PARAMS[name]
    if integer:
        require(float(value).is_integer(), key, f"must be a whole number, got {value:g}")
    require(value > lo if lo_open else value >= lo, key,
            f"must be {'>' if lo_open else '>='} {lo:g}, got {value:g}")
    if hi is not None:
        require(value < hi, key, f"must be < {hi:g}, got {value:g}")


class RangeConfig(Section):
    """One dimension of the baselines' search space: values in [low, high], drawn
    uniformly, or log-uniformly with ``log: true``. Integer dimensions (depth, width,
    batch_size) are rounded to the nearest integer."""

    low: float = 0.0
    high: float = 0.0
    log: bool = False


def _range(low: float, high: float, log: bool = False):
    return Field(default_factory=lambda: RangeConfig(low=low, high=high, log=log))


class SearchSpaceConfig(Section):
    """The ONE search space of ``grid_search_nn`` and ``random_search_nn``."""

    depth: RangeConfig = _range(1, 4)
    width: RangeConfig = _range(16, 512, log=True)
    learning_rate: RangeConfig = _range(1e-4, 1e-2, log=True)
    dropout: RangeConfig = _range(0.0, 0.5)
    batch_size: RangeConfig = _range(128, 2048, log=True)
    weight_decay: RangeConfig = _range(1e-6, 1e-3, log=True)

    @model_validator(mode="after")
    def _ranges_are_valid(self) -> "SearchSpaceConfig":
        for name in NET_PARAMS:
            dim: RangeConfig = getattr(self, name)
            check_net_value(dim.low, name, name)
            check_net_value(dim.high, name, name)
            require(dim.low <= dim.high, name, f"needs low <= high, got low {dim.low:g} > high {dim.high:g}")
            require(not dim.log or dim.low > 0, name, "with log: true needs low > 0")
        return self


class GridConfig(Section):
    """``grid_search_nn`` trains every combination (3 x 2 x 2 x 2 = 24 by default);
    every value must lie inside ``baselines.search_space``."""

    depth: list[int] = Field(default_factory=lambda: [1, 2, 3])
    width: list[int] = Field(default_factory=lambda: [64, 256])
    learning_rate: list[float] = Field(default_factory=lambda: [1e-3, 3e-3])
    dropout: list[float] = Field(default_factory=lambda: [0.0, 0.25])
    batch_size: list[int] = Field(default_factory=lambda: [512])
    weight_decay: list[float] = Field(default_factory=lambda: [1e-5])

    @model_validator(mode="after")
    def _axes_are_sets(self) -> "GridConfig":
        for name in NET_PARAMS:
            values = getattr(self, name)
            require(len(values) > 0, name, "must list at least one value")
            require(len(set(values)) == len(values), name, "must not repeat a value")
        return self


class NetConfig(Section):
    """One feed-forward net: the hand-picked ``manual_nn`` (2 x 128 ReLU, Adam 1e-3,
    dropout 0.1, batch 512, weight decay 1e-5)."""

    depth: int = 2
    width: int = 128
    learning_rate: float = 1e-3
    dropout: float = 0.1
    batch_size: int = 512
    weight_decay: float = 1e-5

    @model_validator(mode="after")
    def _values_are_valid(self) -> "NetConfig":
        for name in NET_PARAMS:
            check_net_value(getattr(self, name), name, name)
        return self


class XGBoostConfig(Section):
    """``xgboost`` (``xgboost.spark.SparkXGBClassifier``): one model per (max_depth,
    learning_rate) pair of this grid, each early-stopped on the valid split's AUC after
    ``early_stopping_rounds`` rounds without improvement; the best on valid is kept."""

    max_depth: list[Annotated[int, Field(ge=1)]] = Field(default_factory=lambda: [4, 8], min_length=1)
    learning_rate: list[Annotated[float, Field(gt=0.0)]] = Field(default_factory=lambda: [0.05, 0.2],
                                                                 min_length=1)
    max_rounds: int = Field(1000, ge=1)
    early_stopping_rounds: int = Field(20, ge=1)


class BaselinesConfig(Section):
    models: list[BaselineModel] = Field(default_factory=lambda: ["logistic_regression"])
    # The trial budget of both random_search_nn and tpe_search_nn (the same for the two).
    random_trials: int = Field(20, ge=1)
    # L2 strengths of logistic regression: one fit each, the best on the valid split is kept.
    lr_reg_params: list[Annotated[float, Field(ge=0.0)]] = Field(default_factory=lambda: [0.0, 0.001, 0.01],
                                                                 min_length=1)
    lr_elastic_net: float = Field(0.0, ge=0.0, le=1.0)
    lr_max_iter: int = Field(100, ge=1)
    # Neural baselines: each trial trains like one AdaNet candidate (AdaNet's trainer and
    # step budget, adanet.*), with `epochs` passes over the train rows and early stopping
    # after `patience` validation checks without improvement; None: AdaNet's values.
    epochs: Optional[float] = Field(None, gt=0.0)
    patience: Optional[int] = Field(None, ge=0)  # 0 disables early stopping
    seed: Optional[int] = None  # random search's sampling seed; None: run.seed
    manual: NetConfig = Field(default_factory=NetConfig)
    search_space: SearchSpaceConfig = Field(default_factory=SearchSpaceConfig)
    grid: GridConfig = Field(default_factory=GridConfig)
    xgboost: XGBoostConfig = Field(default_factory=XGBoostConfig)

    @model_validator(mode="after")
    def _models_unique_and_grid_in_space(self) -> "BaselinesConfig":
        require(len(set(self.models)) == len(self.models), "models", "must not repeat a model")
        require(len(set(self.lr_reg_params)) == len(self.lr_reg_params), "lr_reg_params", "must not repeat a value")
        for name in NET_PARAMS:
            dim: RangeConfig = getattr(self.search_space, name)
            for v in getattr(self.grid, name):
                require(dim.low <= v <= dim.high, f"grid.{name}",
                        f"value {v:g} is outside baselines.search_space.{name} [{dim.low:g}, {dim.high:g}]")
        return self
