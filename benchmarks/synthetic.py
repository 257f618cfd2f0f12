"""Synthetic tabular data made by Spark executors, with a label of known law.

``generate(spark, rows, seed, path)`` writes ``rows`` rows as Parquet; the driver
only plans the job (no data passes through it). Every value is a function of the
row's ``id`` and the seed alone (hashes of ``(id, seed, stream)``, not ``rand()``),
so the same seed gives the same rows whatever the partitioning.

Columns, shaped like a real table:

* ``id``: 0..rows-1 (a key: the benchmark splits on it, it is not a feature);
* ``x0``..``x9`` (double): x0-x5 standard normal, x6 uniform on [-2, 2], x7 log-normal
  (skewed, positive), x8 = 0.6 x0 + 0.8 z (correlated with x0), x9 noise that the
  label ignores;
* ``c10``, ``c100``, ``c1k``, ``c10k``, ``c100k`` (string ``v<level>``): categoricals of
  cardinality 10 to 100,000, levels drawn skewed (level = floor(card * u^2): few
  frequent levels, a long tail of rare ones);
* ``bayes_logit`` (double): f(x) below; **not a feature**;
* ``label`` (int): Bernoulli(sigmoid(f(x))), drawn from its own hash stream.

The law (effects e_c(level) = A_c * (2 * frac(sin(12.9898 level + 78.233 k_c
+ 0.1234 seed) * 43758.5453) - 1), a fixed pseudo-random effect per level)::

    f = 0.9 x0 x1 + sin(2 x2) + 0.5 (x3^2 - 1) + 0.8 max(x4 - x5, 0) + 0.4 x6
        + 0.3 tanh(x7 - 1) + 0.3 x8 + e_c10 (1 + 0.5 x0) + 0.6 [level of c10 even] x6
        + e_c100 + e_c1k + e_c10k + e_c100k - 1

with amplitudes A = 1.0, 0.8, 0.6, 0.5, 0.4 for c10 .. c100k. Products, a sine, a
square, a hinge and category-by-number terms are what a linear model on these
columns cannot express, so a net can beat logistic regression.

**Bayes-optimal AUC.** The label is Bernoulli(sigmoid(f(x))) given x, so P(y = 1 | x)
is increasing in f(x): f itself is the Bayes-optimal scorer, and the exact AUC of
``bayes_logit`` on the test rows (computed by Spark, :func:`bayes_auc`) is the best
AUC any model can reach on them. It is estimated, not bounded: the test rows are a
sample (standard error about 0.0004 at 200k test rows).

    .venv/bin/python benchmarks/synthetic.py --rows 200000 --seed 7 --out build/synthetic
"""
from __future__ import annotations

import math
import os
import sys

from pyspark.sql import functions as F

NUMERIC = tuple(f"x{i}" for i in range(10))
CARDINALITIES = {"c10": 10, "c100": 100, "c1k": 1000, "c10k": 10_000, "c100k": 100_000}
AMPLITUDES = {"c10": 1.0, "c100": 0.8, "c1k": 0.6, "c10k": 0.5, "c100k": 0.4}
CATEGORICAL = tuple(CARDINALITIES)
KEY, LOGIT, LABEL = "id", "bayes_logit", "label"
ROWS_PER_PARTITION = 1_000_000


def _uniform(seed: int, stream: int):
    """U[0, 1) from 53 bits of xxhash64(id, seed, stream)."""
    h = F.xxhash64(F.col(KEY), F.lit(seed), F.lit(stream)).bitwiseAND(F.lit((1 << 53) - 1))
    return h.cast("double") / F.lit(float(1 << 53))


def _normal(seed: int, stream: int):
    """Box-Muller on two of the row's uniforms."""
    u1, u2 = _uniform(seed, stream), _uniform(seed, stream + 1000)
    return F.sqrt(F.lit(-2.0) * F.log(F.lit(1.0) - u1)) * F.cos(F.lit(2 * math.pi) * u2)


def _effect(level, k: int, amplitude: float, seed: int):
    """The fixed pseudo-random effect of a categorical level, in [-amplitude, amplitude]."""
    s = F.sin(level.cast("double") * F.lit(12.9898) + F.lit(78.233 * k + 0.1234 * seed)) * F.lit(43758.5453)
    return F.lit(amplitude) * (F.lit(2.0) * (s - F.floor(s)) - F.lit(1.0))


def features(spark, rows: int, seed: int, partitions: int):
    """``id``, the numeric columns and the categorical levels (as ints), before the law."""
    df = spark.range(0, rows, 1, partitions)
    z = [_normal(seed, i) for i in range(10)]
    cols = [F.col(KEY)] + [z[i].alias(f"x{i}") for i in range(6)] + [
        (_uniform(seed, 6) * F.lit(4.0) - F.lit(2.0)).alias("x6"),
        F.exp(F.lit(0.5) * z[7]).alias("x7"),
        (F.lit(0.6) * z[0] + F.lit(0.8) * z[8]).alias("x8"),
        z[9].alias("x9")]
    for k, (name, card) in enumerate(CARDINALITIES.items()):
        u = _uniform(seed, 20 + k)
        cols.append(F.floor(F.lit(float(card)) * u * u).cast("int").alias(name))
    return df.select(*cols)


def with_label(df, seed: int):
    """Adds ``bayes_logit`` = f(x) and ``label`` ~ Bernoulli(sigmoid(f)); levels become strings."""
    x = {n: F.col(n) for n in NUMERIC}
    e = {n: _effect(F.col(n), k, AMPLITUDES[n], seed) for k, n in enumerate(CATEGORICAL)}
    f = (F.lit(0.9) * x["x0"] * x["x1"] + F.sin(F.lit(2.0) * x["x2"]) + F.lit(0.5) * (x["x3"] * x["x3"] - 1)
         + F.lit(0.8) * F.greatest(x["x4"] - x["x5"], F.lit(0.0)) + F.lit(0.4) * x["x6"]
         + F.lit(0.3) * F.tanh(x["x7"] - 1) + F.lit(0.3) * x["x8"]
         + e["c10"] * (F.lit(1.0) + F.lit(0.5) * x["x0"])
         + F.lit(0.6) * (F.col("c10") % 2 == 0).cast("double") * x["x6"]
         + e["c100"] + e["c1k"] + e["c10k"] + e["c100k"] - F.lit(1.0))
    p = F.lit(1.0) / (F.lit(1.0) + F.exp(-F.col(LOGIT)))
    out = df.withColumn(LOGIT, f).withColumn(LABEL, (_uniform(seed, 99) < p).cast("int"))
    levels = [F.concat(F.lit("v"), F.col(n).cast("string")).alias(n) for n in CATEGORICAL]
    return out.select(KEY, *NUMERIC, *levels, LOGIT, LABEL)


def frame(spark, rows: int, seed: int, partitions: int = 0):
    """The synthetic DataFrame (lazy: nothing runs until it is written or counted)."""
    partitions = partitions or max(2, -(-rows // ROWS_PER_PARTITION))
    return with_label(features(spark, rows, seed, partitions), seed)


def generate(spark, rows: int, seed: int, path: str, partitions: int = 0) -> str:
    """Write ``rows`` rows as Parquet at ``path`` (replaced); one Spark job, on the executors."""
    spark.sparkContext.setJobDescription(f"synthetic: {rows:,} rows, seed {seed}")
    frame(spark, rows, seed, partitions).write.mode("overwrite").parquet(path)
    spark.sparkContext.setJobDescription(None)
    return path


def bayes_auc(spark, raw_path: str, feature_table: str, split: str = "test") -> tuple[float, int]:
    """``(AUC of bayes_logit, rows)`` on one split of the prepared feature table (joined on ``id``,
    which the benchmark's config keeps as the split key); exact, computed by Spark."""

    from adanet_spark.results.evaluate import spark_auc
    ids = spark.table(feature_table).where(F.col("split") == split).select(KEY)
    raw = spark.read.parquet(raw_path).select(KEY, LABEL, (F.lit(1.0) / (F.lit(1.0) + F.exp(-F.col(LOGIT))))
                                              .alias("p"))
    auc, pos, neg = spark_auc(raw.join(ids, KEY), LABEL, "p")
    return auc, pos + neg


def main(argv=None) -> None:
    from _common import parser, spark_environment
    p = parser(__doc__, rows=200_000, seed=7, out="build/synthetic", partitions=0)
    args = p.parse_args(argv)
    spark_environment()
    from adanet_spark.session import get_session
    spark = get_session("adanet-synthetic", extra={"spark.ui.enabled": "false"})
    path = generate(spark, args.rows, args.seed, os.path.abspath(args.out), args.partitions)
    print(f"wrote {args.rows:,} rows (seed {args.seed}) to {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
