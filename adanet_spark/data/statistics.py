"""Statistics fitted on the train split only: numeric means, spreads and quantile bin
edges, categorical levels.

Spark computes them on the executors; the driver receives one row of aggregates
for all numeric columns (bin edges included: ``percentile_approx``, the sketch of
``approxQuantile``, in the same aggregation) and the top-K level lists. So the
number of Spark jobs does not depend on the data size, nor on the bins.
"""
from __future__ import annotations

import math

from pyspark.sql import Column, DataFrame, functions as F

from adanet_spark.data.columns import q
from adanet_spark.data.spec import CategoricalFeature, NumericFeature


def clean(name: str) -> Column:
    """Null for NaN and infinities too: they are imputed, not fatal (and so is text that
    is not a number: try_cast, since an ANSI cast would fail the job)."""
    c = q(name).try_cast("double")
    return F.when(F.isnan(c) | (F.abs(c) == F.lit(math.inf)), None).otherwise(c)


QUANTILE_ACCURACY = 1000  # percentile_approx's accuracy: ranks within 1/1000 of the rows


def fit_numeric(train: DataFrame, names: list[str], bins: int = 0) -> tuple[list[NumericFeature], dict]:
    """Mean, spread and imputed count per column, in one Spark job; with ``bins`` > 0 also the
    edges of ``bins`` quantile bins (:func:`bin_edges`), in the same job."""
    if not names:
        return [], {}
    inner = [k / bins for k in range(1, bins)] if bins > 1 else []
    aggs = []
    for i, name in enumerate(names):
        c = clean(name)  # NaN and infinities are nulls here: no aggregate (nor quantile) sees them
        aggs += [F.mean(c).alias(f"m{i}"), F.stddev_pop(c).alias(f"s{i}"),
                 F.sum(F.when(c.isNull(), 1).otherwise(0)).alias(f"n{i}"), F.min(c).alias(f"lo{i}"),
                 F.max(c).alias(f"hi{i}")]
        if inner:
            aggs.append(F.percentile_approx(c, inner, QUANTILE_ACCURACY).alias(f"q{i}"))
    row = train.agg(*aggs).first()
    features, imputed = [], {}
    for i, name in enumerate(names):
        mean = float(row[f"m{i}"]) if row[f"m{i}"] is not None else 0.0
        std = float(row[f"s{i}"]) if row[f"s{i}"] else 0.0
        edges = bin_edges(row[f"lo{i}"], (row[f"q{i}"] or []) if inner else [], row[f"hi{i}"]) if bins else ()
        features.append(NumericFeature(name=name, mean=mean, std=std if std > 0 else 1.0, fill=mean, bins=edges))
        imputed[name] = int(row[f"n{i}"] or 0)
    return features, imputed


def bin_edges(low, inner: list[float], high) -> tuple[float, ...]:
    """Sorted, unique edges: the exact train minimum and maximum and the quantiles between
    (a column with few distinct values gets fewer bins; one with none, or one value, none)."""
    if low is None or high is None:
        return ()
    edges = sorted({float(low), float(high), *(float(v) for v in inner if low <= v <= high)})
    return tuple(edges) if len(edges) > 1 else ()


def fit_categorical(train: DataFrame, names: list[str], top_k: int, min_count: int = 1) -> list[CategoricalFeature]:
    """Top-K levels per column by falling frequency (ties by value, so reruns agree), of those
    seen at least ``min_count`` times: rarer levels share the index of unseen ones (0)."""
    features = []
    for name in names:
        value = q(name).cast("string")
        rows = (train.where(value.isNotNull()).groupBy(value.alias("v")).count()
                     .where(F.col("count") >= min_count)
                     .orderBy(F.desc("count"), F.asc("v")).limit(top_k).collect())
        features.append(CategoricalFeature(name=name, levels=tuple(r["v"] for r in rows)))
    return features


