"""The input contract on real Spark (nothing is written here: ``feature_table.prepare`` stops
before the write): the warnings, once each and naming the column; numeric text; names;
what ``features.replace`` and ``features.exclude`` allow; the split check. The same cases as
whole jobs, with their exit codes and stderr: tests/jobs/test_prepare_features_bad_input.py."""
import logging

import numpy as np
import pandas as pd
import pytest

from adanet_spark.config import load_config
from adanet_spark.data import feature_table, validation
from adanet_spark.errors import BadInputError

N = 200


def frame(**columns):
    rng = np.random.default_rng(0)
    x = rng.normal(size=N)
    return pd.DataFrame({"x": x, **columns, "y": np.where(x + rng.normal(size=N) > 0, "yes", "no")})


def prepare(spark, tmp_path, df, *sets, fmt="parquet"):
    path = str(tmp_path / f"in.{fmt}")
    df.to_parquet(path, index=False) if fmt == "parquet" else df.to_csv(path, index=False)
    cfg = load_config(None, ["dataset=v", f"input.path={path}", f"input.format={fmt}", "input.label=y",
                             "input.positive=yes", "run.id=r", *sets])
    prepared = feature_table.prepare(spark, cfg)
    prepared.release()
    return prepared.spec


def warnings_about(caplog, column):
    return [r.getMessage() for r in caplog.records
            if r.levelno == logging.WARNING and r.getMessage().startswith(f"column '{column}'")]


def test_all_null_constant_and_id_like_columns_are_warned_about_once(spark, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="adanet_spark.data.validation")
    spec = prepare(spark, tmp_path, frame(**{"all null": [None] * N, "const": [7.0] * N,
                                             "uid": [f"u{i:05d}" for i in range(N)]}), fmt="csv")
    assert warnings_about(caplog, "all null") == ["column 'all null' is null in every row: dropped from the features"]
    assert "all null" not in spec.feature_names
    (const,) = warnings_about(caplog, "const")
    assert "has one value (7.0) in every row that has one" in const and "(features.exclude)" in const
    (uid,) = warnings_about(caplog, "uid")
    assert uid.startswith("column 'uid' looks like an ID: about ") and "distinct values in 200 rows" in uid
    assert warnings_about(caplog, "x") == []


def test_id_like_beyond_top_k_says_how_many_levels_are_kept(spark, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="adanet_spark.data.validation")
    spec = prepare(spark, tmp_path, frame(tail=[f"t{i}" for i in range(N)]), "features.top_k=20")
    (tail,) = warnings_about(caplog, "tail")
    assert "a level is kept only if seen 10 times in train (features.min_level_count), 20 of them at most " \
           "(features.top_k), the rest share index 0 (features.exclude)" in tail
    assert spec.categorical[0].cardinality == 1  # each value is seen once: all share index 0


def test_numeric_text_is_suggested_then_cast_with_its_invalid_values_imputed(spark, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="adanet_spark.data.validation")
    numstr = ["N/A" if i % 20 == 0 else f"{i * 1.5}" for i in range(N)]
    spec = prepare(spark, tmp_path, frame(numstr=numstr))
    (hint,) = warnings_about(caplog, "numstr")
    assert hint == ("column 'numstr' is text, but 190 of its 200 values are numbers: if it is a number, list it "
                    "in features.numeric (values that are not numbers are then imputed)")
    assert spec.categorical_names == ["numstr"]
    caplog.clear()
    spec = prepare(spark, tmp_path, frame(numstr=numstr), "features.numeric=[x, numstr]")
    assert warnings_about(caplog, "numstr") == [
        "column 'numstr': 10 value(s) that are not numbers (e.g. 'N/A') are imputed like nulls (features.numeric)"]
    (feature,) = [f for f in spec.numeric if f.name == "numstr"]
    assert feature.mean == pytest.approx(np.mean([i * 1.5 for i in range(N) if i % 20]), rel=0.2)
    with pytest.raises(BadInputError, match=r"numeric column 'numstr' holds 10 values of 200 that are not numbers"):
        prepare(spark, tmp_path, frame(numstr=numstr), "features.numeric=[x, numstr]",
                "input.max_invalid_fraction=0.01")


def test_names_only_matter_when_they_are_written(spark, tmp_path):
    df = frame(**{"with space": ["a", "b"] * (N // 2)})
    with pytest.raises(BadInputError, match="column name 'with space' holds a space"):
        prepare(spark, tmp_path, df)
    assert prepare(spark, tmp_path, df, "features.exclude=[with space]").feature_names == ["x"]
    renamed = prepare(spark, tmp_path, df, "features.exclude=[with space]", "features.derived={spaced: '`with space`'}")
    assert renamed.categorical_names == ["spaced"]
    for reserved in ("split", "Row_ID"):
        with pytest.raises(BadInputError, match=f"column '{reserved}' has a name the feature table uses"):
            prepare(spark, tmp_path, frame(**{reserved: np.arange(N)}))


def test_duplicates_are_compared_case_insensitively_and_replace_allows_shadowing(spark, tmp_path):
    with pytest.raises(BadInputError, match=r"duplicate column names: 'x' more than once \(Spark compares names"):
        prepare(spark, tmp_path, frame(X=np.arange(N)))  # Parquet: Spark's reader refuses, in its words
    with pytest.raises(BadInputError, match=r"duplicate column names 'x' and 'X' \(Spark compares names"):
        prepare(spark, tmp_path, frame(X=np.arange(N)), fmt="csv")  # a CSV header: Spark would rename them
    with pytest.raises(BadInputError, match=r"derived column 'X' would replace input column 'x', features.derived.X"):
        prepare(spark, tmp_path, frame(), "features.derived={X: x * 2}")
    spec = prepare(spark, tmp_path, frame(), "features.derived={x: x * 2}", "features.replace=[x]")
    assert spec.numeric_names == ["x"] and spec.derived == {"x": "x * 2"}


def test_every_split_needs_rows_and_train_both_classes(spark):
    df = spark.createDataFrame([("train", 1), ("train", 0), ("valid", 1), ("test", 0)], "split string, label int")
    validation.check_splits(df, "'t'")
    with pytest.raises(BadInputError, match=r"split 'valid' gets no rows of 3, input 't' \(features.valid_fraction\)"):
        validation.check_splits(df.where("split <> 'valid'"), "'t'")
    with pytest.raises(BadInputError, match="the train split holds one class only"):
        validation.check_splits(df.where("NOT (split = 'train' AND label = 0)"), "'t'")


def test_the_error_line_names_what_where_and_the_key():
    assert str(validation.bad("no rows", "input 'x.csv'", "input.path")) == "no rows, input 'x.csv' (input.path)"
    assert validation.duplicates(["a", "B", "b", "c", "A", ""]) == [["a", "A"], ["B", "b"]]
