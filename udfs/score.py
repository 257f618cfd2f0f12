"""Score rows with a saved AdaNet ensemble, on executors.

The driver reads the model once through Hadoop FS (``results.models.load_model``:
local, HDFS, S3, DBFS) and broadcasts its bytes; each executor Python process
deserialises it once and keeps it (``_CACHE``, keyed by URI and checksum), so a
task of any size costs one dictionary lookup.

Three entry points:

* :func:`score_dataframe` (jobs/score.py): raw rows -> derived columns (Spark
  SQL, ``spec.derived``) -> :func:`adanet_spark.data.features.transform` (the
  exact Spark code that built the feature table) -> the ensemble, in a pandas UDF.
* :func:`score_features`: rows that already hold features (a feature table's
  split; the test AUC of a run) -> the ensemble.
* :func:`register`: a SQL function ``adanet_score(features STRUCT) -> DOUBLE``
  bound to one model, e.g. ``SELECT id, adanet_score(struct(*)) FROM t``. The
  struct's fields are raw values named as the model's features (extra fields
  are ignored); the spec's transformation is applied in pandas, mirroring
  ``features.transform``. A feature the model derived with ``features.derived``
  must be passed too: ``struct(*, <expression> AS <name>)`` (:func:`sql_struct`
  writes that expression for a model).
"""
from __future__ import annotations

import logging
import math
import os
import re
import threading
from dataclasses import dataclass
from typing import Any, Optional, Sequence

import numpy as np
import pandas as pd

from adanet_spark.data.spec import OTHER_INDEX, FeatureSpec
from adanet_spark.errors import BadInputError

log = logging.getLogger(__name__)

SQL_FUNCTION = "adanet_score"
_CACHE: dict = {}
_LOCK = threading.Lock()
LOADS = {"count": 0}  # models deserialised by this process (tests check "once per process")


# -- the model on executors ---------------------------------------------------------
@dataclass(frozen=True)
class ModelHandle:
    """Picklable reference shipped inside the UDF: URI, checksum and the broadcast bytes."""

    uri: str
    digest: str
    broadcast: Any  # Broadcast[(ensemble_bytes, spec_json)]
    run_id: Optional[str] = None


_HANDLES: dict = {}


def handle(spark, saved) -> ModelHandle:
    """One broadcast per model and driver (a SavedModel from ``results.models.load_model``)."""
    key = (id(spark.sparkContext), saved.uri, saved.digest)
    h = _HANDLES.get(key)
    if h is None:
        bc = spark.sparkContext.broadcast((saved.ensemble_bytes, saved.spec.to_json()))
        h = ModelHandle(saved.uri, saved.digest, bc, saved.meta.get("run_id"))
        _HANDLES[key] = h
    return h


def _model(h: ModelHandle):
    key = (h.uri, h.digest)
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            return hit
        import torch
        from adanet_spark.adanet.ensemble import Ensemble
        # One Spark task per core: a multi-threaded torch in every task would oversubscribe.
        torch.set_num_threads(int(os.environ.get("ADANET_SCORE_THREADS", "1")))
        blob, spec_json = h.broadcast.value
        model = (Ensemble.from_bytes(blob), FeatureSpec.from_json(spec_json))
        _CACHE[key] = model
        LOADS["count"] += 1
        return model


def _predict(ensemble, numeric: np.ndarray, categorical: np.ndarray) -> np.ndarray:
    p = ensemble.predict_proba((numeric, categorical))
    return np.asarray(p, dtype=np.float64)


def probabilities_from_features(ensemble, spec: FeatureSpec, pdf: pd.DataFrame) -> np.ndarray:
    """Rows already transformed (feature-table layout) -> P(label = 1)."""
    n = len(pdf)
    numeric = (pdf[spec.numeric_names].to_numpy(dtype=np.float32) if spec.numeric_names
               else np.zeros((n, 0), np.float32))
    categorical = (pdf[spec.categorical_names].to_numpy(dtype=np.int64) if spec.categorical_names
                   else np.zeros((n, 0), np.int64))
    return _predict(ensemble, numeric, categorical)


# -- the transformation in pandas (SQL function path) --------------------------------
def _spark_string(value: Any) -> Optional[str]:
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


def _category_index(values: pd.Series, levels: Sequence[str]) -> np.ndarray:
    index = {level: i + 1 for i, level in enumerate(levels)}
    out = np.full(len(values), OTHER_INDEX, dtype=np.int64)
    for j, v in enumerate(values.tolist()):
        text = _spark_string(v)
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
        categorical[:, j] = _category_index(pdf[f.name], f.levels)
    return numeric, categorical


# -- input checks ------------------------------------------------------------------
_NUMERIC = ("tinyint", "smallint", "int", "bigint", "float", "double", "boolean")
_UNRESOLVED = re.compile(r"name `([^`]+)` cannot be resolved")


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


def add_derived(df, spec: FeatureSpec, source: str, uri: str):
    """The spec's derived columns, in order. A derived *feature* that cannot be computed is
    a BadInputError naming the missing column; other derived columns (e.g. the label) are
    skipped when their inputs are absent, as scoring inputs have no label."""
    from pyspark.sql import functions as F
    features = set(spec.feature_names)
    for name, expression in spec.derived.items():
        try:
            out = df.withColumn(name, F.expr(expression))
            out.schema  # analysis is lazy: force it here
            df = out
        except Exception as exc:
            if name not in features:
                continue
            text = str(exc)
            m = _UNRESOLVED.search(text)
            what = f"column '{m.group(1)}' is missing" if m else text.strip().splitlines()[0][:200]
            raise BadInputError(f"input {source}: cannot compute feature '{name}' = {expression} "
                                f"for model {uri}: {what}") from exc
    return df


# -- entry points ------------------------------------------------------------------
def _features_udf(h: ModelHandle):
    from pyspark.sql.functions import pandas_udf

    @pandas_udf("double")
    def adanet_features_score(features: pd.DataFrame) -> pd.Series:
        ensemble, spec = _model(h)
        return pd.Series(probabilities_from_features(ensemble, spec, features))

    return adanet_features_score


def _raw_udf(h: ModelHandle):
    from pyspark.sql.functions import pandas_udf

    @pandas_udf("double")
    def adanet_score(features: pd.DataFrame) -> pd.Series:
        ensemble, spec = _model(h)
        missing = [c for c in spec.feature_names if c not in features.columns]
        if missing:
            raise ValueError(f"adanet_score: the struct has no field {missing[0]!r}; pass the model's "
                             f"features by name: struct(*) or named_struct(...)")
        numeric, categorical = transform_pandas(features, spec)
        return pd.Series(_predict(ensemble, numeric, categorical))

    return adanet_score


def score_features(spark, saved, df, keep: Sequence[str] = (), output: str = "probability"):
    """Score a DataFrame in the feature-table layout (e.g. a split of the feature table)."""
    from pyspark.sql import functions as F
    spec = saved.spec
    udf = _features_udf(handle(spark, saved))
    cols = [F.col(f"`{c}`") for c in spec.feature_names]
    return df.select(*[F.col(f"`{k}`") for k in keep], udf(F.struct(*cols)).alias(output))


def score_dataframe(spark, saved, df, keep: Sequence[str] = (), source: str = "input",
                    output: str = "probability"):
    """Raw rows -> probabilities with the model's own transformation. Checks the input first:
    a missing column or a wrong type is a BadInputError naming the column."""
    from pyspark.sql import functions as F
    from adanet_spark.data import features as feats
    spec = saved.spec
    for k in keep:
        if k not in df.columns:
            raise BadInputError(f"input {source} has no column '{k}' (asked to keep it as an id column)")
    # Id columns travel under private names: an id column may also be a feature (raw
    # here, transformed in the features' own columns).
    hidden = [f"__adanet_id_{i}" for i in range(len(keep))]
    df = df.select("*", *[F.col(f"`{k}`").alias(h) for k, h in zip(keep, hidden)])
    df = add_derived(df, spec, source, saved.uri)
    check_schema({f.name: f.dataType for f in df.schema.fields}, spec, source, saved.uri)
    transformed = feats.transform(df, spec, keep=tuple(hidden))
    scored = score_features(spark, saved, transformed, keep=hidden, output=output)
    return scored.select(*[F.col(h).alias(k) for h, k in zip(hidden, keep)], output)


def register(spark, saved, name: str = SQL_FUNCTION):
    """Register ``name(features STRUCT) -> DOUBLE`` for SQL in this session, bound to ``saved``."""
    fn = _raw_udf(handle(spark, saved))
    spark.udf.register(name, fn)
    return fn


def sql_struct(spec: FeatureSpec) -> str:
    """The argument to pass for a model: ``struct(*)`` plus its derived features."""
    extra = [f"{expr} AS `{name}`" for name, expr in spec.derived.items() if name in spec.feature_names]
    return "struct(*" + "".join(", " + e for e in extra) + ")"
