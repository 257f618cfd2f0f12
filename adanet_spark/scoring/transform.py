"""Executor-side work of scoring, in pandas and numpy: transform, check, predict.

:func:`transform_pandas` is ``data.features.transform`` written in pandas, for the
SQL function, whose struct carries raw values: the same imputation and
standardisation, and categorical levels matched the way Spark's
``CAST(value AS STRING)`` spells them, so both paths give the same indices.
"""
from __future__ import annotations

import math
import re
from typing import Any, Optional, Sequence

import numpy as np
import pandas as pd

from adanet_spark.data.spec import OTHER_INDEX, FeatureSpec
from adanet_spark.errors import BadInputError

_NUMERIC = ("tinyint", "smallint", "int", "bigint", "float", "double", "boolean")
_UNRESOLVED = re.compile(r"name `([^`]+)` cannot be resolved")


# -- prediction -----------------------------------------------------------------------
def predict(ensemble, numeric: np.ndarray, categorical: np.ndarray) -> np.ndarray:
    """P(label = 1) as float64 (Spark's DOUBLE) for transformed numeric and categorical arrays."""
    p = ensemble.predict_proba((numeric, categorical))
    return np.asarray(p, dtype=np.float64)


def _stack(batch, names: Sequence[str], dtype) -> np.ndarray:
    if not names:
        return np.zeros((batch.num_rows, 0), dtype)
    return np.column_stack([batch.column(n).to_numpy(zero_copy_only=False) for n in names]).astype(dtype, copy=False)


def probabilities_from_arrow(ensemble, spec: FeatureSpec, batch) -> np.ndarray:
    """A pyarrow RecordBatch in the feature-table layout -> P(label = 1), with no pandas
    in between (the Arrow columns become numpy arrays without a copy where they can)."""
    return predict(ensemble, _stack(batch, spec.numeric_names, np.float32),
                   _stack(batch, spec.categorical_names, np.int64))


# -- the transformation in pandas (SQL function path) --------------------------------
def spark_string(value: Any) -> Optional[str]:
    """What Spark's CAST(value AS STRING) gives for the scalar types a categorical may have."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if isinstance(value, pd.Timestamp):
        return str(value.to_pydatetime())
    return str(value)


def category_index(values: pd.Series, levels: Sequence[str]) -> np.ndarray:
    """Level indices (1..K) of ``values``; 0 for null, rare and unseen values."""
    index = {level: i + 1 for i, level in enumerate(levels)}
    out = np.full(len(values), OTHER_INDEX, dtype=np.int64)
    for j, v in enumerate(values.tolist()):
        text = spark_string(v)
        if text is None:
            continue
        i = index.get(text)
        # An integer column with nulls reaches pandas as float64: 3.0 may have been "3" in Spark.
        if i is None and isinstance(v, float) and v.is_integer():
            i = index.get(str(int(v)))
        out[j] = i if i is not None else OTHER_INDEX
    return out


def transform_pandas(pdf: pd.DataFrame, spec: FeatureSpec) -> tuple[np.ndarray, np.ndarray]:
    """``features.transform`` in pandas: standardised float32 numerics, int64 level indices."""
    n = len(pdf)
    numeric = np.empty((n, len(spec.numeric)), dtype=np.float32)
    for j, f in enumerate(spec.numeric):
        col = pdf[f.name]
        if col.dtype == bool or col.dtype == object and col.map(lambda v: isinstance(v, bool)).any():
            col = col.map(lambda v: None if v is None else float(v))
        x = pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        x = np.where(np.isfinite(x), x, f.fill)
        numeric[:, j] = ((x - f.mean) / f.std).astype(np.float32)
    categorical = np.empty((n, len(spec.categorical)), dtype=np.int64)
    for j, f in enumerate(spec.categorical):
        categorical[:, j] = category_index(pdf[f.name], f.levels)
    return numeric, categorical


# -- input checks (driver side, on Spark types) ------------------------------------
def _is_numeric(dtype) -> bool:
    name = dtype.simpleString()
    return name in _NUMERIC or name.startswith("decimal")


def _is_atomic(dtype) -> bool:
    return not dtype.simpleString().startswith(("array", "map", "struct", "binary"))


def check_schema(fields: dict, spec: FeatureSpec, source: str, uri: str) -> None:
    """Every feature present with a usable type; a BadInputError names the first column at fault."""
    lower = {k.lower(): k for k in fields}
    for name in spec.numeric_names + spec.categorical_names:
        actual = fields.get(name) or fields.get(lower.get(name.lower(), ""))
        if actual is None:
            raise BadInputError(f"input {source} has no column '{name}', which model {uri} needs "
                                f"(features: {', '.join(spec.feature_names)})")
        if name in spec.numeric_names and not _is_numeric(actual):
            raise BadInputError(f"column '{name}' of {source} has type {actual.simpleString()}, but model "
                                f"{uri} expects a number")
        if name in spec.categorical_names and not _is_atomic(actual):
            raise BadInputError(f"column '{name}' of {source} has type {actual.simpleString()}, but model "
                                f"{uri} expects a categorical value (string, number or boolean)")


def derived_feature_error(source: str, uri: str):
    """The ``error`` argument of ``data.derived.add_derived`` for scoring ``source`` with
    model ``uri``: names the feature, its expression and the missing column."""
    def error(name: str, expression: str, exc: Exception) -> BadInputError:
        text = str(exc)
        m = _UNRESOLVED.search(text)
        what = f"column '{m.group(1)}' is missing" if m else text.strip().splitlines()[0][:200]
        return BadInputError(f"input {source}: cannot compute feature '{name}' = {expression} "
                             f"for model {uri}: {what}")
    return error
