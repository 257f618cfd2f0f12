"""FeatureSpec JSON: bin edges and min-count levels fitted by Spark survive a round trip;
a spec written before bins existed still loads."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from adanet_spark.data.spec import CategoricalFeature, FeatureSpec, NumericFeature
from adanet_spark.data.statistics import fit_categorical, fit_numeric

OLD_SPEC = json.dumps({  # as written before numeric bins (and the split record) existed
    "dataset": "old", "numeric": [{"name": "x", "mean": 1.5, "std": 2.0, "fill": 1.5}],
    "categorical": [{"name": "c", "levels": ["a", "b"]}], "source_label": "y", "positive": "1",
    "derived": {}, "key_columns": [], "run_id": "r1"})


def test_a_spec_fitted_by_spark_survives_a_round_trip(spark):
    pdf = pd.DataFrame({"x": [float(v % 37) for v in range(400)], "c": ["a"] * 300 + ["b"] * 95 + ["c"] * 5})
    df = spark.createDataFrame(pdf)
    numeric, _ = fit_numeric(df, ["x"], bins=8)
    spec = FeatureSpec("round", tuple(numeric), tuple(fit_categorical(df, ["c"], top_k=10, min_count=10)))
    assert len(spec.numeric[0].bins) == 9 and spec.categorical[0].levels == ("a", "b")
    again = FeatureSpec.from_json(spec.to_json())
    assert again == spec
    assert isinstance(again.numeric[0].bins, tuple) and again.numeric[0].bins == spec.numeric[0].bins
    assert again.to_json() == spec.to_json()


def test_an_old_spec_without_bins_still_loads():
    spec = FeatureSpec.from_json(OLD_SPEC)
    assert spec.numeric == (NumericFeature("x", 1.5, 2.0, 1.5),) and spec.numeric[0].bins == ()
    assert spec.categorical == (CategoricalFeature("c", ("a", "b")),) and spec.cardinalities == [3]
    assert json.loads(spec.to_json())["numeric"][0]["bins"] == []


def test_standardized_bins_are_in_the_feature_tables_units():
    f = NumericFeature("x", mean=10.0, std=4.0, fill=10.0, bins=(2.0, 10.0, 18.0))
    assert f.standardized_bins == pytest.approx((-2.0, 0.0, 2.0))
    assert NumericFeature("x", 0.0, 1.0, 0.0).standardized_bins == ()
