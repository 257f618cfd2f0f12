"""The pandas UDFs and the DataFrame entry points, against the in-process ensemble."""
import numpy as np
import pytest
from pyspark.sql import functions as F

from adanet_spark.data import features
from adanet_spark.errors import BadInputError
from adanet_spark.scoring.spark import add_model_derived, score_dataframe, score_features, sql_udf
from tests.scoring.tiny_model import in_process, raw_frame, save_tiny_model

FRAME = raw_frame()


@pytest.fixture(scope="module")
def saved(spark, tmp_path_factory):
    return save_tiny_model(spark, tmp_path_factory.mktemp("spark"))


@pytest.fixture(scope="module")
def expected(spark, saved):
    return in_process(spark, saved, FRAME)


@pytest.fixture(scope="module")
def raw(spark):
    return spark.createDataFrame(FRAME).repartition(3)


def max_diff(pdf, expected, column="probability"):
    return np.abs(pdf.set_index("id")[column] - expected.loc[pdf["id"]].to_numpy()).max()


def test_score_features_matches_in_process(spark, saved, expected, raw):
    table = features.transform(raw.withColumn("xz", F.expr("x * z")), saved.spec, keep=("id",))
    pdf = score_features(spark, saved, table, keep=("id",)).toPandas()
    assert list(pdf.columns) == ["id", "probability"] and len(pdf) == len(FRAME)
    assert max_diff(pdf, expected) < 1e-6


def test_score_dataframe_keeps_raw_id_columns(spark, saved, expected, raw):
    pdf = score_dataframe(spark, saved, raw, keep=("id", "x"), output="p").toPandas()  # x: also a feature
    assert list(pdf.columns) == ["id", "x", "p"] and len(pdf) == len(FRAME)
    assert np.allclose(pdf.sort_values("id")["x"], FRAME["x"], equal_nan=True)  # raw, not standardised
    assert max_diff(pdf, expected, "p") < 1e-6


def test_sql_udf_scores_a_struct_of_raw_values(spark, saved, expected, raw):
    udf = sql_udf(spark, saved)
    pdf = raw.select("id", udf(F.struct("*", F.expr("x * z").alias("xz"))).alias("probability")).toPandas()
    assert max_diff(pdf, expected) < 1e-6
    with pytest.raises(Exception, match="adanet_score: the struct has no field 'color'"):
        raw.select(udf(F.struct("id", "x", "z", F.expr("x * z").alias("xz")))).collect()


def test_derived_features_are_added_and_unusable_non_features_skipped(spark, saved, raw):
    out = add_model_derived(raw, saved.spec, "t", saved.uri)  # label = f(answer): no answer here
    assert out.columns == ["id", "x", "z", "color", "xz"]


def test_missing_derived_input_names_feature_expression_and_column(spark, saved, raw):
    with pytest.raises(BadInputError) as err:
        score_dataframe(spark, saved, raw.drop("z"), keep=("id",), source="'in.parquet'")
    assert str(err.value) == (f"input 'in.parquet': cannot compute feature 'xz' = x * z for model {saved.uri}: "
                              f"column 'z' is missing")


def test_bad_inputs_are_named_before_any_scoring(spark, saved, raw):
    with pytest.raises(BadInputError, match=r"input t has no column 'key' \(asked to keep it as an id column\)"):
        score_dataframe(spark, saved, raw, keep=("key",), source="t")
    with pytest.raises(BadInputError, match="input t has no column 'color', which model"):
        score_dataframe(spark, saved, raw.drop("color"), keep=("id",), source="t")
    with pytest.raises(BadInputError, match="column 'x' of t has type string, but model"):
        score_dataframe(spark, saved, raw.withColumn("x", F.col("x").cast("string")), source="t")
