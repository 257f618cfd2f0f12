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
    # Values of a features.numeric column that are not numbers (e.g. 'N/A') are imputed
    # like nulls, up to this fraction of the rows; above it the input is refused.
    max_invalid_fraction: float = Field(0.1, ge=0.0, le=1.0)


class FeaturesConfig(Section):
    numeric: Optional[list[Text]] = None
    categorical: Optional[list[Text]] = None
    exclude: list[Text] = Field(default_factory=list)
    derived: dict[Text, Text] = Field(default_factory=dict)
    replace: list[Text] = Field(default_factory=list)  # derived columns allowed to replace an input column
    top_k: int = Field(1000, ge=1)
    # A level seen fewer times in train shares index 0 with unseen levels.
    min_level_count: int = Field(10, ge=1)
    # Quantile bins per numeric feature for the piecewise-linear encoding (edges fitted on
    # train, stored in the spec); 0: no bins.
    numeric_bins: int = Field(16, ge=0, le=1024)
    # How rows are split (one of the two, or neither: a hash of the row's content):
    # split_key hashes a column, so a whole group lands in one split; split_by orders
    # a column's distinct values and gives the oldest train_fraction of them to train,
    # the next valid_fraction to valid and the newest to test (a time-ordered split).
    split_key: Optional[Text] = None
    split_by: Optional[Text] = None
    train_fraction: float = Field(0.8, gt=0.0, lt=1.0)
    valid_fraction: float = Field(0.1, gt=0.0, lt=1.0)
    test_fraction: float = Field(0.1, gt=0.0, lt=1.0)

    @model_validator(mode="after")
    def _fractions_sum_to_one(self) -> "FeaturesConfig":
        total = self.train_fraction + self.valid_fraction + self.test_fraction
        require(abs(total - 1.0) < 1e-6, "train_fraction",
                f"+ valid_fraction + test_fraction must sum to 1, got {total:g}")
        require(not (self.split_key and self.split_by), "split_by",
                f"and features.split_key are exclusive (a time-ordered split or a grouped one), "
                f"got both: '{self.split_by}' and '{self.split_key}'")
        unknown = [name for name in self.replace if name not in self.derived]
        require(not unknown, "replace", f"names columns that features.derived does not define: {', '.join(unknown)}")
        return self


class OutputConfig(Section):
    database: Text = "adanet"
    warehouse: Text = "warehouse"


class RunConfig(Section):
    # id and date are filled by load_config when absent (see loader.fill_run_defaults).
    id: Optional[Text] = None
    date: Optional[Text] = None
    seed: int = 42
    # The lease a running run holds in the runs table: renewed every heartbeat_seconds;
    # a run whose lease is older than lease_seconds is dead (shown 'stale', taken over by a rerun).
    heartbeat_seconds: float = Field(30.0, gt=0.0)
    lease_seconds: float = Field(180.0, gt=0.0)

    @model_validator(mode="after")
    def _lease_outlives_heartbeats(self) -> "RunConfig":
        require(self.lease_seconds >= 2 * self.heartbeat_seconds, "lease_seconds",
                f"must be at least twice run.heartbeat_seconds ({self.heartbeat_seconds:g}), "
                f"got {self.lease_seconds:g}")
        return self
