"""Splits: time-ordered by a column (no test value at or before a train value), by group,
by row; bad ``features.split_by`` inputs exit 2 naming the key, with nothing written."""
import datetime as dt
import logging

import numpy as np
import pandas as pd
import pytest

from adanet_spark import cli
from adanet_spark.config import FeaturesConfig, load_config
from adanet_spark.data.feature_table import open_table
from adanet_spark.data.splits import SplitInfo, assign_split, cut_counts
from jobs import prepare_features

DAYS = 30


def dated_frame(n=900, seed=0, nulls=0):
    """Rows over DAYS days in shuffled order; the label depends on x only."""
    rng = np.random.default_rng(seed)
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, DAYS, n)]
    days[:DAYS] = [dt.date(2024, 1, 1) + dt.timedelta(days=d) for d in range(DAYS)]  # every day present
    x = rng.normal(size=n)
    df = pd.DataFrame({"day": days, "x": x, "c": rng.choice(["a", "b", "c"], n),
                       "y": np.where(x + rng.normal(size=n) > 0, "yes", "no")}).sample(frac=1.0, random_state=seed)
    df["day"] = df["day"].astype(object)
    if nulls:
        df.loc[df.index[-nulls:], "day"] = None
    return df


def two_days():
    df = dated_frame()
    df["day"] = [dt.date(2024, 1, 1 + i % 2) for i in range(len(df))]
    return df


def write(df, tmp_path, name="dated.parquet"):
    path = tmp_path / name
    df.to_parquet(path, index=False)
    return str(path)


def args(path, job_args, *extra):
    return ["--set", "dataset=dated", "--set", f"input.path={path}", "--set", "input.format=parquet",
            "--set", "input.label=y", "--set", "input.positive=yes", *job_args, *extra]


def run(argv):
    return cli.run_job("prepare_features", prepare_features.main, argv=argv)


def test_cut_counts_keep_one_value_per_split_at_least():
    assert cut_counts(30, 0.8, 0.1) == (24, 3)
    assert cut_counts(3, 0.8, 0.1) == (1, 1)
    assert cut_counts(4, 0.8, 0.1) == (2, 1)
    assert cut_counts(10, 0.1, 0.1) == (1, 1)
    for n in range(3, 60):
        tr, va = cut_counts(n, 0.7, 0.2)
        assert tr >= 1 and va >= 1 and n - tr - va >= 1


def test_time_split_puts_every_test_date_after_every_train_date(spark, tmp_path, job_args, database, caplog):
    path = write(dated_frame(), tmp_path)
    with caplog.at_level(logging.INFO):
        assert run(args(path, job_args, "--set", "features.split_by=day")) == 0
    df = spark.table(f"{database}.features_dated").toPandas()
    assert "day" in df.columns  # the split column stays in the table, as read
    by = df.groupby("split")["day"]
    first, last = by.min(), by.max()
    assert last["train"] < first["valid"] and last["valid"] < first["test"]  # no test date at or before a train one
    assert by.nunique().to_dict() == {"train": 24, "valid": 3, "test": 3}
    cfg = load_config(None, [a for a in args(path, job_args)[1::2]])
    spec = open_table(spark, cfg).spec
    assert "day" not in spec.feature_names  # the split column is no feature
    assert spec.split == {"kind": "time", "column": "day", "train_last": "2024-01-24", "valid_last": "2024-01-27",
                          "values": 30, "train_values": 24, "valid_values": 3, "nulls_dropped": 0}
    assert any("time-ordered by day" in r.getMessage() and "train <= 2024-01-24" in r.getMessage()
               for r in caplog.records)


def test_group_and_random_splits_are_stated(spark, tmp_path, job_args, database):
    path = write(dated_frame(), tmp_path)
    assert run(args(path, job_args, "--set", "features.split_key=day")) == 0
    cfg = load_config(None, [a for a in args(path, job_args)[1::2]])
    assert open_table(spark, cfg).spec.split == {"kind": "group", "column": "day", "nulls_dropped": 0}
    df = spark.table(f"{database}.features_dated").toPandas()
    assert df.groupby("day")["split"].nunique().max() == 1  # a whole day in one split
    assert SplitInfo("random").to_dict() == {"kind": "random", "nulls_dropped": 0}


def test_null_dates_below_the_bound_are_dropped_and_counted(spark, tmp_path, job_args, database):
    path = write(dated_frame(nulls=5), tmp_path)
    assert run(args(path, job_args, "--set", "features.split_by=day",
                    "--set", "input.max_null_label_fraction=0.01")) == 0
    assert spark.table(f"{database}.features_dated").count() == 895
    cfg = load_config(None, [a for a in args(path, job_args)[1::2]])
    assert open_table(spark, cfg).spec.split["nulls_dropped"] == 5


@pytest.mark.parametrize("frame,extra,message", [
    (dated_frame(), ["features.split_by=when"], "column 'when' (features.split_by) not found in the input"),
    (dated_frame(nulls=90), ["features.split_by=day"],
     "column 'day' (features.split_by) is null in 90 of 900 rows (10.0% > input.max_null_label_fraction 1.0%)"),
    (two_days(), ["features.split_by=day"], "column 'day' (features.split_by) has 2 distinct value(s); a time-ordered split "
                                "needs at least 3"),
    (dated_frame(), ["features.split_by=day", "features.split_key=c"], "'features.split_by' and features.split_key "
                                                                       "are exclusive"),
])
def test_bad_split_by_exits_2_naming_the_key_and_writes_nothing(spark, tmp_path, job_args, database, capsys,
                                                               frame, extra, message):
    path = write(frame, tmp_path)
    sets = [a for e in extra for a in ("--set", e)]
    assert run(args(path, job_args, *sets)) == 2
    assert message in capsys.readouterr().err
    assert not spark.catalog.tableExists(f"{database}.features_dated")


def jobs_of(spark, group, action):
    sc = spark.sparkContext
    sc.setJobGroup(group, group)
    try:
        action()
    finally:
        sc.setJobGroup(None, None)
    return len(sc.statusTracker().getJobIdsForGroup(group))


def test_a_time_split_runs_the_same_spark_jobs_whatever_the_row_count(spark):
    """Only aggregates and two cut values reach the driver: no per-row driver work."""
    cfg = FeaturesConfig(split_by="day")
    counts = []
    for n in (600, 12_000):
        df = spark.createDataFrame(dated_frame(n=n)).repartition(2)
        counts.append(jobs_of(spark, f"split-{n}", lambda: assign_split(df, cfg, ["x", "c"], 0.0)))
    assert counts[0] == counts[1] > 0
