"""Which split (train / valid / test) each row belongs to, deterministically."""
from __future__ import annotations

from pyspark.sql import DataFrame, functions as F

from adanet_spark.config import FeaturesConfig
from adanet_spark.data.columns import q
from adanet_spark.data.spec import SPLIT
from adanet_spark.errors import BadInputError

ROW_ID = "row_id"


def assign_split(df: DataFrame, cfg: FeaturesConfig, columns: list[str]) -> DataFrame:
    """Deterministic split from a hash of the key column, or of the row's content."""
    if cfg.split_key and cfg.split_key not in df.columns:
        raise BadInputError(f"column '{cfg.split_key}' (features.split_key) not found in the input")
    keys = [q(cfg.split_key)] if cfg.split_key else [q(c) for c in columns]
    row_id = F.xxhash64(*keys, F.lit(17))
    bucket = F.pmod(row_id, F.lit(1_000_000)) / F.lit(1_000_000.0)
    split = (F.when(bucket < cfg.train_fraction, "train")
              .when(bucket < cfg.train_fraction + cfg.valid_fraction, "valid")
              .otherwise("test"))
    return df.withColumn(ROW_ID, row_id).withColumn(SPLIT, split)


