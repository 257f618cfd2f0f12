"""Config sections of the data: ``input``, ``features``, ``output`` and ``run``."""
from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field, model_validator

from adanet_spark.config.base import Section, Text, require

InputFormat = Literal["csv", "parquet", "delta", "table"]


class InputConfig(Section):
    path: Optional[Text] = None
    format: InputFormat = "csv"
    label: Optional[Text] = None
    positive: Optional[Text] = None
    options: dict[Text, Text] = Field(default_factory=dict)
    filter: Optional[Text] = None
    max_null_label_fraction: float = Field(0.01, ge=0.0, le=1.0)


class FeaturesConfig(Section):
    numeric: Optional[list[Text]] = None
    categorical: Optional[list[Text]] = None
    exclude: list[Text] = Field(default_factory=list)
    derived: dict[Text, Text] = Field(default_factory=dict)
    top_k: int = Field(1000, ge=1)
    split_key: Optional[Text] = None
    train_fraction: float = Field(0.8, gt=0.0, lt=1.0)
    valid_fraction: float = Field(0.1, gt=0.0, lt=1.0)
    test_fraction: float = Field(0.1, gt=0.0, lt=1.0)

    @model_validator(mode="after")
    def _fractions_sum_to_one(self) -> "FeaturesConfig":
        total = self.train_fraction + self.valid_fraction + self.test_fraction
        require(abs(total - 1.0) < 1e-6, "train_fraction",
                f"+ valid_fraction + test_fraction must sum to 1, got {total:g}")
        return self


class OutputConfig(Section):
    database: Text = "adanet"
    warehouse: Text = "warehouse"


class RunConfig(Section):
    # id and date are filled by load_config when absent (see loader.fill_run_defaults).
    id: Optional[Text] = None
    date: Optional[Text] = None
    seed: int = 42
