"""``logistic_regression``: Spark ML logistic regression on the feature table.

Inputs: the standardised numeric features as they are, plus every categorical
index one-hot encoded by ``OneHotEncoder``. The encoder takes each column's size
from the FeatureSpec's cardinality (attached to the column as ML nominal
metadata), not from the values seen, so train, valid and test get the same
columns; ``dropLast`` leaves each column's last index (its rarest kept level) out
as the reference, so the one-hot block is not collinear with the intercept. Regularisation:
one fit on the train split per strength of ``baselines.lr_reg_params`` (mixed by
``baselines.lr_elastic_net``; ``lr_max_iter`` L-BFGS / OWL-QN iterations), and the
one with the best valid AUC is kept (ties: the earlier); the test split is scored
once, afterwards (:class:`~adanet_spark.baselines.selection.Selected`).

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
from dataclasses import dataclass, field
from typing import Any, Optional

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
    train_seconds: float  # features + every fit on the train split + their valid AUCs
    valid_auc: float  # of the chosen strength
    n_features: int
    iterations: int
    reg_param: float  # the chosen strength
    valid_aucs: dict[float, float] = field(default_factory=dict)  # strength -> valid AUC
    fitted: Optional[PipelineModel] = None  # the chosen pipeline (one-hot + assembler + model)

    @property
    def trials(self) -> int:
        return len(self.valid_aucs)

    def notes(self, cfg: JobConfig) -> str:
        b = cfg.baselines
        tried = ", ".join(f"{k:g}: {v:.4f}" for k, v in self.valid_aucs.items())
        return (f"Spark ML LogisticRegression regParam={self.reg_param:g} chosen on valid ({tried}) "
                f"elasticNetParam={b.lr_elastic_net:g} maxIter={b.lr_max_iter} ({self.iterations} iterations), "
                f"{self.n_features} inputs (numeric + one-hot); {AUC_METHOD}")

    def score(self, spark: SparkSession, table: Any, split: str) -> tuple[float, int]:
        """Exact AUC and rows of ``split`` of ``table`` (a FeatureTable) with the chosen model."""
        return frame_auc(probabilities(self.fitted, split_features(spark, table.name, table.spec, split)),
                         _LABEL, "p")


def with_features(df: DataFrame, spec: FeatureSpec) -> DataFrame:
    """Label as double, categorical indices tagged with their cardinality (ML nominal metadata)."""
    cols = [F.col(LABEL).cast("double").alias(_LABEL)]
    cols += [F.col(f"`{n}`").cast("double").alias(n) for n in spec.numeric_names]
    for c in spec.categorical:
        meta = {"ml_attr": {"type": "nominal", "name": c.name, "num_vals": c.cardinality}}
        cols.append(F.col(f"`{c.name}`").cast("double").alias(c.name, metadata=meta))
    return df.select(*cols)


def build_pipeline(spec: FeatureSpec, cfg: JobConfig, reg_param: float) -> Pipeline:
    cats = spec.categorical_names
    onehot = [f"{c}__onehot" for c in cats]
    stages = []
    if cats:
        stages.append(OneHotEncoder(inputCols=cats, outputCols=onehot, dropLast=True, handleInvalid="error"))
    stages.append(VectorAssembler(inputCols=spec.numeric_names + onehot, outputCol=_FEATURES))
    b = cfg.baselines
    stages.append(LogisticRegression(featuresCol=_FEATURES, labelCol=_LABEL, family="binomial",
                                     regParam=reg_param, elasticNetParam=b.lr_elastic_net,
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


def select_logistic_regression(spark: SparkSession, cfg: JobConfig, table: str,
                               spec: FeatureSpec) -> LogisticRegressionResult:
    """One fit on train per ``baselines.lr_reg_params``, the best by valid AUC kept.
    ``table``: the feature table's name (or a view of it); its test split is never read."""
    sc = spark.sparkContext
    t0 = time.perf_counter()
    sc.setJobDescription(f"baseline {MODEL}: fit on {table} train split")
    train = split_features(spark, table, spec, "train")
    parallelism = sc.defaultParallelism
    if train.rdd.getNumPartitions() < parallelism:  # one big file would use one core
        train = train.repartition(parallelism)
    train = train.cache()
    valid = split_features(spark, table, spec, "valid")
    best, valid_aucs = None, {}
    try:
        for reg in cfg.baselines.lr_reg_params:
            model = build_pipeline(spec, cfg, reg).fit(train)
            sc.setJobDescription(f"baseline {MODEL}: AUC on valid, regParam={reg:g}")
            valid_aucs[reg] = auc(model, valid)
            if best is None or valid_aucs[reg] > valid_aucs[best[0]]:
                best = (reg, model)
    finally:
        train.unpersist()
        sc.setJobDescription(None)
    train_s = time.perf_counter() - t0
    reg, model = best
    lr_model = model.stages[-1]
    iterations = int(lr_model.summary.totalIterations) if lr_model.hasSummary else -1
    log.info("%s: regParam %g chosen on valid (%s); %d inputs, %d iterations; %.1f s", MODEL, reg,
             ", ".join(f"{k:g}: {v:.4f}" for k, v in valid_aucs.items()), int(lr_model.numFeatures),
             iterations, train_s)
    return LogisticRegressionResult(MODEL, train_s, valid_aucs[reg], int(lr_model.numFeatures), iterations,
                                    reg, valid_aucs, fitted=model)
