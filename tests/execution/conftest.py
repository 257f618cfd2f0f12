"""Fixtures for the executor tests: the shared Spark session, a tiny Parquet feature table.

``exec_spark`` is the shared ``spark`` fixture of tests/conftest.py (local[2]):
if it cannot start, these tests fail with its error rather than run on some
other session.
"""
from __future__ import annotations

import os
import sys

import cloudpickle
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyspark import cloudpickle as spark_cloudpickle

from tests.execution import toys

os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)

# Workers (Spark Python workers, Horovod processes) need not import the tests package:
# ship the toy functions by value, with both picklers that may carry them.
cloudpickle.register_pickle_by_value(toys)
spark_cloudpickle.register_pickle_by_value(toys)


@pytest.fixture(scope="module")
def exec_spark(spark):
    """The shared session (its failure to start is these tests' failure)."""
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
