"""benchmarks/synthetic.py: Spark-made rows, reproducible from the seed, with the stated law."""
import numpy as np
import pytest
from pyspark.sql import functions as F

from benchmarks import synthetic

ROWS = 20_000


def collect(spark, seed, partitions):
    pdf = synthetic.frame(spark, ROWS, seed, partitions).toPandas()
    return pdf.sort_values("id").reset_index(drop=True)


@pytest.fixture(scope="module")
def rows(spark):
    return collect(spark, 7, 3)


def effect(levels, k, amplitude, seed):
    """The docstring's per-level effect, written again in numpy."""
    s = np.sin(levels * 12.9898 + (78.233 * k + 0.1234 * seed)) * 43758.5453
    return amplitude * (2.0 * (s - np.floor(s)) - 1.0)


def law(pdf, seed):
    """f(x) as the module's docstring states it, independently of the Spark expressions."""
    x = {c: pdf[c].to_numpy() for c in synthetic.NUMERIC}
    lv = {c: pdf[c].str[1:].astype(int).to_numpy() for c in synthetic.CATEGORICAL}
    e = {c: effect(lv[c], k, a, seed) for k, (c, a) in enumerate(zip(synthetic.CATEGORICAL, (1.0, 0.8, 0.6, 0.5, 0.4)))}
    return (0.9 * x["x0"] * x["x1"] + np.sin(2 * x["x2"]) + 0.5 * (x["x3"] ** 2 - 1)
            + 0.8 * np.maximum(x["x4"] - x["x5"], 0) + 0.4 * x["x6"] + 0.3 * np.tanh(x["x7"] - 1)
            + 0.3 * x["x8"] + e["c10"] * (1 + 0.5 * x["x0"]) + 0.6 * (lv["c10"] % 2 == 0) * x["x6"]
            + e["c100"] + e["c1k"] + e["c10k"] + e["c100k"] - 1.0)


def test_the_same_seed_gives_the_same_rows_whatever_the_partitioning(spark, rows):
    again = collect(spark, 7, 5)
    assert again.equals(rows)
    other = collect(spark, 8, 3)
    assert not np.allclose(other["x0"], rows["x0"]) and not other["label"].equals(rows["label"])
    assert rows["id"].tolist() == list(range(ROWS))


def test_columns_have_the_stated_shapes(rows):
    assert list(rows.columns) == ["id", *synthetic.NUMERIC, *synthetic.CATEGORICAL, "bayes_logit", "label"]
    for c in ("x0", "x5", "x9"):
        assert abs(rows[c].mean()) < 0.05 and abs(rows[c].std() - 1) < 0.05
    assert rows["x6"].between(-2, 2).all() and (rows["x7"] > 0).all()
    assert 0.5 < np.corrcoef(rows["x0"], rows["x8"])[0, 1] < 0.7
    for name, card in synthetic.CARDINALITIES.items():
        levels = rows[name].str[1:].astype(int)
        assert levels.between(0, card - 1).all()
        assert levels.value_counts().iloc[0] > 3 * ROWS / card  # skewed: the top level is frequent
    assert rows["c10"].nunique() == 10 and rows["c100k"].nunique() > 5_000


def test_the_label_follows_the_stated_law(rows):
    f = law(rows, 7)
    np.testing.assert_allclose(rows["bayes_logit"], f, rtol=1e-9, atol=1e-9)
    p = 1 / (1 + np.exp(-f))
    y = rows["label"].to_numpy()
    assert set(np.unique(y)) == {0, 1}
    # Bernoulli(sigmoid(f)): calibrated in every decile of f, within 4 standard errors
    for part in np.array_split(np.argsort(f), 10):
        se = np.sqrt(p[part].mean() * (1 - p[part].mean()) / len(part))
        assert abs(y[part].mean() - p[part].mean()) < 4 * se + 1e-3


def test_a_linear_model_of_the_columns_falls_short_of_the_bayes_scorer(rows):
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    X = np.column_stack([rows[c] for c in synthetic.NUMERIC]
                        + [np.eye(10)[rows["c10"].str[1:].astype(int)]])
    y = rows["label"].to_numpy()
    linear = LogisticRegression(max_iter=500).fit(X, y).decision_function(X)  # in-sample: its best case
    bayes = roc_auc_score(y, rows["bayes_logit"])
    assert bayes > 0.75
    assert bayes - roc_auc_score(y, linear) > 0.05  # interactions a linear model cannot express


def test_generate_writes_parquet_on_the_executors(spark, tmp_path):
    path = synthetic.generate(spark, 5_000, 3, str(tmp_path / "raw"), partitions=2)
    df = spark.read.parquet(path)
    assert df.count() == 5_000 and df.rdd.getNumPartitions() >= 1
    assert df.agg(F.sum("label")).first()[0] == synthetic.frame(spark, 5_000, 3, 4).agg(F.sum("label")).first()[0]
