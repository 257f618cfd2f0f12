"""Fixtures for the executor tests: one local[2] Spark session for the whole run.

Uses the lead's shared ``spark`` fixture when tests/conftest.py provides one
(``exec_spark`` then just returns it); otherwise starts a plain local[2]
session (no Delta needed here) with the workers on this venv's Python.
"""
from __future__ import annotations

import logging
import os
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import toys

os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)

# Workers cannot import this test directory: ship the toy functions by value.
import cloudpickle  # noqa: E402
cloudpickle.register_pickle_by_value(toys)
try:
    from pyspark import cloudpickle as spark_cloudpickle  # noqa: E402
    spark_cloudpickle.register_pickle_by_value(toys)
except ImportError:  # pragma: no cover
    pass


@pytest.fixture(scope="module")
def exec_spark(request):
    """The lead's shared ``spark`` fixture if there is one, else a local[2] session
    (started once, then reused by every module through getOrCreate)."""
    try:
        return request.getfixturevalue("spark")
    except pytest.FixtureLookupError:
        pass
    except Exception as exc:  # e.g. no Delta jars yet: these tests do not need Delta
        logging.getLogger(__name__).warning("shared spark fixture unavailable (%s); using a plain one", exc)
    from pyspark.sql import SparkSession
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    spark = (SparkSession.builder.master("local[2]").appName("adanet-execution-tests")
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.shuffle.partitions", "2")
             .config("spark.driver.memory", "1g")
             .config("spark.pyspark.python", sys.executable)
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    logging.getLogger("py4j").setLevel(logging.WARNING)
    return spark


@pytest.fixture(scope="session")
def parquet_data(tmp_path_factory):
    """A tiny feature 'table' as Parquet files + ParquetSplit refs (train / valid)."""
    from adanet_spark.data.spec import FeatureSpec, NumericFeature
    from adanet_spark.data.tensors import ParquetSplit
    root = tmp_path_factory.mktemp("features")
    rng = np.random.default_rng(0)
    spec = FeatureSpec(dataset="toy", numeric=tuple(NumericFeature(f"x{i}", 0.0, 1.0, 0.0) for i in range(3)),
                       categorical=())
    refs = {}
    for split, n in (("train", 400), ("valid", 100)):
        x = rng.normal(size=(n, 3)).astype("float32")
        y = (x[:, 0] + 0.5 * x[:, 1] + rng.normal(scale=0.5, size=n) > 0).astype("int32")
        paths = []
        for part in range(2):
            sl = slice(part * n // 2, (part + 1) * n // 2)
            t = pa.table({"x0": x[sl, 0], "x1": x[sl, 1], "x2": x[sl, 2], "label": y[sl]})
            p = root / f"split={split}" / f"part-{part}.parquet"
            p.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(t, p)
            paths.append("file:" + str(p))
        refs[split] = ParquetSplit(tuple(paths), spec.to_json())
    return refs
