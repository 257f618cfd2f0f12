"""Columns computed before anything else (``features.derived``) and the row filter (``input.filter``).

Both are Spark SQL expressions over the raw input; analysis is forced at once so
that a bad expression is reported with its config key, not at the first write.
"""
from __future__ import annotations

from typing import Callable, Collection, Optional

from pyspark.sql import DataFrame, functions as F
from pyspark.sql.utils import AnalysisException, ParseException

from adanet_spark.data.columns import brief
from adanet_spark.errors import BadInputError

DerivedError = Callable[[str, str, Exception], BadInputError]


def derived_config_error(name: str, expression: str, exc: Exception) -> BadInputError:
    """How preparation words a derived column it cannot compute: by its config key."""
    return BadInputError(f"cannot compute derived column '{name}' = '{expression}': {brief(exc)}, "
                         f"the input's columns (features.derived.{name})")


def add_derived(df: DataFrame, derived: dict[str, str], skip: Collection[str] = (),
                error: DerivedError = derived_config_error) -> DataFrame:
    """Add the derived columns in order. One that cannot be computed is ``error(name,
    expression, exc)``, unless its name is in ``skip``: then it is left out (scoring
    skips derived non-features such as the label, which its inputs do not have)."""
    for name, expression in derived.items():
        try:
            out = df.withColumn(name, F.expr(expression))
            out.schema  # analysis happens lazily: force it here so the column is named
            df = out
        except (AnalysisException, ParseException) as exc:
            if name in skip:
                continue
            raise error(name, expression, exc) from exc
    return df


def apply_filter(df: DataFrame, predicate: Optional[str]) -> DataFrame:
    if not predicate:
        return df
    try:
        out = df.where(F.expr(predicate))
        out.schema
        return out
    except (AnalysisException, ParseException) as exc:
        raise BadInputError(f"cannot apply the filter '{predicate}': {brief(exc)}, the input's columns "
                            f"(input.filter)") from exc


