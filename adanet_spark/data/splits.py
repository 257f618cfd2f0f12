"""Which split (train / valid / test) each row belongs to, deterministically.

Three kinds, chosen by ``features``:

* ``split_by: <column>`` (**time**): the column's distinct values in their own order
  (dates, timestamps, numbers, text); the oldest ``train_fraction`` of them go to train,
  the next ``valid_fraction`` to valid, the newest to test, so no test value precedes a
  train value: a model is scored on periods it never saw, as a nightly job that trains
  on the past and scores tomorrow is. Rows whose value is null are dropped, up to
  ``input.max_null_label_fraction`` of the rows (an error above it);
* ``split_key: <column>`` (**group**): a hash of the column, so a whole group (a day, a
  customer, a protein) lands in one split;
* neither (**random**): a hash of the row's content.

The time split costs the same two small Spark jobs whatever the row count: one
aggregate (rows, nulls, distinct values) and one rank of the distinct values from
which only the two cut values reach the driver. Every row is then compared with
those cuts on the executors.
"""
from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any, Optional

from pyspark.sql import Column, DataFrame, Window, functions as F, types as T

from adanet_spark.config import FeaturesConfig
from adanet_spark.data.columns import q
from adanet_spark.data.spec import SPLIT
from adanet_spark.errors import BadInputError

log = logging.getLogger(__name__)

ROW_ID = "row_id"
TIME, GROUP, RANDOM = "time", "group", "random"
_UNORDERED = (T.ArrayType, T.MapType, T.StructType, T.BinaryType)


@dataclass(frozen=True)
class SplitInfo:
    """How the rows were split; stored in the FeatureSpec (``spec.split``) and logged."""

    kind: str  # time, group or random
    column: Optional[str] = None  # split_by (time) or split_key (group); None for random
    train_last: Optional[str] = None  # time: the newest value in train (as text)
    valid_last: Optional[str] = None  # time: the newest value in valid; test holds what follows
    values: Optional[int] = None  # time: distinct values of the column
    train_values: Optional[int] = None
    valid_values: Optional[int] = None
    nulls_dropped: int = 0  # time: rows dropped for a null value

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}

    def describe(self) -> str:
        if self.kind == TIME:
            test = self.values - self.train_values - self.valid_values
            nulls = f"; {self.nulls_dropped} rows with a null {self.column} dropped" if self.nulls_dropped else ""
            return (f"split: time-ordered by {self.column} ({self.values} distinct values): train <= "
                    f"{self.train_last} ({self.train_values} values), valid <= {self.valid_last} "
                    f"({self.valid_values}), test after ({test}){nulls}")
        if self.kind == GROUP:
            return f"split: by group, a hash of {self.column} (a whole group lands in one split)"
        return "split: random, a hash of each row's content"


def assign_split(df: DataFrame, cfg: FeaturesConfig, columns: list[str],
                 max_null_fraction: float = 0.0) -> tuple[DataFrame, SplitInfo]:
    """``df`` with ``row_id`` and ``split`` columns, and how it was split (also logged).
    ``columns``: what a row's content hash covers; ``max_null_fraction``: the share of
    rows a time split may drop for a null ``split_by`` value."""
    if cfg.split_by:
        out, info = _time_split(df, cfg, max_null_fraction)
        row_id = _content_hash(columns)
        out = out.withColumn(ROW_ID, row_id)
    else:
        if cfg.split_key and cfg.split_key not in df.columns:
            raise BadInputError(f"column '{cfg.split_key}' (features.split_key) not found in the input")
        row_id = _content_hash([cfg.split_key] if cfg.split_key else columns)
        bucket = F.pmod(row_id, F.lit(1_000_000)) / F.lit(1_000_000.0)
        split = (F.when(bucket < cfg.train_fraction, "train")
                  .when(bucket < cfg.train_fraction + cfg.valid_fraction, "valid")
                  .otherwise("test"))
        out = df.withColumn(ROW_ID, row_id).withColumn(SPLIT, split)
        info = SplitInfo(GROUP, cfg.split_key) if cfg.split_key else SplitInfo(RANDOM)
    log.info(info.describe())
    return out, info


def _content_hash(columns: list[str]) -> Column:
    return F.xxhash64(*[q(c) for c in columns], F.lit(17))


def cut_counts(values: int, train_fraction: float, valid_fraction: float) -> tuple[int, int]:
    """How many of ``values`` (>= 3) distinct values go to train and to valid: the
    rounded fractions, each split keeping at least one value."""
    n_train = min(max(1, round(train_fraction * values)), values - 2)
    n_valid = min(max(1, round(valid_fraction * values)), values - n_train - 1)
    return n_train, n_valid


def _time_split(df: DataFrame, cfg: FeaturesConfig, max_null_fraction: float) -> tuple[DataFrame, SplitInfo]:
    name = cfg.split_by
    key = f"column '{name}' (features.split_by)"
    if name not in df.columns:
        raise BadInputError(f"{key} not found in the input; columns: {', '.join(df.columns)}")
    dtype = df.schema[name].dataType
    if isinstance(dtype, _UNORDERED):
        raise BadInputError(f"{key} has type {dtype.simpleString()}, which has no order to split by")
    c = q(name)
    row = df.agg(F.count(F.lit(1)).alias("rows"), F.count(c).alias("present"),
                 F.countDistinct(c).alias("values")).first()
    rows, nulls, values = row["rows"], row["rows"] - row["present"], row["values"]
    if rows and nulls / rows > max_null_fraction:
        raise BadInputError(f"{key} is null in {nulls} of {rows} rows ({nulls / rows:.1%} > "
                            f"input.max_null_label_fraction {max_null_fraction:.1%})")
    if values < 3:
        raise BadInputError(f"{key} has {values} distinct value(s); a time-ordered split needs at least 3 "
                            f"(the oldest for train, then valid, the newest for test)")
    n_train, n_valid = cut_counts(values, cfg.train_fraction, cfg.valid_fraction)
    train_last, valid_last = _values_at(df, name, (n_train, n_train + n_valid))
    split = (F.when(c <= F.lit(train_last), "train").when(c <= F.lit(valid_last), "valid").otherwise("test"))
    out = df.where(c.isNotNull()).withColumn(SPLIT, split)
    info = SplitInfo(TIME, name, _text(train_last), _text(valid_last), values, n_train, n_valid, nulls)
    return out, info


def _values_at(df: DataFrame, name: str, ranks: tuple[int, int]) -> tuple[Any, Any]:
    """The column's distinct values at these 1-based ranks, in the column's order. Only the
    distinct values are ranked (a window over them, in one partition) and only the two
    wanted ones are collected."""
    distinct = df.select(q(name).alias("v")).where(F.col("v").isNotNull()).distinct()
    ranked = distinct.withColumn("r", F.row_number().over(Window.orderBy("v")))
    found = {r["r"]: r["v"] for r in ranked.where(F.col("r").isin(*ranks)).collect()}
    return found[ranks[0]], found[ranks[1]]


def _text(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
