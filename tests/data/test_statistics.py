"""Statistics fitted on the train split, on real local Spark tables: levels with a minimum
count, quantile bin edges, and nothing learnt from valid or test rows."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from pyspark.sql import functions as F

from adanet_spark.config import load_config
from adanet_spark.data.features import prepare
from adanet_spark.data.spec import OTHER_INDEX, SPLIT
from adanet_spark.data.statistics import bin_edges, fit_categorical, fit_numeric


def frame(spark, n=100):
    """``c``: levels a x30, b x20, c x5, d x4, e x1 (per 60 rows); ``x``: 0..n-1 with NaN and
    infinities; ``flag``: 0/1; ``const``: 7; ``empty``: all null."""
    levels = (["a"] * 30 + ["b"] * 20 + ["c"] * 5 + ["d"] * 4 + ["e"]) * math.ceil(n / 60)
    x = np.arange(n, dtype=float)
    pdf = pd.DataFrame({"c": levels[:n], "x": x, "flag": (x % 2).astype(float), "const": 7.0, "empty": np.nan})
    extra = pd.DataFrame({"c": [None, "a"], "x": [np.nan, np.inf], "flag": [0.0, 1.0], "const": [7.0, -np.inf],
                          "empty": [np.nan, np.nan]})
    return spark.createDataFrame(pd.concat([pdf, extra], ignore_index=True))


def test_levels_seen_fewer_than_min_count_times_share_the_unseen_index(spark):
    df = frame(spark, 60)
    assert fit_categorical(df, ["c"], top_k=10)[0].levels == ("a", "b", "c", "d", "e")
    assert fit_categorical(df, ["c"], top_k=10, min_count=5)[0].levels == ("a", "b", "c")
    assert fit_categorical(df, ["c"], top_k=2, min_count=5)[0].levels == ("a", "b")  # top-K still applies
    assert fit_categorical(df, ["c"], top_k=10, min_count=100)[0].levels == ()  # everything in bucket 0


def test_bin_edges_are_sorted_unique_and_span_the_train_range(spark):
    features, imputed = fit_numeric(frame(spark), ["x", "flag", "const", "empty"], bins=4)
    x, flag, const, empty = features
    # min, the 3 inner quantiles (within the sketch's error), max; NaN and inf ignored
    assert x.bins == pytest.approx((0.0, 25.0, 50.0, 75.0, 99.0), abs=1.0) and (x.bins[0], x.bins[-1]) == (0, 99)
    assert flag.bins == (0.0, 1.0)  # two distinct values: one bin, the duplicates removed
    assert const.bins == () and empty.bins == ()  # one value (the -inf is imputed, not an edge), none at all
    assert imputed == {"x": 2, "flag": 0, "const": 1, "empty": 102}
    assert (x.mean, x.std, x.fill) == pytest.approx((49.5, math.sqrt((100 ** 2 - 1) / 12), 49.5))
    many, _ = fit_numeric(frame(spark, 1000), ["x"], bins=16)
    edges = many[0].bins
    assert list(edges) == sorted(set(edges)) and len(edges) == 17 and (edges[0], edges[-1]) == (0.0, 999.0)
    assert all(abs(e - k * 999 / 16) <= 2.0 for k, e in enumerate(edges))  # quantiles, within the sketch's error
    assert fit_numeric(frame(spark), ["x"], bins=0)[0][0].bins == ()
    assert fit_numeric(frame(spark), ["x"], bins=1)[0][0].bins == (0.0, 99.0)


def test_bin_edges_dedup_and_keep_inside_the_range():
    assert bin_edges(0.0, [1.0, 1.0, 2.0], 2.0) == (0.0, 1.0, 2.0)
    assert bin_edges(0.0, [-1.0, 5.0], 3.0) == (0.0, 3.0)
    assert bin_edges(None, [], None) == () and bin_edges(4.0, [4.0], 4.0) == ()


def spark_jobs(spark, fit) -> int:
    sc = spark.sparkContext
    group = f"statistics-{id(fit)}"
    sc.setJobGroup(group, "count the jobs of fitting")
    try:
        fit()
    finally:
        sc.setLocalProperty("spark.jobGroup.id", None)
    return len(sc.statusTracker().getJobIdsForGroup(group))


def test_the_number_of_spark_jobs_does_not_depend_on_the_data_size(spark):
    def jobs(n, bins, names=("x", "flag", "const")):
        df = frame(spark, n).cache()
        df.count()
        try:
            return spark_jobs(spark, lambda: (fit_numeric(df, list(names), bins=bins),
                                              fit_categorical(df, ["c"], top_k=3, min_count=5)))
        finally:
            df.unpersist()

    small = jobs(200, 16)
    assert jobs(20_000, 16) == small
    assert jobs(200, 0) == small  # the edges of every numeric column: in the one aggregation job
    assert jobs(200, 16, names=("x",)) == small


def grouped(spark, groups=20, rows=20, seed=0):
    """Group k (the split key): level f"L{k}" and x in [1000k, 1000k + rows); ``r`` is 'rare' in
    one row of groups 0..2 and 'common' elsewhere; a 0/1 label."""
    rng = np.random.default_rng(seed)
    k = np.repeat(np.arange(groups), rows)
    j = np.tile(np.arange(rows), groups)
    pdf = pd.DataFrame({"g": [f"g{v}" for v in k], "level": [f"L{v}" for v in k], "x": 1000.0 * k + j,
                        "r": np.where((j == 0) & (k < 3), "rare", "common"),
                        "y": rng.integers(0, 2, len(k)).astype(str)})
    return spark.createDataFrame(pdf)


def test_prepare_fits_on_the_train_split_only(spark):
    cfg = load_config(overrides=["input.label=y", "input.positive=1", "features.split_key=g",
                                 "features.min_level_count=5", "features.numeric_bins=8"])
    prepared = prepare(grouped(spark), "grouped", cfg.input, cfg.features, "a test frame")
    try:
        rows = prepared.table.select("g", SPLIT, "r").toPandas()
        spec = prepared.spec
    finally:
        prepared.release()
    train = {int(g[1:]) for g in rows.loc[rows[SPLIT] == "train", "g"]}
    elsewhere = set(range(20)) - train
    assert train and elsewhere  # both kinds of groups, or this test would prove nothing
    level = next(f for f in spec.categorical if f.name == "level")
    assert set(level.levels) == {f"L{k}" for k in train}  # no level of a valid or test group
    x = next(f for f in spec.numeric if f.name == "x")
    assert x.bins[0] == 1000.0 * min(train) and x.bins[-1] == 1000.0 * max(train) + 19
    assert list(x.bins) == sorted(set(x.bins)) and len(x.bins) == 9
    assert all(not (1000.0 * k <= e < 1000.0 * k + 20) for k in elsewhere for e in x.bins)
    assert next(f for f in spec.categorical if f.name == "r").levels == ("common",)  # 'rare': < 5 in train
    assert (rows["r"] == OTHER_INDEX).sum() == 3


def test_old_style_statistics_without_bins_or_min_count(spark):
    """The defaults of the functions keep their earlier behaviour (every level, no bins)."""
    df = frame(spark, 60).where(F.col("c").isNotNull())
    assert fit_categorical(df, ["c"], top_k=1000)[0].levels == ("a", "b", "c", "d", "e")
    assert fit_numeric(df, ["x"])[0][0].bins == ()
