"""Spark-side feature preparation: raw DataFrame -> feature table + FeatureSpec.

Order: the input contract (:mod:`.validation`: names, derived columns and row
filter, label to 0/1, feature columns and their types), deterministic split
(:mod:`.splits`), statistics fitted on the train split only (:mod:`.statistics`),
transformation (here). Every check runs before anything is written, and the table
is written in one Delta commit, so bad input leaves no table behind. Spark does
the work on executors; the driver only receives aggregates.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from pyspark.sql import DataFrame, functions as F

from adanet_spark.config import FeaturesConfig, InputConfig
from adanet_spark.data.columns import q
from adanet_spark.data.spec import LABEL, OTHER_INDEX, SPLIT, FeatureSpec
from adanet_spark.data.splits import ROW_ID, assign_split
from adanet_spark.data.statistics import clean, fit_categorical, fit_numeric
from adanet_spark.data.validation import validate_input


@dataclass
class PreparedFeatures:
    table: DataFrame  # the feature table, not yet written
    spec: FeatureSpec
    stats: dict  # imputed values per column, dropped null labels
    cached: Optional[DataFrame] = None  # unpersist once the table is written

    def release(self) -> None:
        if self.cached is not None:
            self.cached.unpersist()


def transform(df: DataFrame, spec: FeatureSpec, keep: tuple[str, ...] = ()) -> DataFrame:
    """Apply a fitted spec: standardise numerics, index categoricals (0 = rare or unseen)."""
    cols = [q(k) for k in keep]
    for f in spec.numeric:
        cols.append(((F.coalesce(clean(f.name), F.lit(f.fill)) - F.lit(f.mean)) / F.lit(f.std))
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
    exclude = {LABEL} | {c for c in (feats.split_key, feats.split_by) if c}
    valid = validate_input(raw, inp, feats, source, exclude)  # names, derived, filter, label, columns, types
    df, null_labels, numeric, categorical = valid.df, valid.null_labels, valid.numeric, valid.categorical
    df, split = assign_split(df, feats, numeric + categorical + [LABEL], inp.max_null_label_fraction)
    df = df.cache()  # the statistics below and the final write scan it several times
    train = df.where(F.col(SPLIT) == "train")
    num_features, imputed = fit_numeric(train, numeric, feats.numeric_bins)
    cat_features = fit_categorical(train, categorical, feats.top_k, feats.min_level_count)
    spec = FeatureSpec(dataset=dataset, numeric=tuple(num_features), categorical=tuple(cat_features),
                       source_label=inp.label, positive=inp.positive, derived=dict(feats.derived),
                       key_columns=(feats.split_key,) if feats.split_key else (), run_id=run_id,
                       split=split.to_dict())
    # A time split's column stays in the table (as read), so its order can be checked there.
    by = (feats.split_by,) if feats.split_by and feats.split_by not in spec.feature_names else ()
    table = transform(df, spec, keep=(ROW_ID,) + spec.key_columns + by + (LABEL, SPLIT))
    return PreparedFeatures(table=table, spec=spec, cached=df,
                            stats={"imputed": imputed, "null_labels_dropped": null_labels,
                                   "split_nulls_dropped": split.nulls_dropped})
