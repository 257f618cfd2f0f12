"""The model on executors: one broadcast per model and driver, one load per Python process."""
import os

import pandas as pd
import pytest
from pyspark.sql import functions as F
from pyspark.sql.functions import pandas_udf

from adanet_spark.scoring import cache
from tests.scoring.tiny_model import save_tiny_model


@pytest.fixture(scope="module")
def saved(spark, tmp_path_factory):
    return save_tiny_model(spark, tmp_path_factory.mktemp("cache"), seed=3)


def test_one_broadcast_per_model_and_driver(spark, saved, tmp_path):
    h = cache.handle(spark, saved)
    assert cache.handle(spark, saved) is h
    assert (h.uri, h.digest, h.run_id) == (saved.uri, saved.digest, "score-run")
    other = save_tiny_model(spark, tmp_path, seed=4)
    assert cache.handle(spark, other).broadcast is not h.broadcast


def test_cached_model_loads_once_in_this_process(spark, saved):
    h = cache.handle(spark, saved)
    before = cache.LOADS["count"]
    ensemble, spec = cache.cached_model(h)
    assert cache.cached_model(h)[0] is ensemble and spec == saved.spec
    assert cache.LOADS["count"] == before + 1


def test_one_load_per_executor_process(spark, saved):
    h = cache.handle(spark, saved)

    @pandas_udf("string")
    def probe(ids: pd.Series) -> pd.Series:
        cache.cached_model(h)
        return pd.Series([f"{os.getpid()} {cache.LOADS['count']}"] * len(ids))

    partitions = 8
    rows = (spark.range(0, 800, numPartitions=partitions)
                 .select(F.spark_partition_id().alias("task"), probe("id").alias("seen"))
                 .distinct().collect())
    seen = {}  # pid -> load counts that process reported, over all its tasks
    for r in rows:
        pid, count = r["seen"].split()
        seen.setdefault(pid, set()).add(int(count))
    assert len({r["task"] for r in rows}) == partitions
    assert len(seen) < partitions  # Python workers are reused across tasks...
    assert all(len(counts) == 1 for counts in seen.values()), seen  # ...and none loads it again
