"""The SQL function ``adanet_score(features STRUCT) -> DOUBLE``, bound to one saved model.

E.g. ``SELECT id, adanet_score(struct(*)) FROM t``. The struct's fields are raw
values named as the model's features (extra fields are ignored); the spec's
transformation is applied in pandas on executors, mirroring
``data.features.transform``. A feature the model derived with ``features.derived``
must be passed too: ``struct(*, <expression> AS <name>)`` (:func:`sql_struct`
writes that argument for a model).

Registration only: the UDF, the model cache and the transformation live in
``adanet_spark.scoring`` (which never imports this package).
"""
from __future__ import annotations

from adanet_spark.data.spec import FeatureSpec
from adanet_spark.scoring.spark import sql_udf

SQL_FUNCTION = "adanet_score"


def register(spark, saved, name: str = SQL_FUNCTION):
    """Register ``name(features STRUCT) -> DOUBLE`` for SQL in this session, bound to ``saved``."""
    fn = sql_udf(spark, saved)
    spark.udf.register(name, fn)
    return fn


def sql_struct(spec: FeatureSpec) -> str:
    """The argument to pass for a model: ``struct(*)`` plus its derived features."""
    extra = [f"{expr} AS `{name}`" for name, expr in spec.derived.items() if name in spec.feature_names]
    return "struct(*" + "".join(", " + e for e in extra) + ")"
