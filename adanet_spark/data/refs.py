"""Lazy references to the splits of a feature table, resolved on the driver.

Only file names and the spec cross to the workers; each worker reads its split
itself (see tensors.ParquetSplit).
"""
from __future__ import annotations

from typing import Optional

from pyspark.sql import SparkSession, functions as F

from adanet_spark.data.spec import SPLIT, SPLITS, FeatureSpec
from adanet_spark.data.tensors import ParquetSplit


def split_refs(spark: SparkSession, table: str, spec: FeatureSpec,
               cache_max_bytes: Optional[int] = None) -> dict[str, ParquetSplit]:
    """One ParquetSplit per split, listing the files of the table's current snapshot.
    ``cache_max_bytes`` (``cfg.training.cache_budget()``) travels with each reference to
    the workers, whose split cache holds a split in memory under it and streams it above."""
    df = spark.table(table)
    spec_json = spec.to_json()
    return {name: ParquetSplit(tuple(sorted(df.where(F.col(SPLIT) == name).inputFiles())), spec_json,
                               cache_max_bytes=cache_max_bytes)
            for name in SPLITS}
