"""Columns of the raw input: how to name one, and which become features.

Numeric features are the number-typed columns, categorical ones the strings and
booleans, unless ``features.numeric`` / ``features.categorical`` say otherwise (a text
column listed in ``features.numeric`` is cast to double by :mod:`.validation`).
"""
from __future__ import annotations

import re

from pyspark.sql import Column, DataFrame, functions as F, types as T

from adanet_spark.config import FeaturesConfig
from adanet_spark.errors import BadInputError

NUMERIC_TYPES = (T.ByteType, T.ShortType, T.IntegerType, T.LongType, T.FloatType, T.DoubleType,
                 T.DecimalType)


def q(name: str) -> Column:
    """A column by exact name, even with dots or dashes in it."""
    return F.col(f"`{name}`")


def brief(exc: Exception) -> str:
    """The first line of a Spark error, for a one-line message (the rest is a JVM stack),
    without its SQLSTATE and position."""
    text = str(exc).strip().splitlines()
    return re.sub(r"\s*SQLSTATE: \w+.*$", "", text[0])[:300] if text else type(exc).__name__


def choose_columns(df: DataFrame, cfg: FeaturesConfig, exclude: set[str]) -> tuple[list[str], list[str]]:
    """Numeric and categorical feature columns: as configured, else inferred from types."""
    available = [c for c in df.columns if c not in exclude and c not in cfg.exclude]
    for key in ("numeric", "categorical"):
        for name in getattr(cfg, key) or []:
            if name not in df.columns:
                raise BadInputError(f"column '{name}' listed in features.{key} not found in the input")
    dtypes = {f.name: f.dataType for f in df.schema.fields}
    if cfg.numeric is not None:
        numeric = list(cfg.numeric)
    else:
        numeric = [c for c in available if isinstance(dtypes[c], NUMERIC_TYPES)
                   and c not in (cfg.categorical or [])]
    if cfg.categorical is not None:
        categorical = list(cfg.categorical)
    else:
        categorical = [c for c in available if isinstance(dtypes[c], (T.StringType, T.BooleanType))
                       and c not in numeric]
    for name in numeric:  # text is cast to double (data.validation); other types cannot be
        if not isinstance(dtypes[name], NUMERIC_TYPES + (T.BooleanType, T.StringType)):
            raise BadInputError(f"column '{name}' listed in features.numeric has type "
                                f"{dtypes[name].simpleString()}, not a number or text")
    if not numeric and not categorical:
        raise BadInputError("no feature columns: set features.numeric / features.categorical")
    return numeric, categorical


