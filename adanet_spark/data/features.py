"""Spark-side feature preparation: raw DataFrame -> feature table + FeatureSpec.

Order: derived columns, row filter, label to 0/1, feature columns, deterministic
split, statistics fitted on the train split only, transformation. Every check
runs before anything is written, and the table is written in one Delta commit,
so bad input leaves no table behind. Spark does the work on executors; the
driver only receives aggregates (counts, means, top-K level lists).
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Callable, Collection, Optional

from pyspark.sql import Column, DataFrame, functions as F, types as T
from pyspark.sql.utils import AnalysisException, ParseException

from adanet_spark.config import FeaturesConfig, InputConfig
from adanet_spark.data.spec import (LABEL, OTHER_INDEX, SPLIT, CategoricalFeature, FeatureSpec,
                                    NumericFeature)
from adanet_spark.errors import BadInputError

log = logging.getLogger(__name__)
ROW_ID = "row_id"
_NUMERIC_TYPES = (T.ByteType, T.ShortType, T.IntegerType, T.LongType, T.FloatType, T.DoubleType,
                  T.DecimalType)
_TRUE = {"1", "true", "1.0", "yes", "y", "t"}
_FALSE = {"0", "false", "0.0", "no", "n", "f"}


@dataclass
class PreparedFeatures:
    table: DataFrame  # the feature table, not yet written
    spec: FeatureSpec
    stats: dict  # imputed values per column, dropped null labels
    cached: Optional[DataFrame] = None  # unpersist once the table is written

    def release(self) -> None:
        if self.cached is not None:
            self.cached.unpersist()


def q(name: str) -> Column:
    """A column by exact name, even with dots or dashes in it."""
    return F.col(f"`{name}`")


DerivedError = Callable[[str, str, Exception], BadInputError]


def derived_config_error(name: str, expression: str, exc: Exception) -> BadInputError:
    """How preparation words a derived column it cannot compute: by its config key."""
    return BadInputError(f"config key 'features.derived.{name}': cannot compute "
                         f"'{expression}': {_brief(exc)}")


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
        raise BadInputError(f"config key 'input.filter': cannot apply '{predicate}': {_brief(exc)}") from exc


def _brief(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


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
        raise BadInputError(f"input {source} is empty (no rows after input.filter)")
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
        if v in _TRUE and low[1 - i] in _FALSE:
            return values[i]
    raise BadInputError(f"label column '{cfg.label}' holds '{values[0]}' and '{values[1]}': "
                        f"set input.positive to the value that means 1")


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
        numeric = [c for c in available if isinstance(dtypes[c], _NUMERIC_TYPES)
                   and c not in (cfg.categorical or [])]
    if cfg.categorical is not None:
        categorical = list(cfg.categorical)
    else:
        categorical = [c for c in available if isinstance(dtypes[c], (T.StringType, T.BooleanType))
                       and c not in numeric]
    for name in numeric:
        if not isinstance(dtypes[name], _NUMERIC_TYPES + (T.BooleanType,)):
            raise BadInputError(f"column '{name}' listed in features.numeric has type "
                                f"{dtypes[name].simpleString()}, not a number")
    if not numeric and not categorical:
        raise BadInputError("no feature columns: set features.numeric / features.categorical")
    return numeric, categorical


def assign_split(df: DataFrame, cfg: FeaturesConfig, columns: list[str]) -> DataFrame:
    """Deterministic split from a hash of the key column, or of the row's content."""
    if cfg.split_key and cfg.split_key not in df.columns:
        raise BadInputError(f"column '{cfg.split_key}' (features.split_key) not found in the input")
    keys = [q(cfg.split_key)] if cfg.split_key else [q(c) for c in columns]
    row_id = F.xxhash64(*keys, F.lit(17))
    bucket = F.pmod(row_id, F.lit(1_000_000)) / F.lit(1_000_000.0)
    split = (F.when(bucket < cfg.train_fraction, "train")
              .when(bucket < cfg.train_fraction + cfg.valid_fraction, "valid")
              .otherwise("test"))
    return df.withColumn(ROW_ID, row_id).withColumn(SPLIT, split)


def _clean(name: str) -> Column:
    """Null for NaN and infinities too: they are imputed, not fatal."""
    c = q(name).cast("double")
    return F.when(F.isnan(c) | (F.abs(c) == F.lit(math.inf)), None).otherwise(c)


def fit_numeric(train: DataFrame, names: list[str]) -> tuple[list[NumericFeature], dict]:
    if not names:
        return [], {}
    aggs = []
    for i, name in enumerate(names):
        c = _clean(name)
        aggs += [F.mean(c).alias(f"m{i}"), F.stddev_pop(c).alias(f"s{i}"),
                 F.sum(F.when(c.isNull(), 1).otherwise(0)).alias(f"n{i}")]
    row = train.agg(*aggs).first()
    features, imputed = [], {}
    for i, name in enumerate(names):
        mean = float(row[f"m{i}"]) if row[f"m{i}"] is not None else 0.0
        std = float(row[f"s{i}"]) if row[f"s{i}"] else 0.0
        features.append(NumericFeature(name=name, mean=mean, std=std if std > 0 else 1.0, fill=mean))
        imputed[name] = int(row[f"n{i}"] or 0)
    return features, imputed


def fit_categorical(train: DataFrame, names: list[str], top_k: int) -> list[CategoricalFeature]:
    """Top-K levels per column by falling frequency (ties by value, so reruns agree)."""
    features = []
    for name in names:
        value = q(name).cast("string")
        rows = (train.where(value.isNotNull()).groupBy(value.alias("v")).count()
                     .orderBy(F.desc("count"), F.asc("v")).limit(top_k).collect())
        features.append(CategoricalFeature(name=name, levels=tuple(r["v"] for r in rows)))
    return features


def transform(df: DataFrame, spec: FeatureSpec, keep: tuple[str, ...] = ()) -> DataFrame:
    """Apply a fitted spec: standardise numerics, index categoricals (0 = rare or unseen)."""
    cols = [q(k) for k in keep]
    for f in spec.numeric:
        cols.append(((F.coalesce(_clean(f.name), F.lit(f.fill)) - F.lit(f.mean)) / F.lit(f.std))
                    .cast("float").alias(f.name))
    for f in spec.categorical:
        mapping = F.create_map(*[x for i, level in enumerate(f.levels)
                                 for x in (F.lit(level), F.lit(i + 1))]) if f.levels else None
        index = (F.coalesce(F.element_at(mapping, q(f.name).cast("string")), F.lit(OTHER_INDEX))
                 if mapping is not None else F.lit(OTHER_INDEX))
        cols.append(F.when(q(f.name).isNull(), F.lit(OTHER_INDEX)).otherwise(index)
                    .cast("int").alias(f.name))
    return df.select(*cols)


def prepare(raw: DataFrame, dataset: str, inp: InputConfig, feats: FeaturesConfig,
            source: str, run_id: Optional[str] = None) -> PreparedFeatures:
    """Validate and transform ``raw``; nothing is written here."""
    df = apply_filter(add_derived(raw, feats.derived), inp.filter)
    df, null_labels = label_to_binary(df, inp, source)
    exclude = {LABEL}
    if feats.split_key:
        exclude.add(feats.split_key)
    numeric, categorical = choose_columns(df, feats, exclude)
    # Cached: the statistics below and the final write scan it several times.
    df = assign_split(df, feats, numeric + categorical + [LABEL]).cache()
    train = df.where(F.col(SPLIT) == "train")
    num_features, imputed = fit_numeric(train, numeric)
    cat_features = fit_categorical(train, categorical, feats.top_k)
    spec = FeatureSpec(dataset=dataset, numeric=tuple(num_features), categorical=tuple(cat_features),
                       source_label=inp.label, positive=inp.positive, derived=dict(feats.derived),
                       key_columns=(feats.split_key,) if feats.split_key else (), run_id=run_id)
    table = transform(df, spec, keep=(ROW_ID,) + spec.key_columns + (LABEL, SPLIT))
    return PreparedFeatures(table=table, spec=spec,
                            stats={"imputed": imputed, "null_labels_dropped": null_labels}, cached=df)
