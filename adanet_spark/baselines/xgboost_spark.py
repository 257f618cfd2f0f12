"""``xgboost``: distributed gradient boosting with ``xgboost.spark.SparkXGBClassifier``.

What a Spark team picks when it wants trees: the estimator trains on the feature
table's train split on ``training.workers`` Spark tasks (``num_workers``, one barrier
stage), early-stopped on the valid split, which rides along in the same DataFrame
flagged by ``validation_indicator_col`` (``baselines.xgboost.early_stopping_rounds``
rounds without a better valid AUC; predictions then use the best round). One model
per (max_depth, learning_rate) pair of ``baselines.xgboost``; the best by valid AUC
is kept. The test split is read once, afterwards.

Categorical columns go in as **native categoricals**: the feature table's indices
(0 = rare or unseen, 1..K by frequency) are marked 'c' in ``feature_types``, which
``xgboost.spark`` supports (it turns on ``enable_categorical``), so a split can
group any set of levels instead of cutting the frequency order; numeric columns are
'q'. AUCs are the library's exact ones computed by Spark, as for every model.
"""
from __future__ import annotations

import itertools
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Optional

from pyspark.ml.functions import vector_to_array
from pyspark.sql import DataFrame, SparkSession, functions as F

from adanet_spark.baselines.auc import AUC_METHOD, frame_auc
from adanet_spark.config import JobConfig
from adanet_spark.data.feature_table import split_frame
from adanet_spark.data.spec import LABEL, SPLIT, FeatureSpec

log = logging.getLogger(__name__)

MODEL = "xgboost"
_VALID = "_is_valid"
_FEATURES = "_features"


@dataclass
class XGBoostResult:
    model: str
    train_seconds: float  # every fit of the grid, with its valid AUC
    valid_auc: float
    params: dict  # the chosen max_depth and learning_rate
    rounds: int  # boosting rounds kept (best iteration + 1)
    valid_aucs: dict = field(default_factory=dict)  # "d<depth>-lr<rate>" -> valid AUC
    fitted: Any = None  # the chosen SparkXGBClassifierModel

    @property
    def trials(self) -> int:
        return len(self.valid_aucs)

    def notes(self, cfg: JobConfig) -> str:
        tried = ", ".join(f"{k}: {v:.4f}" for k, v in self.valid_aucs.items())
        return (f"xgboost.spark SparkXGBClassifier max_depth={self.params['max_depth']} "
                f"learning_rate={self.params['learning_rate']:g} chosen on valid ({tried}); {self.rounds} rounds "
                f"(early stopping {cfg.baselines.xgboost.early_stopping_rounds} on valid AUC), "
                f"{cfg.training.workers} workers, native categoricals; {AUC_METHOD}")

    def score(self, spark: SparkSession, table: Any, split: str) -> tuple[float, int]:
        """Exact AUC and rows of ``split`` of ``table`` (a FeatureTable) with the chosen model."""
        return probability_auc(self.fitted, feature_columns(split_frame(spark, table.name, split), table.spec))


def feature_columns(df: DataFrame, spec: FeatureSpec) -> DataFrame:
    """One array column of the features (numeric, then the categorical indices, as float; which
    are categorical is ``feature_types``' job), the label and the valid flag. An array, not a
    list of columns: with a list, xgboost.spark 3.2 fails on a partition that holds no valid row."""
    features = F.array(*[F.col(f"`{n}`").cast("float") for n in spec.feature_names])
    return df.select(features.alias(_FEATURES), F.col(LABEL).cast("int").alias(LABEL),
                     (F.col(SPLIT) == "valid").alias(_VALID))


def probability_auc(model: Any, featured: DataFrame) -> tuple[float, int]:
    """Exact AUC and rows of P(label = 1) on ``featured`` (rows of :func:`feature_columns`)."""
    scored = model.transform(featured)
    return frame_auc(scored.select(LABEL, vector_to_array("probability")[1].alias("p")), LABEL, "p")


def classifier(spec: FeatureSpec, cfg: JobConfig, max_depth: int, learning_rate: float, seed: int) -> Any:
    from xgboost.spark import SparkXGBClassifier
    x = cfg.baselines.xgboost
    return SparkXGBClassifier(
        features_col=_FEATURES, label_col=LABEL, validation_indicator_col=_VALID,
        feature_types=["q"] * len(spec.numeric) + ["c"] * len(spec.categorical),
        num_workers=cfg.training.workers, tree_method="hist", max_depth=max_depth, learning_rate=learning_rate,
        n_estimators=x.max_rounds, early_stopping_rounds=x.early_stopping_rounds, eval_metric="auc",
        random_state=seed, verbose=False)


def select_xgboost(spark: SparkSession, cfg: JobConfig, table: str, spec: FeatureSpec,
                   seed: Optional[int] = None) -> XGBoostResult:
    """Fit the grid on the train split of ``table`` (a feature table's name, or a view of it),
    early-stopped and compared on its valid split; its test split is never read."""
    seed = cfg.run.seed if seed is None else seed
    sc = spark.sparkContext
    x = cfg.baselines.xgboost
    data = feature_columns(spark.table(table).where(F.col(SPLIT).isin("train", "valid")), spec).cache()
    valid = data.where(F.col(_VALID))
    best, aucs = None, {}
    t0 = time.perf_counter()
    try:
        for depth, rate in itertools.product(x.max_depth, x.learning_rate):
            key = f"d{depth}-lr{rate:g}"
            sc.setJobDescription(f"baseline {MODEL}: fit {key} on {table} (early stopping on valid)")
            model = classifier(spec, cfg, depth, rate, seed).fit(data)
            sc.setJobDescription(f"baseline {MODEL}: AUC on valid, {key}")
            aucs[key] = probability_auc(model, valid)[0]
            if best is None or aucs[key] > aucs[best[0]]:
                best = (key, model, {"max_depth": depth, "learning_rate": rate})
    finally:
        data.unpersist()
        sc.setJobDescription(None)
    train_s = time.perf_counter() - t0
    key, model, params = best
    rounds = int(model.get_booster().best_iteration) + 1
    log.info("%s: %s chosen on valid (%s), %d rounds; %.1f s", MODEL, key,
             ", ".join(f"{k}: {v:.4f}" for k, v in aucs.items()), rounds, train_s)
    return XGBoostResult(MODEL, train_s, aucs[key], params, rounds, aucs, fitted=model)
