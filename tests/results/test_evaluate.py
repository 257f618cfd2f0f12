"""Spark-side exact AUC against the numpy reference (adanet_spark.adanet.metrics.roc_auc)."""
import math

import numpy as np
import pytest

from adanet_spark.adanet.metrics import roc_auc
from adanet_spark.results.evaluate import spark_auc


def _df(spark, labels, scores):
    return spark.createDataFrame([(int(y), float(s)) for y, s in zip(labels, scores)], "label int, probability double")


@pytest.mark.parametrize("buckets", [4096, 3])
def test_matches_reference_with_ties(spark, buckets):
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 300)
    s = np.round(np.clip(0.5 + 0.3 * (y - 0.5) + rng.normal(scale=0.25, size=300), 0, 1), 2)  # many ties
    auc, n_pos, n_neg = spark_auc(_df(spark, y, s), buckets=buckets)
    assert (n_pos, n_neg) == (int(y.sum()), int(300 - y.sum()))
    assert auc == pytest.approx(roc_auc(y, s), abs=1e-12)


def test_scores_outside_unit_interval_and_one_class(spark):
    y = np.array([0, 1, 0, 1, 1, 0])
    s = np.array([-3.0, 2.5, 0.2, 0.2, 7.0, -3.0])  # logits: clamped buckets, still exact
    assert spark_auc(_df(spark, y, s))[0] == pytest.approx(roc_auc(y, s), abs=1e-12)
    auc, n_pos, n_neg = spark_auc(_df(spark, [1, 1], [0.2, 0.4]))
    assert math.isnan(auc) and (n_pos, n_neg) == (2, 0)
