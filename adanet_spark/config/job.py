"""The whole job config: one field per section, every field with a default, so a
YAML file only says what differs."""
from __future__ import annotations

import json
from typing import Any, Optional

from pydantic import Field, field_validator

from adanet_spark.config.adanet import AdaNetConfig
from adanet_spark.config.base import Section, Text
from adanet_spark.config.baselines import BaselinesConfig
from adanet_spark.config.data import FeaturesConfig, InputConfig, OutputConfig, RunConfig
from adanet_spark.config.training import StragglerConfig, TestingConfig, TrainingConfig


class JobConfig(Section):
    dataset: Optional[Text] = None  # load_config fills it from the config file's name
    input: InputConfig = Field(default_factory=InputConfig)
    features: FeaturesConfig = Field(default_factory=FeaturesConfig)
    output: OutputConfig = Field(default_factory=OutputConfig)
    run: RunConfig = Field(default_factory=RunConfig)
    adanet: AdaNetConfig = Field(default_factory=AdaNetConfig)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    straggler: StragglerConfig = Field(default_factory=StragglerConfig)
    testing: TestingConfig = Field(default_factory=TestingConfig)
    baselines: BaselinesConfig = Field(default_factory=BaselinesConfig)

    @field_validator("dataset")
    @classmethod
    def _table_name_safe(cls, value: Optional[str]) -> Optional[str]:
        # The dataset names Delta tables (features_<dataset>), so it must be an identifier.
        if value is not None and not value.replace("_", "").isalnum():
            raise ValueError(f"must be letters, digits and underscores, got '{value}'")
        return value

    @property
    def feature_table(self) -> str:
        return f"{self.output.database}.features_{self.dataset}"

    def to_dict(self) -> dict[str, Any]:
        """Plain dict with the YAML key names (``lambda``, not ``lambda_``)."""
        return self.model_dump(by_alias=True)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)
