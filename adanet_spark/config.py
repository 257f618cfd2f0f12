"""Typed job configuration: YAML files in ``conf/`` plus ``--set key=value`` overrides.

One dataclass per section; every field has a default, so a YAML file only says
what differs. Loading validates: an unknown key or a value of the wrong type is a
:class:`BadInputError` naming the dotted key. Pure Python: no Spark import, so the
algorithm and the workers can read it too.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import os
import re
import types
import typing
import uuid
from dataclasses import dataclass, field
from typing import Any, Optional

import yaml

from adanet_spark.errors import BadInputError

INPUT_FORMATS = ("csv", "parquet", "delta", "table")
BACKENDS = ("local", "spark", "horovod")
MODES = ("async", "sync")
BASELINE_MODELS = ("logistic_regression", "manual_nn", "grid_search_nn", "random_search_nn")


@dataclass
class InputConfig:
    path: Optional[str] = None
    format: str = "csv"
    label: Optional[str] = None
    positive: Optional[str] = None
    options: dict[str, str] = field(default_factory=dict)
    filter: Optional[str] = None
    max_null_label_fraction: float = 0.01


@dataclass
class FeaturesConfig:
    numeric: Optional[list[str]] = None
    categorical: Optional[list[str]] = None
    exclude: list[str] = field(default_factory=list)
    derived: dict[str, str] = field(default_factory=dict)
    top_k: int = 1000
    split_key: Optional[str] = None
    train_fraction: float = 0.8
    valid_fraction: float = 0.1
    test_fraction: float = 0.1


@dataclass
class OutputConfig:
    database: str = "adanet"
    warehouse: str = "warehouse"


@dataclass
class RunConfig:
    id: Optional[str] = None
    date: Optional[str] = None
    seed: int = 42


@dataclass
class AdaNetConfig:
    max_iterations: int = 5
    generator: str = "default"
    # Defaults tuned on the adult census data (see tests/adanet/test_adult.py).
    widths: list[int] = field(default_factory=lambda: [64, 128])
    max_depth: int = 4
    connections: bool = True
    candidates_per_iteration: int = 4
    learning_rates: list[float] = field(default_factory=lambda: [3e-3, 1e-3])
    lambda_: float = 0.0
    beta: float = 0.0
    complexity: str = "sqrt_depth"
    activation: str = "relu"
    dropout: float = 0.0
    batch_norm: bool = False
    embedding_dim_cap: int = 16
    epochs: int = 10
    batch_size: int = 512
    weight_decay: float = 0.0
    patience: int = 2
    refit_mixture_weights: bool = True
    mixture_epochs: int = 1
    mixture_learning_rate: float = 0.01
    min_improvement: float = 1e-4  # a candidate must lower the valid objective by this much
    warm_start: Optional[str] = None


@dataclass
class TrainingConfig:
    backend: str = "horovod"
    mode: str = "async"
    workers: int = 2
    group_size: int = 1
    threads_per_worker: int = 1


@dataclass
class StragglerConfig:
    quorum: float = 0.5
    deadline_factor: float = 1.5
    max_retries: int = 1


@dataclass
class FaultConfig:
    candidate: Optional[str] = None
    iteration: Optional[int] = None
    worker: Optional[int] = None
    slow_factor: float = 1.0
    fail: Optional[str] = None  # "raise" | "kill" | "always"


@dataclass
class TestingConfig:
    enabled: bool = False
    faults: list[FaultConfig] = field(default_factory=list)


@dataclass
class RangeConfig:
    """One dimension of the baselines' search space: values in [low, high], drawn
    uniformly, or log-uniformly with ``log: true``. Integer dimensions (depth, width,
    batch_size) are rounded to the nearest integer."""

    low: float = 0.0
    high: float = 0.0
    log: bool = False


@dataclass
class SearchSpaceConfig:
    """The ONE search space of ``grid_search_nn`` and ``random_search_nn``."""

    depth: RangeConfig = field(default_factory=lambda: RangeConfig(1, 4))
    width: RangeConfig = field(default_factory=lambda: RangeConfig(16, 512, log=True))
    learning_rate: RangeConfig = field(default_factory=lambda: RangeConfig(1e-4, 1e-2, log=True))
    dropout: RangeConfig = field(default_factory=lambda: RangeConfig(0.0, 0.5))
    batch_size: RangeConfig = field(default_factory=lambda: RangeConfig(128, 2048, log=True))
    weight_decay: RangeConfig = field(default_factory=lambda: RangeConfig(1e-6, 1e-3, log=True))


@dataclass
class GridConfig:
    """``grid_search_nn`` trains every combination (3 x 2 x 2 x 2 = 24 by default);
    every value must lie inside ``baselines.search_space``."""

    depth: list[int] = field(default_factory=lambda: [1, 2, 3])
    width: list[int] = field(default_factory=lambda: [64, 256])
    learning_rate: list[float] = field(default_factory=lambda: [1e-3, 3e-3])
    dropout: list[float] = field(default_factory=lambda: [0.0, 0.25])
    batch_size: list[int] = field(default_factory=lambda: [512])
    weight_decay: list[float] = field(default_factory=lambda: [1e-5])


@dataclass
class NetConfig:
    """One feed-forward net: the hand-picked ``manual_nn`` (2 x 128 ReLU, Adam 1e-3,
    dropout 0.1, batch 512, weight decay 1e-5)."""

    depth: int = 2
    width: int = 128
    learning_rate: float = 1e-3
    dropout: float = 0.1
    batch_size: int = 512
    weight_decay: float = 1e-5


@dataclass
class BaselinesConfig:
    models: list[str] = field(default_factory=lambda: ["logistic_regression"])
    random_trials: int = 20
    lr_reg_param: float = 0.0
    lr_elastic_net: float = 0.0
    lr_max_iter: int = 100
    # Neural baselines: each trial trains up to `epochs` epochs, early-stopped on the
    # validation loss after `patience` epochs without improvement (AdaNet's trainer).
    epochs: int = 10
    patience: int = 2
    seed: Optional[int] = None  # random search's sampling seed; None: run.seed
    manual: NetConfig = field(default_factory=NetConfig)
    search_space: SearchSpaceConfig = field(default_factory=SearchSpaceConfig)
    grid: GridConfig = field(default_factory=GridConfig)


@dataclass
class JobConfig:
    dataset: Optional[str] = None
    input: InputConfig = field(default_factory=InputConfig)
    features: FeaturesConfig = field(default_factory=FeaturesConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    run: RunConfig = field(default_factory=RunConfig)
    adanet: AdaNetConfig = field(default_factory=AdaNetConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    straggler: StragglerConfig = field(default_factory=StragglerConfig)
    testing: TestingConfig = field(default_factory=TestingConfig)
    baselines: BaselinesConfig = field(default_factory=BaselinesConfig)

    @property
    def feature_table(self) -> str:
        return f"{self.output.database}.features_{self.dataset}"

    def to_dict(self) -> dict[str, Any]:
        return _to_plain(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)


class _Loader(yaml.SafeLoader):
    """YAML 1.2 booleans: only true/false, so a label value 'yes' or 'no' stays a string."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def _load_yaml(text):
    return yaml.load(text, Loader=_Loader)


# YAML names that are Python keywords map to a trailing-underscore field.
_YAML_ALIASES = {"lambda": "lambda_"}


def _field_name(key: str) -> str:
    return _YAML_ALIASES.get(key, key)


def _yaml_name(name: str) -> str:
    return {v: k for k, v in _YAML_ALIASES.items()}.get(name, name)


def _to_plain(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj):
        return {_yaml_name(f.name): _to_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, list):
        return [_to_plain(v) for v in obj]
    if isinstance(obj, dict):
        return {k: _to_plain(v) for k, v in obj.items()}
    return obj


def _coerce(value: Any, tp: Any, key: str) -> Any:
    """Check ``value`` against the annotation ``tp``; returns the typed value."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        return _coerce(value, args[0], key)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise BadInputError(f"config key '{key}' must be a mapping, got {type(value).__name__}")
        return _build(tp, value, key)
    if origin is list:
        if not isinstance(value, list):
            raise BadInputError(f"config key '{key}' must be a list, got {value!r}")
        (item_tp,) = typing.get_args(tp)
        return [_coerce(v, item_tp, f"{key}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise BadInputError(f"config key '{key}' must be a mapping, got {value!r}")
        _, val_tp = typing.get_args(tp)
        return {str(k): _coerce(v, val_tp, f"{key}.{k}") for k, v in value.items()}
    if value is None:
        raise BadInputError(f"config key '{key}' must not be null")
    if tp is bool:
        if not isinstance(value, bool):
            raise BadInputError(f"config key '{key}' must be true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise BadInputError(f"config key '{key}' must be an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise BadInputError(f"config key '{key}' must be a number, got {value!r}")
        return float(value)
    if tp is str:
        if isinstance(value, (dict, list)):
            raise BadInputError(f"config key '{key}' must be a string, got {value!r}")
        return str(value)
    return value


def _build(cls: type, data: dict, prefix: str = "") -> Any:
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    kwargs = {}
    for raw_key, value in data.items():
        name = _field_name(str(raw_key))
        dotted = f"{prefix}.{raw_key}" if prefix else str(raw_key)
        if name not in known:
            choices = ", ".join(sorted(_yaml_name(k) for k in known))
            raise BadInputError(f"unknown config key '{dotted}' (known here: {choices})")
        kwargs[name] = _coerce(value, hints[name], dotted)
    return cls(**kwargs)


def _set_dotted(tree: dict, dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = tree
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise BadInputError(f"config key '{dotted}': '{part}' is not a section")
        node = child
    node[parts[-1]] = value


def parse_override(text: str) -> tuple[str, Any]:
    """``key=value`` with the value parsed as YAML (so ``3``, ``true``, ``[a, b]`` work)."""
    if "=" not in text:
        raise BadInputError(f"--set expects key=value, got '{text}'")
    key, raw = text.split("=", 1)
    key = key.strip()
    if not key:
        raise BadInputError(f"--set expects key=value, got '{text}'")
    try:
        value = _load_yaml(raw) if raw.strip() else None
    except yaml.YAMLError as exc:
        raise BadInputError(f"--set {key}: value is not valid YAML ({exc})") from exc
    # Keep strings such as dates and IDs as strings: YAML would turn 2024-01-01 into a date.
    if isinstance(value, (_dt.date, _dt.datetime)):
        value = raw
    return key, value


def load_config(path: Optional[str] = None, overrides: typing.Sequence[str] = (),
                **defaults: Any) -> JobConfig:
    """Load a YAML config, apply ``--set`` overrides, validate, fill run defaults."""
    tree: dict[str, Any] = {}
    if path:
        if not os.path.exists(path):
            raise BadInputError(f"config file not found: {path}")
        with open(path) as fh:
            try:
                loaded = _load_yaml(fh) or {}
            except yaml.YAMLError as exc:
                raise BadInputError(f"config file {path} is not valid YAML: {exc}") from exc
        if not isinstance(loaded, dict):
            raise BadInputError(f"config file {path} must hold a mapping at top level")
        tree = _stringify_dates(loaded)
    for text in overrides:
        key, value = parse_override(text)
        _set_dotted(tree, key, value)
    cfg = _build(JobConfig, tree)
    if cfg.dataset is None:
        cfg.dataset = defaults.get("dataset") or (
            os.path.splitext(os.path.basename(path))[0] if path else "default")
    validate(cfg)
    if cfg.run.id is None:
        cfg.run.id = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    if cfg.run.date is None:
        cfg.run.date = _dt.date.today().isoformat()
    return cfg


def _stringify_dates(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _stringify_dates(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_stringify_dates(v) for v in node]
    if isinstance(node, (_dt.date, _dt.datetime)):
        return node.isoformat()
    return node


def _require(cond: bool, key: str, msg: str) -> None:
    if not cond:
        raise BadInputError(f"config key '{key}' {msg}")


def validate(cfg: JobConfig) -> None:
    """Cross-field and range checks; each names the key at fault."""
    _require(cfg.input.format in INPUT_FORMATS, "input.format",
             f"must be one of {', '.join(INPUT_FORMATS)}, got '{cfg.input.format}'")
    _require(str(cfg.dataset).replace("_", "").isalnum(), "dataset",
             f"must be letters, digits and underscores, got '{cfg.dataset}'")
    _require(0.0 <= cfg.input.max_null_label_fraction <= 1.0, "input.max_null_label_fraction",
             "must be between 0 and 1")
    f = cfg.features
    _require(f.top_k >= 1, "features.top_k", "must be at least 1")
    for name in ("train_fraction", "valid_fraction", "test_fraction"):
        _require(0.0 < getattr(f, name) < 1.0, f"features.{name}", "must be between 0 and 1")
    total = f.train_fraction + f.valid_fraction + f.test_fraction
    _require(abs(total - 1.0) < 1e-6, "features.train_fraction",
             f"+ valid_fraction + test_fraction must sum to 1, got {total:g}")
    validate_adanet(cfg.adanet)
    t = cfg.training
    _require(t.backend in BACKENDS, "training.backend", f"must be one of {', '.join(BACKENDS)}, got '{t.backend}'")
    _require(t.mode in MODES, "training.mode", f"must be one of {', '.join(MODES)}, got '{t.mode}'")
    _require(t.workers >= 1, "training.workers", "must be at least 1")
    _require(1 <= t.group_size <= t.workers, "training.group_size", "must be between 1 and training.workers")
    s = cfg.straggler
    _require(0.0 < s.quorum <= 1.0, "straggler.quorum", "must be in (0, 1]")
    _require(s.deadline_factor >= 1.0, "straggler.deadline_factor", "must be at least 1")
    _require(s.max_retries >= 0, "straggler.max_retries", "must be at least 0")
    _require(not cfg.testing.faults or cfg.testing.enabled, "testing.faults",
             "needs testing.enabled: true (fault injection is refused in production runs)")
    for i, fault in enumerate(cfg.testing.faults):
        _require(fault.fail in (None, "raise", "kill", "always"), f"testing.faults[{i}].fail",
                 "must be raise, kill or always")
        _require(fault.slow_factor >= 1.0, f"testing.faults[{i}].slow_factor", "must be at least 1")
    validate_baselines(cfg.baselines)


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


def _check_net_value(value: float, name: str, key: str) -> None:
    integer, lo, lo_open, hi = NET_PARAMS[name]
    if integer:
        _require(float(value).is_integer(), key, f"must be a whole number, got {value:g}")
    _require(value > lo if lo_open else value >= lo, key,
             f"must be {'>' if lo_open else '>='} {lo:g}, got {value:g}")
    if hi is not None:
        _require(value < hi, key, f"must be < {hi:g}, got {value:g}")


def validate_baselines(b: BaselinesConfig) -> None:
    for i, model in enumerate(b.models):
        _require(model in BASELINE_MODELS, f"baselines.models[{i}]",
                 f"must be one of {', '.join(BASELINE_MODELS)}, got '{model}'")
    _require(len(set(b.models)) == len(b.models), "baselines.models", "must not repeat a model")
    _require(b.random_trials >= 1, "baselines.random_trials", "must be at least 1")
    _require(b.lr_reg_param >= 0.0, "baselines.lr_reg_param", f"must be >= 0, got {b.lr_reg_param:g}")
    _require(0.0 <= b.lr_elastic_net <= 1.0, "baselines.lr_elastic_net", "must be between 0 and 1")
    _require(b.lr_max_iter >= 1, "baselines.lr_max_iter", "must be at least 1")
    _require(b.epochs >= 1, "baselines.epochs", "must be at least 1")
    _require(b.patience >= 0, "baselines.patience", "must be at least 0 (0 disables early stopping)")
    for name in NET_PARAMS:
        _check_net_value(getattr(b.manual, name), name, f"baselines.manual.{name}")
        dim: RangeConfig = getattr(b.search_space, name)
        key = f"baselines.search_space.{name}"
        _check_net_value(dim.low, name, key)
        _check_net_value(dim.high, name, key)
        _require(dim.low <= dim.high, key, f"needs low <= high, got low {dim.low:g} > high {dim.high:g}")
        _require(not dim.log or dim.low > 0, key, "with log: true needs low > 0")
        values = getattr(b.grid, name)
        gkey = f"baselines.grid.{name}"
        _require(len(values) > 0, gkey, "must list at least one value")
        _require(len(set(values)) == len(values), gkey, "must not repeat a value")
        for v in values:
            _require(dim.low <= v <= dim.high, gkey,
                     f"value {v:g} is outside baselines.search_space.{name} [{dim.low:g}, {dim.high:g}]")


def validate_adanet(a: AdaNetConfig) -> None:
    _require(a.max_iterations >= 1, "adanet.max_iterations", "must be at least 1")
    _require(len(a.widths) > 0, "adanet.widths", "must not be empty")
    _require(all(w >= 1 for w in a.widths), "adanet.widths", "must hold positive integers")
    _require(a.max_depth >= 1, "adanet.max_depth", "must be at least 1 (depth 0 is no subnetwork)")
    _require(a.candidates_per_iteration >= 1, "adanet.candidates_per_iteration", "must be at least 1")
    _require(len(a.learning_rates) > 0 and all(lr > 0 for lr in a.learning_rates),
             "adanet.learning_rates", "must be a non-empty list of positive numbers")
    _require(a.lambda_ >= 0.0, "adanet.lambda", f"must be >= 0, got {a.lambda_:g}")
    _require(a.beta >= 0.0, "adanet.beta", f"must be >= 0, got {a.beta:g}")
    _require(0.0 <= a.dropout < 1.0, "adanet.dropout", "must be in [0, 1)")
    _require(a.epochs >= 1, "adanet.epochs", "must be at least 1")
    _require(a.batch_size >= 1, "adanet.batch_size", "must be at least 1")
    _require(a.embedding_dim_cap >= 1, "adanet.embedding_dim_cap", "must be at least 1")
    _require(a.patience >= 0, "adanet.patience", "must be at least 0 (0 disables early stopping)")
    _require(a.weight_decay >= 0.0, "adanet.weight_decay", "must be >= 0")
    _require(a.mixture_epochs >= 0, "adanet.mixture_epochs", "must be at least 0")
    _require(a.mixture_learning_rate > 0.0, "adanet.mixture_learning_rate", "must be > 0")
    _require(a.min_improvement >= 0.0, "adanet.min_improvement", "must be >= 0")
    _require(a.activation in ("relu", "tanh", "gelu", "elu"), "adanet.activation",
             f"must be relu, tanh, gelu or elu, got '{a.activation}'")
    _require(a.complexity in ("sqrt_depth", "rademacher"), "adanet.complexity",
             f"must be sqrt_depth or rademacher, got '{a.complexity}'")
    _require(a.warm_start is None or a.warm_start == "latest" or "/" in a.warm_start or ":" in a.warm_start,
             "adanet.warm_start", "must be 'latest' or a model URI")
    # Imported here: the registry lives with the algorithm (torch-free module), and
    # importing it at the top would make every config reader load the AdaNet package.
    from adanet_spark.adanet.generator import check_generator_name
    check_generator_name(a.generator)
