"""Lazy references to the splits of a feature table, resolved on the driver.

Only file names and the spec cross to the workers; each worker reads its split
itself (see tensors.ParquetSplit).
"""
from __future__ import annotations

from pyspark.sql import SparkSession, functions as F

from adanet_spark.data.spec import SPLIT, SPLITS, FeatureSpec
from adanet_spark.data.tensors import ParquetSplit


def split_refs(spark: SparkSession, table: str, spec: FeatureSpec) -> dict[str, ParquetSplit]:
    """One ParquetSplit per split, listing the files of the table's current snapshot."""
    df = spark.table(table)
    spec_json = spec.to_json()
    return {name: ParquetSplit(tuple(sorted(df.where(F.col(SPLIT) == name).inputFiles())), spec_json)
            for name in SPLITS}
