"""Test-split AUC of any model, computed the way the pipeline scores AdaNet's final ensemble.

Scores come from Spark executors (an ensemble through
:func:`adanet_spark.scoring.spark.score_features`, the pandas UDF that scores
AdaNet in ``pipeline.tune.finalise``; Spark ML models through their own
``transform``), and the AUC is the library's exact one computed by Spark
(:func:`adanet_spark.results.evaluate.spark_auc`: Mann-Whitney, ties count one
half, the same number as :func:`adanet_spark.adanet.metrics.roc_auc`). The
driver never loads the split: only per-score-bucket totals reach it.
"""
from __future__ import annotations

import time
from typing import Any

from pyspark.sql import DataFrame, SparkSession

from adanet_spark.data.feature_table import split_frame
from adanet_spark.data.spec import LABEL, FeatureSpec
from adanet_spark.results.evaluate import spark_auc
from adanet_spark.results.models import SavedModel
from adanet_spark.scoring.spark import score_features

AUC_METHOD = "exact AUC on Spark (results.evaluate.spark_auc)"


def frame_auc(df: DataFrame, label: str = LABEL, score: str = "probability") -> tuple[float, int]:
    """``(auc, rows)`` of a DataFrame with a 0/1 label and a score column."""
    auc, n_pos, n_neg = spark_auc(df, label, score)
    return float(auc), int(n_pos + n_neg)


def ensemble_auc(spark: SparkSession, ensemble: Any, spec: FeatureSpec, table: str, split: str = "test",
                 name: str = "baseline") -> tuple[float, float, int]:
    """``(auc, seconds, rows)`` of an in-memory :class:`Ensemble` on ``split`` of ``table``,
    scored by the same UDF as AdaNet's final model; seconds covers broadcast, scoring and AUC."""
    t0 = time.perf_counter()
    # Never saved: the UDF only needs the bytes and the spec; the URI names it in logs and errors.
    saved = SavedModel(uri=f"memory:{name}", ensemble_bytes=ensemble.to_bytes(), spec=spec, meta={"model": name})
    scored = score_features(spark, saved, split_frame(spark, table, split), keep=(LABEL,))
    auc, rows = frame_auc(scored)
    return auc, time.perf_counter() - t0, rows
