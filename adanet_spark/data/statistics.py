"""Statistics fitted on the train split only: numeric means and spreads, categorical levels.

Spark computes them on the executors; the driver receives one row of aggregates
per kind and the top-K level lists.
"""
from __future__ import annotations

import math

from pyspark.sql import Column, DataFrame, functions as F

from adanet_spark.data.columns import q
from adanet_spark.data.spec import CategoricalFeature, NumericFeature


def clean(name: str) -> Column:
    """Null for NaN and infinities too: they are imputed, not fatal."""
    c = q(name).cast("double")
    return F.when(F.isnan(c) | (F.abs(c) == F.lit(math.inf)), None).otherwise(c)


def fit_numeric(train: DataFrame, names: list[str]) -> tuple[list[NumericFeature], dict]:
    if not names:
        return [], {}
    aggs = []
    for i, name in enumerate(names):
        c = clean(name)
        aggs += [F.mean(c).alias(f"m{i}"), F.stddev_pop(c).alias(f"s{i}"),
                 F.sum(F.when(c.isNull(), 1).otherwise(0)).alias(f"n{i}")]
    row = train.agg(*aggs).first()
    features, imputed = [], {}
    for i, name in enumerate(names):
        mean = float(row[f"m{i}"]) if row[f"m{i}"] is not None else 0.0
        std = float(row[f"s{i}"]) if row[f"s{i}"] else 0.0
        features.append(NumericFeature(name=name, mean=mean, std=std if std > 0 else 1.0, fill=mean))
        imputed[name] = int(row[f"n{i}"] or 0)
    return features, imputed


def fit_categorical(train: DataFrame, names: list[str], top_k: int) -> list[CategoricalFeature]:
    """Top-K levels per column by falling frequency (ties by value, so reruns agree)."""
    features = []
    for name in names:
        value = q(name).cast("string")
        rows = (train.where(value.isNotNull()).groupBy(value.alias("v")).count()
                     .orderBy(F.desc("count"), F.asc("v")).limit(top_k).collect())
        features.append(CategoricalFeature(name=name, levels=tuple(r["v"] for r in rows)))
    return features


