"""Scoring on Spark: the pandas UDFs and the DataFrame entry points.

* :func:`score_dataframe` (jobs/score.py): raw rows -> derived columns (Spark
  SQL, ``spec.derived``) -> :func:`adanet_spark.data.features.transform` (the
  exact Spark code that built the feature table) -> the ensemble, in a pandas UDF.
* :func:`score_features`: rows that already hold features (a feature table's
  split; the test AUC of a run) -> the ensemble, in ``mapInArrow``: Arrow batches
  become numpy arrays with no pandas DataFrame in between.
* :func:`sql_udf`: the UDF behind the SQL function ``adanet_score(features STRUCT)
  -> DOUBLE`` (registered by ``udfs/score.py``). The struct's fields are raw
  values named as the model's features (extra fields are ignored); the spec's
  transformation is applied in pandas (:func:`transform.transform_pandas`).
"""
from __future__ import annotations

from typing import Iterator, Sequence

import pandas as pd
import pyarrow as pa
from pyspark.sql import functions as F
from pyspark.sql.functions import pandas_udf
from pyspark.sql.types import DoubleType, StructField, StructType

from adanet_spark.data.derived import add_derived
from adanet_spark.data.features import transform
from adanet_spark.data.spec import FeatureSpec
from adanet_spark.errors import BadInputError
from adanet_spark.scoring.cache import ModelHandle, cached_model, handle
from adanet_spark.scoring.transform import (check_schema, derived_feature_error, predict,
                                            probabilities_from_arrow, transform_pandas)


def arrow_scorer(h: ModelHandle, keep: Sequence[str], output: str):
    """The ``mapInArrow`` function: each batch's ``keep`` columns as they are, plus ``output``."""
    keep = list(keep)

    def adanet_features_score(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        ensemble, spec = cached_model(h)
        for batch in batches:
            p = pa.array(probabilities_from_arrow(ensemble, spec, batch), type=pa.float64())
            yield pa.RecordBatch.from_arrays([batch.column(k) for k in keep] + [p], names=keep + [output])

    return adanet_features_score


def raw_udf(h: ModelHandle):
    """``STRUCT<raw values named as the features> -> DOUBLE`` for the model of ``h``."""
    @pandas_udf("double")
    def adanet_score(features: pd.DataFrame) -> pd.Series:
        ensemble, spec = cached_model(h)
        missing = [c for c in spec.feature_names if c not in features.columns]
        if missing:
            raise ValueError(f"adanet_score: the struct has no field {missing[0]!r}; pass the model's "
                             f"features by name: struct(*) or named_struct(...)")
        numeric, categorical = transform_pandas(features, spec)
        return pd.Series(predict(ensemble, numeric, categorical))

    return adanet_score


def sql_udf(spark, saved):
    """The raw-struct UDF bound to ``saved`` (one broadcast per model), ready for
    ``spark.udf.register``."""
    return raw_udf(handle(spark, saved))


def score_features(spark, saved, df, keep: Sequence[str] = (), output: str = "probability"):
    """Score a DataFrame in the feature-table layout (e.g. a split of the feature table)."""
    names = list(dict.fromkeys([*keep, *saved.spec.feature_names]))  # a kept column may be a feature
    schema = StructType([df.schema[k] for k in keep] + [StructField(output, DoubleType())])
    return (df.select(*[F.col(f"`{c}`") for c in names])
            .mapInArrow(arrow_scorer(handle(spark, saved), keep, output), schema))


def add_model_derived(df, spec: FeatureSpec, source: str, uri: str):
    """The spec's derived columns, in order. A derived *feature* that cannot be computed is
    a BadInputError naming the missing column; other derived columns (e.g. the label) are
    skipped when their inputs are absent, as scoring inputs have no label."""
    skip = set(spec.derived) - set(spec.feature_names)
    return add_derived(df, spec.derived, skip=skip, error=derived_feature_error(source, uri))


def score_dataframe(spark, saved, df, keep: Sequence[str] = (), source: str = "input",
                    output: str = "probability"):
    """Raw rows -> probabilities with the model's own transformation. Checks the input first:
    a missing column or a wrong type is a BadInputError naming the column."""
    spec = saved.spec
    for k in keep:
        if k not in df.columns:
            raise BadInputError(f"input {source} has no column '{k}' (asked to keep it as an id column)")
    # Id columns travel under private names: an id column may also be a feature (raw
    # here, transformed in the features' own columns).
    hidden = [f"__adanet_id_{i}" for i in range(len(keep))]
    df = df.select("*", *[F.col(f"`{k}`").alias(h) for k, h in zip(keep, hidden)])
    df = add_model_derived(df, spec, source, saved.uri)
    check_schema({f.name: f.dataType for f in df.schema.fields}, spec, source, saved.uri)
    transformed = transform(df, spec, keep=tuple(hidden))
    scored = score_features(spark, saved, transformed, keep=hidden, output=output)
    return scored.select(*[F.col(h).alias(k) for h, k in zip(hidden, keep)], output)
