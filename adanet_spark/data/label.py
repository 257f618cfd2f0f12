"""The label column turned into ``label`` in {0, 1}, with every way it can be wrong named."""
from __future__ import annotations

from pyspark.sql import DataFrame, functions as F

from adanet_spark.config import InputConfig
from adanet_spark.data.columns import q
from adanet_spark.data.spec import LABEL
from adanet_spark.errors import BadInputError

TRUE_VALUES = {"1", "true", "1.0", "yes", "y", "t"}
FALSE_VALUES = {"0", "false", "0.0", "no", "n", "f"}


def label_to_binary(df: DataFrame, cfg: InputConfig, source: str) -> tuple[DataFrame, int]:
    """Replace the label column by ``label`` in {0, 1}; drop null labels (bounded by config)."""
    if not cfg.label:
        raise BadInputError("config key 'input.label' is required (the column holding the 0/1 label)")
    if cfg.label not in df.columns:
        raise BadInputError(f"label column '{cfg.label}' (input.label) not found in {source}; "
                            f"columns: {', '.join(df.columns)}")
    as_text = q(cfg.label).cast("string")
    counts = df.groupBy(as_text.alias("v")).count().limit(4).collect()
    total = sum(r["count"] for r in counts)
    nulls = sum(r["count"] for r in counts if r["v"] is None)
    values = sorted(r["v"] for r in counts if r["v"] is not None)
    if total == 0:
        if cfg.filter:
            raise BadInputError(f"no rows left after the filter '{cfg.filter}', input {source} (input.filter)")
        raise BadInputError(f"no rows, input {source} (input.path)")
    if len(values) > 2:
        raise BadInputError(f"label column '{cfg.label}' is not binary: more than two distinct values "
                            f"(e.g. {', '.join(values[:3])})")
    if len(values) < 2:
        raise BadInputError(f"label column '{cfg.label}' has one class only ({values[:1] or 'all null'}); "
                            f"a binary label needs two")
    if nulls / total > cfg.max_null_label_fraction:
        raise BadInputError(f"label column '{cfg.label}' is null in {nulls} of {total} rows "
                            f"({nulls / total:.1%} > input.max_null_label_fraction "
                            f"{cfg.max_null_label_fraction:.1%})")
    positive = _positive_value(values, cfg)
    out = (df.where(q(cfg.label).isNotNull())
             .withColumn(LABEL, (as_text == F.lit(positive)).cast("int")))
    if cfg.label != LABEL:
        out = out.drop(cfg.label)
    return out, nulls


def _positive_value(values: list[str], cfg: InputConfig) -> str:
    if cfg.positive is not None:
        if cfg.positive not in values:
            raise BadInputError(f"input.positive '{cfg.positive}' is not a value of label column "
                                f"'{cfg.label}' (values: {', '.join(values)})")
        return cfg.positive
    low = [v.lower() for v in values]
    for i, v in enumerate(low):
        if v in TRUE_VALUES and low[1 - i] in FALSE_VALUES:
            return values[i]
    raise BadInputError(f"label column '{cfg.label}' holds '{values[0]}' and '{values[1]}': "
                        f"set input.positive to the value that means 1")


