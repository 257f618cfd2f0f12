"""The feature job end to end on real local Spark and real Delta."""
import math
import os

import numpy as np
import pandas as pd
import pytest

from adanet_spark import cli
from adanet_spark.data.feature_table import open_table
from adanet_spark.config import load_config
from jobs import prepare_features

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(argv):
    return cli.run_job("prepare_features", prepare_features.main, argv=argv)


def small_frame(n=400, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    x[:5] = np.nan
    x[5:8] = np.inf
    color = rng.choice(["red", "green", "blue", "rare1", "rare2"], size=n, p=[.4, .3, .26, .02, .02])
    y = np.where(x + (color == "red") + rng.normal(size=n) > 0.5, "yes", "no")
    return pd.DataFrame({"id": np.arange(n), "x": x, "z": rng.integers(0, 10, n).astype(float),
                         "color": color, "answer": y})


@pytest.fixture
def small_csv(tmp_path):
    """Parquet, despite the name's history: it keeps NaN and infinities typed."""
    path = tmp_path / "small.parquet"
    small_frame().to_parquet(path, index=False)
    return str(path)


def small_args(path, job_args, *extra):
    fmt = "csv" if str(path).endswith(".csv") else "parquet"
    return ["--set", "dataset=small", "--set", f"input.path={path}", "--set", f"input.format={fmt}",
            "--set", "input.label=answer", "--set", "input.positive=yes",
            "--set", "features.exclude=[id]", "--set", "features.top_k=3",
            "--set", "features.derived={x2: x * 2}", *job_args, *extra]


def test_small_table(spark, small_csv, job_args, database, capsys):
    assert run(small_args(small_csv, job_args)) == 0
    df = spark.table(f"{database}.features_small").toPandas()
    assert len(df) == 400
    assert set(df["split"]) == {"train", "valid", "test"}
    assert set(df["label"]) == {0, 1}
    assert {"x", "x2", "z", "color", "row_id"} <= set(df.columns)
    assert np.isfinite(df["x"]).all()  # NaN and inf imputed, not fatal
    train = df[df.split == "train"]
    assert abs(train["z"].mean()) < 1e-3 and abs(train["z"].std(ddof=0) - 1) < 1e-3
    # top-3 levels get 1..3; the two rare ones share the bucket 0
    assert set(df["color"]) <= {0, 1, 2, 3} and (df["color"] == 0).sum() > 0
    cfg = load_config(None, small_args(small_csv, job_args)[1::2])
    spec = open_table(spark, cfg).spec
    assert spec.categorical_names == ["color"] and spec.cardinalities == [4]
    assert spec.categorical[0].levels == ("red", "green", "blue")
    assert set(spec.numeric_names) == {"x", "z", "x2"}
    # quantile bin edges fitted on train (z: 10 distinct values, so at most 10 edges)
    assert all(len(f.bins) >= 2 and list(f.bins) == sorted(set(f.bins)) for f in spec.numeric)
    assert len(next(f for f in spec.numeric if f.name == "z").bins) <= 10
    out = capsys.readouterr().out
    assert "train" in out and "valid" in out and "test" in out


def test_split_is_deterministic_and_rerun_replaces(spark, small_csv, job_args, database):
    assert run(small_args(small_csv, job_args)) == 0
    first = spark.table(f"{database}.features_small").select("row_id", "split").toPandas()
    assert run(small_args(small_csv, job_args)) == 0
    again = spark.table(f"{database}.features_small").select("row_id", "split").toPandas()
    assert len(again) == 400  # replaced, not duplicated
    merged = first.merge(again, on="row_id")
    assert (merged.split_x == merged.split_y).all()


def test_adult(spark, job_args, database):
    assert run(["--conf", os.path.join(ROOT, "conf/adult.yaml"), *job_args]) == 0
    counts = dict(spark.sql(f"SELECT split, count(*) FROM {database}.features_adult GROUP BY split").collect())
    assert sum(counts.values()) == 48842
    assert 0.75 < counts["train"] / 48842 < 0.85
    rate = spark.sql(f"SELECT avg(label) FROM {database}.features_adult").first()[0]
    assert math.isclose(rate, 11687 / 48842, rel_tol=1e-6)


def bad(spark, database, argv, capsys, expected):
    code = run(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert expected in err
    assert not spark.catalog.tableExists(f"{database}.features_small")


def test_missing_path(spark, job_args, database, capsys):
    bad(spark, database, small_args("/no/such/file.csv", job_args), capsys, "/no/such/file.csv")


def test_missing_label(spark, small_csv, job_args, database, capsys):
    bad(spark, database, small_args(small_csv, job_args, "--set", "input.label=nope"), capsys, "'nope'")


def test_label_not_binary(spark, tmp_path, job_args, database, capsys):
    path = tmp_path / "three.parquet"
    frame = small_frame()
    frame["answer"] = np.resize(["a", "b", "c"], len(frame))
    frame.to_parquet(path, index=False)
    bad(spark, database, small_args(str(path), job_args), capsys, "not binary")


def test_one_class(spark, tmp_path, job_args, database, capsys):
    path = tmp_path / "one.parquet"
    frame = small_frame()
    frame["answer"] = "yes"
    frame.to_parquet(path, index=False)
    bad(spark, database, small_args(str(path), job_args), capsys, "one class")


def test_null_labels(spark, tmp_path, job_args, database, capsys):
    path = tmp_path / "nulls.parquet"
    frame = small_frame()
    frame.loc[:40, "answer"] = None
    frame.to_parquet(path, index=False)
    bad(spark, database, small_args(str(path), job_args), capsys, "max_null_label_fraction")
    # below the threshold the rows are dropped instead
    assert run(small_args(str(path), job_args, "--set", "input.max_null_label_fraction=0.2")) == 0
    assert spark.table(f"{database}.features_small").count() == 400 - 41


def test_empty_input(spark, tmp_path, job_args, database, capsys):
    path = tmp_path / "empty.csv"
    small_frame().head(0).to_csv(path, index=False)  # a header and no rows
    bad(spark, database, small_args(str(path), job_args), capsys, "empty")


def test_bad_config_key(spark, small_csv, job_args, database, capsys):
    bad(spark, database, small_args(small_csv, job_args, "--set", "features.topk=3"), capsys,
        "features.topk")
    bad(spark, database, small_args(small_csv, job_args, "--set", "features.top_k=many"), capsys,
        "features.top_k")


def test_bad_derived_expression(spark, small_csv, job_args, database, capsys):
    bad(spark, database, small_args(small_csv, job_args, "--set", "features.derived={w: nosuchcol + 1}"),
        capsys, "features.derived.w")


def test_failed_rerun_keeps_the_old_table(spark, small_csv, tmp_path, job_args, database, capsys):
    assert run(small_args(small_csv, job_args)) == 0
    path = tmp_path / "three.parquet"
    frame = small_frame()
    frame["answer"] = np.resize(["a", "b", "c"], len(frame))
    frame.to_parquet(path, index=False)
    assert run(small_args(str(path), job_args)) == 2
    assert spark.table(f"{database}.features_small").count() == 400
