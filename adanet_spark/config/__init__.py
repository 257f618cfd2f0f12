"""Typed job configuration (pydantic v2): YAML files in ``conf/`` plus ``--set`` overrides.

One model per section; every field has a default, so a YAML file only says what
differs. Loading validates: an unknown key, a value of the wrong type or a failed
range or cross-field check is a :class:`~adanet_spark.errors.BadInputError` naming
the dotted key. No Spark and no torch import, so workers can read it too.
Copy a section with ``cfg.adanet.model_copy(update={...})``.
"""
from adanet_spark.config.adanet import AdaNetConfig
from adanet_spark.config.baselines import (NET_PARAMS, BaselineModel, BaselinesConfig, GridConfig, NetConfig,
                                           RangeConfig, SearchSpaceConfig, XGBoostConfig)
from adanet_spark.config.data import FeaturesConfig, InputConfig, InputFormat, OutputConfig, RunConfig
from adanet_spark.config.job import JobConfig
from adanet_spark.config.loader import load_config, parse_override
from adanet_spark.config.training import (Backend, FaultConfig, Mode, StragglerConfig, TestingConfig,
                                          TrainingConfig)

__all__ = [
    "JobConfig", "load_config", "parse_override",
    "InputConfig", "FeaturesConfig", "OutputConfig", "RunConfig", "AdaNetConfig", "TrainingConfig",
    "StragglerConfig", "FaultConfig", "TestingConfig", "RangeConfig", "SearchSpaceConfig", "GridConfig",
    "NetConfig", "BaselinesConfig", "XGBoostConfig", "NET_PARAMS",
    "Backend", "Mode", "InputFormat", "BaselineModel",
]
