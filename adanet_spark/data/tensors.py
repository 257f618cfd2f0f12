"""Feature-table files -> Arrow -> torch tensors, on whichever process trains.

No Spark import: a Spark task or a Horovod worker reads its split straight from
the table's Parquet files (the driver hands over only the file list), so no
training data ever passes through the driver.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from adanet_spark.adanet.tensor_data import TensorData
from adanet_spark.data.spec import LABEL, FeatureSpec


def arrow_to_tensors(table: pa.Table, spec: FeatureSpec) -> TensorData:
    """Columns named by the spec -> one contiguous tensor per kind (one copy, no per-row work)."""
    n = table.num_rows

    def stack(names: Sequence[str], dtype) -> np.ndarray:
        out = np.empty((n, len(names)), dtype=dtype)
        for j, name in enumerate(names):
            out[:, j] = table.column(name).to_numpy(zero_copy_only=False)
        return out

    return TensorData.from_numpy(stack(spec.numeric_names, np.float32),
                                 stack(spec.categorical_names, np.int64),
                                 table.column(LABEL).to_numpy(zero_copy_only=False))


@dataclass(frozen=True)
class ParquetSplit:
    """A lazy reference to one split of a feature table: file paths plus the spec.

    Small and picklable; ``load()`` reads only the feature and label columns.
    Paths may be local or any filesystem pyarrow understands (``hdfs://``, ``s3://``).
    """

    paths: tuple[str, ...]
    spec_json: str

    def load(self) -> TensorData:
        spec = FeatureSpec.from_json(self.spec_json)
        columns = spec.feature_names + [LABEL]
        tables = [_read_file(p, columns) for p in self.paths]
        table = pa.concat_tables(tables) if tables else _empty(spec)
        return arrow_to_tensors(table, spec)


def _read_file(path: str, columns: list[str]) -> pa.Table:
    local = path[len("file:"):] if path.startswith("file:") else path
    while local.startswith("//"):
        local = local[1:]
    # No hive partition discovery: the path holds split=<name> and Delta also writes the
    # split column into the file, so discovery fails with "Unable to merge: Field split".
    return pq.read_table(local, columns=columns, partitioning=None)


def _empty(spec: FeatureSpec) -> pa.Table:
    cols = {n: pa.array([], pa.float32()) for n in spec.numeric_names}
    cols.update({n: pa.array([], pa.int64()) for n in spec.categorical_names})
    cols[LABEL] = pa.array([], pa.int32())
    return pa.table(cols)
