"""FeatureSpec: what a feature table holds and how raw values became features.

Written beside the feature table by the preparation job and read by training
and scoring, so both apply the same transformation. It *is* the fitted
transformation: per numeric column the imputation value, mean and standard
deviation, and the quantile bin edges of its piecewise-linear encoding; per
categorical column its top-K levels (each seen at least a minimum number of times
in train) in index order. Pure Python
(JSON), so workers and the pure-torch algorithm can read it without Spark.

Feature-table layout: one column per feature under its own name (numeric as
float, standardised; categorical as int index, 0 = the shared bucket for rare
and unseen values, 1..K = levels by falling frequency), ``label`` (0/1 int),
and ``split`` (train / valid / test; the table is partitioned by it).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Optional

LABEL = "label"
SPLIT = "split"
SPLITS = ("train", "valid", "test")
OTHER_INDEX = 0


@dataclass(frozen=True)
class NumericFeature:
    name: str
    mean: float
    std: float
    fill: float  # value imputed for null, NaN and infinite inputs (the mean)
    # Quantile bin edges fitted on train, in raw units: sorted, unique, the train minimum
    # and maximum included; () when not fitted (features.numeric_bins: 0, or an older spec).
    bins: tuple[float, ...] = ()

    @property
    def standardized_bins(self) -> tuple[float, ...]:
        """The bin edges in the feature table's units: ``(edge - mean) / std``."""
        return tuple((b - self.mean) / self.std for b in self.bins)


@dataclass(frozen=True)
class CategoricalFeature:
    name: str
    levels: tuple[str, ...]  # index i+1 holds levels[i]; index 0 is the shared bucket

    @property
    def cardinality(self) -> int:
        """Number of distinct indices, the shared bucket included."""
        return len(self.levels) + 1


@dataclass(frozen=True)
class FeatureSpec:
    dataset: str
    numeric: tuple[NumericFeature, ...]
    categorical: tuple[CategoricalFeature, ...]
    source_label: str = LABEL
    positive: Optional[str] = None
    derived: dict = field(default_factory=dict)
    key_columns: tuple[str, ...] = ()
    run_id: Optional[str] = None
    # How rows were split: kind (time, group or random), column, and for a time split
    # the last train and valid values (data.splits.SplitInfo.to_dict()).
    split: dict = field(default_factory=dict)

    @property
    def numeric_names(self) -> list[str]:
        return [f.name for f in self.numeric]

    @property
    def categorical_names(self) -> list[str]:
        return [f.name for f in self.categorical]

    @property
    def cardinalities(self) -> list[int]:
        return [f.cardinality for f in self.categorical]

    @property
    def feature_names(self) -> list[str]:
        return self.numeric_names + self.categorical_names

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict) -> "FeatureSpec":
        return cls(
            dataset=d["dataset"],
            numeric=tuple(NumericFeature(n["name"], n["mean"], n["std"], n["fill"], tuple(n.get("bins") or ()))
                          for n in d["numeric"]),
            categorical=tuple(CategoricalFeature(name=c["name"], levels=tuple(c["levels"]))
                              for c in d["categorical"]),
            source_label=d.get("source_label", LABEL),
            positive=d.get("positive"),
            derived=dict(d.get("derived") or {}),
            key_columns=tuple(d.get("key_columns") or ()),
            run_id=d.get("run_id"),
            split=dict(d.get("split") or {}),
        )

    @classmethod
    def from_json(cls, text: str) -> "FeatureSpec":
        return cls.from_dict(json.loads(text))
