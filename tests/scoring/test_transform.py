"""The executor-side transformation, the schema check and the predict helper."""
import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from pyspark.sql import types as T

from adanet_spark.data import features
from adanet_spark.data.spec import CategoricalFeature, FeatureSpec, NumericFeature
from adanet_spark.errors import BadInputError
from adanet_spark.scoring.transform import (category_index, check_schema, predict, probabilities_from_arrow,
                                            spark_string, transform_pandas)
from tests.scoring.tiny_model import SPEC as TINY, tiny_ensemble

SPEC = FeatureSpec(dataset="m", numeric=(NumericFeature("x", 0.5, 2.0, 0.5), NumericFeature("flag", 0.1, 1.0, 0.1)),
                   categorical=(CategoricalFeature("c", ("red", "blue")), CategoricalFeature("n", ("3", "7"))))


def test_pandas_transform_matches_spark(spark):
    pdf = pd.DataFrame({"x": [1.0, None, math.inf, -2.5, float("nan")],
                        "flag": [True, False, None, True, False],
                        "c": ["red", "blue", None, "green", "red"],
                        "n": pd.array([3, 7, None, 5, 7], dtype="Int64")})
    df = spark.createDataFrame([tuple(None if pd.isna(v) and not isinstance(v, float) else v for v in row)
                                for row in pdf.astype(object).itertuples(index=False)],
                               "x double, flag boolean, c string, n bigint")
    expected = features.transform(df, SPEC).toPandas()
    rows = df.toPandas()  # what a pandas UDF receives: the int column with nulls arrives as float64
    numeric, categorical = transform_pandas(rows, SPEC)
    assert np.array_equal(numeric, expected[["x", "flag"]].to_numpy(np.float32))
    assert np.array_equal(categorical, expected[["c", "n"]].to_numpy(np.int64))


def test_spark_string_spells_values_as_cast_as_string():
    assert [spark_string(v) for v in (None, float("nan"), True, np.bool_(False), 7, np.int64(3), 2.5)] == \
        [None, None, "true", "false", "7", "3", "2.5"]


def test_category_index_unseen_and_null_share_index_zero():
    values = pd.Series([3.0, 7.0, float("nan"), 5.0])  # an integer column with a null, as pandas gets it
    assert category_index(values, ("3", "7")).tolist() == [1, 2, 0, 0]
    assert category_index(pd.Series([True, None, False]), ("false", "true")).tolist() == [2, 0, 1]


def test_predict_from_arrow_equals_predict_on_arrays():
    ens = tiny_ensemble()
    rng = np.random.default_rng(0)
    pdf = pd.DataFrame({"x": rng.normal(size=6), "z": rng.normal(size=6), "xz": rng.normal(size=6),
                        "color": [0, 1, 2, 3, 1, 0]})
    p = probabilities_from_arrow(ens, TINY, pa.RecordBatch.from_pandas(pdf, preserve_index=False))
    assert p.dtype == np.float64 and p.shape == (6,) and ((p > 0) & (p < 1)).all()
    expected = predict(ens, pdf[["x", "z", "xz"]].to_numpy(np.float32), pdf[["color"]].to_numpy(np.int64))
    assert np.array_equal(p, expected)


FIELDS = {"x": T.DoubleType(), "Flag": T.BooleanType(), "c": T.StringType(), "n": T.LongType()}


def test_check_schema_accepts_numbers_atoms_and_any_case():
    check_schema(FIELDS, SPEC, "t", "m://1")
    check_schema({**FIELDS, "x": T.DecimalType(10, 2), "c": T.IntegerType()}, SPEC, "t", "m://1")


@pytest.mark.parametrize("fields, message", [
    ({k: v for k, v in FIELDS.items() if k != "n"},
     "input t has no column 'n', which model m://1 needs (features: x, flag, c, n)"),
    ({**FIELDS, "x": T.StringType()}, "column 'x' of t has type string, but model m://1 expects a number"),
    ({**FIELDS, "c": T.ArrayType(T.StringType())},
     "column 'c' of t has type array<string>, but model m://1 expects a categorical value"),
])
def test_check_schema_names_the_column_at_fault(fields, message):
    with pytest.raises(BadInputError) as err:
        check_schema(fields, SPEC, "t", "m://1")
    assert message in str(err.value)
