"""Exact ROC AUC computed by Spark on executors, from (label, score) columns.

The driver never sees the rows: it receives one small row per score bucket.

AUC = U / (P * N) with U = sum over positives of (#negatives scored lower
+ 1/2 #negatives scored equal) (Mann-Whitney; ties count one half, as in
:func:`adanet_spark.adanet.metrics.roc_auc`). One Spark action:

1. group by distinct score: (score, positives, negatives);
2. cut [0, 1] into ``buckets`` equal buckets (monotone, so equal scores share a
   bucket and buckets are ordered);
3. within each bucket, negatives below each score: a window sorted by score,
   partitioned by bucket (on executors);
4. per bucket: positives, negatives and the within-bucket part of U, collected;
   the driver adds each bucket's positives times the negatives of lower buckets.

Scores outside [0, 1] (logits) work too: they are clamped into the end buckets,
where the within-bucket sort still orders them exactly.
"""
from __future__ import annotations

import math

from pyspark.sql import DataFrame, Window, functions as F


def spark_auc(df: DataFrame, label: str = "label", score: str = "probability",
              buckets: int = 4096) -> tuple[float, int, int]:
    """``(auc, positives, negatives)``; AUC is NaN when a class is missing."""
    s = F.col(score).cast("double")
    grouped = (df.where(F.col(score).isNotNull())
                 .groupBy(s.alias("s"))
                 .agg(F.sum((F.col(label) > 0.5).cast("long")).alias("pos"),
                      F.sum((F.col(label) <= 0.5).cast("long")).alias("neg")))
    bucket = F.least(F.greatest(F.floor(F.col("s") * buckets), F.lit(0)), F.lit(buckets - 1)).cast("int")
    w = Window.partitionBy("b").orderBy("s").rowsBetween(Window.unboundedPreceding, -1)
    rows = (grouped.withColumn("b", F.when(F.isnan("s"), F.lit(-1)).otherwise(bucket))
                   .withColumn("below", F.coalesce(F.sum("neg").over(w), F.lit(0)))
                   .groupBy("b")
                   .agg(F.sum("pos").alias("pos"), F.sum("neg").alias("neg"),
                        F.sum(F.col("pos") * (F.col("below") + F.col("neg") * 0.5)).alias("u"))
                   .collect())
    if any(r["b"] == -1 for r in rows):
        raise ValueError("spark_auc: scores contain NaN")
    n_pos = sum(int(r["pos"]) for r in rows)
    n_neg = sum(int(r["neg"]) for r in rows)
    if n_pos == 0 or n_neg == 0:
        return math.nan, n_pos, n_neg
    u, negs_below = 0.0, 0
    for r in sorted(rows, key=lambda r: r["b"]):
        u += float(r["u"]) + int(r["pos"]) * negs_below
        negs_below += int(r["neg"])
    return u / (n_pos * n_neg), n_pos, n_neg
