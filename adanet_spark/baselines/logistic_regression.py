"""``logistic_regression``: Spark ML logistic regression on the feature table.

Inputs: the standardised numeric features as they are, plus every categorical
index one-hot encoded by ``OneHotEncoder``. The encoder takes each column's size
from the FeatureSpec's cardinality (attached to the column as ML nominal
metadata), not from the values seen, so train, valid and test get the same
columns; ``dropLast`` leaves each column's last index (its rarest kept level) out
as the reference, so the one-hot block is not collinear with the intercept. Regularisation:
``baselines.lr_reg_param`` and ``baselines.lr_elastic_net``; ``lr_max_iter`` L-BFGS /
OWL-QN iterations. Fitted on the train split only (no tuning: one trial).

AUC: the library's exact AUC computed by Spark on the model's P(label = 1)
(:func:`adanet_spark.results.evaluate.spark_auc`, the same function that
scores AdaNet's final ensemble; Mann-Whitney with ties counted one half, equal
to :func:`adanet_spark.adanet.metrics.roc_auc`, which the tests check), not
``BinaryClassificationEvaluator``, whose default down-samples the ROC curve
to 1000 bins. Scoring stays on the executors; only the AUC reaches the driver.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Optional

from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.classification import LogisticRegression
from pyspark.ml.feature import OneHotEncoder, VectorAssembler
from pyspark.ml.functions import vector_to_array
from pyspark.sql import DataFrame, SparkSession, functions as F

from adanet_spark.baselines.auc import AUC_METHOD, frame_auc
from adanet_spark.config import JobConfig
from adanet_spark.data.feature_table import split_frame
from adanet_spark.data.spec import LABEL, FeatureSpec

log = logging.getLogger(__name__)

MODEL = "logistic_regression"
_LABEL = "_label"
_FEATURES = "_features"


@dataclass
class LogisticRegressionResult:
    model: str
    train_seconds: float  # features + fit, on the train split
    eval_seconds: float  # scoring the test split and its AUC
    valid_auc: float
    test_auc: float
    n_features: int
    iterations: int
    trials: int = 1
    fitted: Optional[PipelineModel] = None  # the fitted pipeline (one-hot + assembler + model)

    def notes(self, cfg: JobConfig) -> str:
        b = cfg.baselines
        return (f"Spark ML LogisticRegression regParam={b.lr_reg_param:g} elasticNetParam={b.lr_elastic_net:g} "
                f"maxIter={b.lr_max_iter} ({self.iterations} iterations), {self.n_features} inputs "
                f"(numeric + one-hot); {AUC_METHOD}")


def with_features(df: DataFrame, spec: FeatureSpec) -> DataFrame:
    """Label as double, categorical indices tagged with their cardinality (ML nominal metadata)."""
    cols = [F.col(LABEL).cast("double").alias(_LABEL)]
    cols += [F.col(f"`{n}`").cast("double").alias(n) for n in spec.numeric_names]
    for c in spec.categorical:
        meta = {"ml_attr": {"type": "nominal", "name": c.name, "num_vals": c.cardinality}}
        cols.append(F.col(f"`{c.name}`").cast("double").alias(c.name, metadata=meta))
    return df.select(*cols)


def build_pipeline(spec: FeatureSpec, cfg: JobConfig) -> Pipeline:
    cats = spec.categorical_names
    onehot = [f"{c}__onehot" for c in cats]
    stages = []
    if cats:
        stages.append(OneHotEncoder(inputCols=cats, outputCols=onehot, dropLast=True, handleInvalid="error"))
    stages.append(VectorAssembler(inputCols=spec.numeric_names + onehot, outputCol=_FEATURES))
    b = cfg.baselines
    stages.append(LogisticRegression(featuresCol=_FEATURES, labelCol=_LABEL, family="binomial",
                                     regParam=b.lr_reg_param, elasticNetParam=b.lr_elastic_net,
                                     maxIter=b.lr_max_iter))
    return Pipeline(stages=stages)


def probabilities(model: PipelineModel, df: DataFrame) -> DataFrame:
    """``(_label, p)``: the label and P(label = 1) of every row, computed on the executors."""
    return model.transform(df).select(_LABEL, vector_to_array("probability")[1].alias("p"))


def auc(model: PipelineModel, df: DataFrame) -> float:
    return frame_auc(probabilities(model, df), _LABEL, "p")[0]


def split_features(spark: SparkSession, table: str, spec: FeatureSpec, split: str) -> DataFrame:
    """One split of the feature table in the columns the fitted ML pipeline reads."""
    return with_features(split_frame(spark, table, split), spec)


def train_logistic_regression(spark: SparkSession, cfg: JobConfig, table: str,
                              spec: FeatureSpec) -> LogisticRegressionResult:
    """Fit on train, AUC on valid and test. ``table``: the feature table's name."""
    sc = spark.sparkContext
    t0 = time.perf_counter()
    sc.setJobDescription(f"baseline {MODEL}: fit on {table} train split")
    train = split_features(spark, table, spec, "train")
    parallelism = sc.defaultParallelism
    if train.rdd.getNumPartitions() < parallelism:  # one big file would use one core
        train = train.repartition(parallelism)
    train = train.cache()
    try:
        model = build_pipeline(spec, cfg).fit(train)
    finally:
        train.unpersist()
    train_s = time.perf_counter() - t0
    lr_model = model.stages[-1]
    n_features = int(lr_model.numFeatures)
    iterations = int(lr_model.summary.totalIterations) if lr_model.hasSummary else -1
    sc.setJobDescription(f"baseline {MODEL}: AUC on valid")
    valid_auc = auc(model, split_features(spark, table, spec, "valid"))
    sc.setJobDescription(f"baseline {MODEL}: AUC on test")
    t1 = time.perf_counter()
    test_auc = auc(model, split_features(spark, table, spec, "test"))
    eval_s = time.perf_counter() - t1
    sc.setJobDescription(None)
    log.info("%s: %d inputs, %d iterations; valid auc %.4f, test auc %.4f; fit %.1f s, scoring %.1f s",
             MODEL, n_features, iterations, valid_auc, test_auc, train_s, eval_s)
    return LogisticRegressionResult(MODEL, train_s, eval_s, valid_auc, test_auc, n_features, iterations,
                                    fitted=model)
