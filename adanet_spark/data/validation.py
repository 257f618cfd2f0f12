"""The input contract, checked before anything is written.

:func:`validate_input` runs in this order and raises :class:`BadInputError` (one line:
``<what>, <where> (<config key>)``) at the first breach:

1. names: duplicates, compared case-insensitively as Spark resolves them (a CSV
   header's too: :mod:`.sources` reads it raw, since Spark renames duplicates), and
   derived columns that would replace an input column (unless ``features.replace``);
2. derived columns, the row filter and the label (:mod:`.derived`, :mod:`.label`);
3. feature columns (:mod:`.columns`), ``features.numeric`` ones cast to double: values
   that are not numbers become nulls, imputed later, up to ``input.max_invalid_fraction``;
4. one aggregate over every feature column (its profile): all-null columns are dropped,
   and constant, ID-like and mostly-numeric text columns are warned about, once each;
5. the names that reach the feature table: Delta refuses some characters in a column
   name, and ``row_id`` / ``split`` are the table's own.

:func:`check_splits` then checks the assigned split (every split has rows, train both
classes). Why names are refused rather than written with Delta column mapping: the
training workers read the feature table's Parquet files directly (:mod:`.tensors`),
and column mapping would store the columns under generated physical names.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable

from pyspark.sql import DataFrame, functions as F, types as T

from adanet_spark.config import FeaturesConfig, InputConfig
from adanet_spark.data.columns import choose_columns, q
from adanet_spark.data.derived import add_derived, apply_filter
from adanet_spark.data.label import label_to_binary
from adanet_spark.data.spec import LABEL, SPLIT, SPLITS
from adanet_spark.data.splits import ROW_ID
from adanet_spark.data.statistics import clean
from adanet_spark.errors import BadInputError

log = logging.getLogger(__name__)

#: Characters Delta refuses in a column name (without column mapping).
DELTA_INVALID = " ,;{}()\n\t="
RESERVED = (ROW_ID, SPLIT)
MOSTLY_NUMERIC = 0.9  # share of a text column's values that parse as numbers to suggest features.numeric
ID_LIKE = 0.5  # distinct values per non-null row from which a categorical column looks like an ID
ID_MIN_ROWS = 50
_CHAR_NAMES = {" ": "a space", "\n": "a newline", "\t": "a tab"}
_FIX_NAME = "features.exclude, or a features.derived copy under another name"


@dataclass
class ValidInput:
    """The input after the checks: derived columns added, rows filtered, ``label`` 0/1,
    ``features.numeric`` columns cast to double; all-null columns left out of the lists."""

    df: DataFrame
    numeric: list[str]
    categorical: list[str]
    null_labels: int


def bad(what: str, where: str, key: str) -> BadInputError:
    """The one-line error of bad input: ``<what>, <where> (<config key>)``."""
    return BadInputError(f"{what}, {where} ({key})")


def duplicates(names: Iterable[str]) -> list[list[str]]:
    """Groups of names that are equal case-insensitively (Spark's default resolution)."""
    groups = defaultdict(list)
    for name in names:
        if name:
            groups[name.lower()].append(name)
    return [g for g in groups.values() if len(g) > 1]


def check_duplicates(names: Iterable[str], where: str) -> None:
    groups = duplicates(names)
    if groups:
        shown = "; ".join(" and ".join(f"'{n}'" for n in g) for g in groups)
        raise bad(f"duplicate column names {shown} (Spark compares names case-insensitively)", where,
                  "input.path")


def check_names(columns: list[str], feats: FeaturesConfig, source: str) -> None:
    """Before anything is computed: duplicate names, and derived columns shadowing input ones."""
    check_duplicates(columns, f"input {source}")
    existing = {c.lower(): c for c in columns}
    for name in feats.derived:
        if name.lower() in existing and name not in feats.replace:
            raise bad(f"derived column '{name}' would replace input column '{existing[name.lower()]}'",
                      f"features.derived.{name}", "features.replace, to mean it")


def check_written_names(names: Iterable[str], source: str) -> None:
    """Names that reach the feature table: none with a character Delta refuses, none of its own."""
    for name in names:
        bad_chars = [c for c in dict.fromkeys(name) if c in DELTA_INVALID]
        if bad_chars:
            shown = ", ".join(_CHAR_NAMES.get(c, f"'{c}'") for c in bad_chars)
            raise bad(f"column name '{name}' holds {shown}, which Delta does not allow in a column name",
                      f"input {source}", _FIX_NAME)
        if name.lower() in RESERVED:
            raise bad(f"column '{name}' has a name the feature table uses for itself ({', '.join(RESERVED)})",
                      f"input {source}", _FIX_NAME)


def validate_input(raw: DataFrame, inp: InputConfig, feats: FeaturesConfig, source: str,
                   exclude: set[str]) -> ValidInput:
    """Check ``raw`` against the whole input contract (see the module doc); nothing is written."""
    check_names(raw.columns, feats, source)
    if not raw.columns:
        raise bad("no columns (an empty file?)", f"input {source}", "input.path")
    if inp.filter and not raw.limit(1).count():  # else an empty input would blame the filter
        raise bad("no rows", f"input {source}", "input.path")
    df = apply_filter(add_derived(raw, feats.derived), inp.filter)
    df, null_labels = label_to_binary(df, inp, source)
    numeric, categorical = choose_columns(df, feats, exclude)
    dtypes = {f.name: f.dataType for f in df.schema.fields}
    texts = [c for c in numeric if isinstance(dtypes[c], T.StringType)]
    inferred = [c for c in categorical if isinstance(dtypes[c], T.StringType) and c not in (feats.categorical or [])]
    profile = _profile(df, numeric, categorical, texts, inferred)
    _check_invalid(df, profile, texts, inp, source)
    for name in texts:  # features.numeric says it is a number: what is not one became null above
        df = df.withColumn(name, q(name).try_cast("double"))
    numeric, categorical = _drop_all_null(profile, numeric, categorical)
    if not numeric and not categorical:
        raise bad("no feature column has a value", f"input {source}", "features.numeric, features.categorical")
    _warn(profile, numeric, categorical, feats)
    keys = [c for c in (feats.split_key, feats.split_by) if c]
    check_written_names(numeric + categorical + keys, source)
    return ValidInput(df, numeric, categorical, null_labels)


def _profile(df: DataFrame, numeric: list[str], categorical: list[str], texts: list[str],
             inferred: list[str]) -> dict:
    """One aggregate over the feature columns: rows; per column its values, min, max; for
    numeric text the values given and those that parse; for categorical ones their distinct
    count, and for inferred text how many values parse as numbers."""
    aggs = [F.count(F.lit(1)).alias("rows")]
    for i, name in enumerate(numeric):
        value = clean(name)  # null for null, NaN, infinity and text that is no number
        aggs += [F.count(value).alias(f"n{i}"), F.min(value).alias(f"lo{i}"), F.max(value).alias(f"hi{i}")]
        if name in texts:
            aggs += [F.count(q(name)).alias(f"given{i}"), F.count(q(name).try_cast("double")).alias(f"parsed{i}")]
    for i, name in enumerate(categorical):
        value = q(name).cast("string")
        aggs += [F.count(value).alias(f"c{i}"), F.min(value).alias(f"clo{i}"), F.max(value).alias(f"chi{i}"),
                 F.approx_count_distinct(value).alias(f"d{i}")]
        if name in inferred:
            aggs.append(F.count(value.try_cast("double")).alias(f"num{i}"))
    row = df.agg(*aggs).first()
    out: dict = {"rows": row["rows"]}
    for i, name in enumerate(numeric):
        out[name] = {"values": row[f"n{i}"], "min": row[f"lo{i}"], "max": row[f"hi{i}"]}
        if name in texts:
            out[name]["invalid"] = row[f"given{i}"] - row[f"parsed{i}"]
    for i, name in enumerate(categorical):
        out[name] = {"values": row[f"c{i}"], "min": row[f"clo{i}"], "max": row[f"chi{i}"],
                     "distinct": row[f"d{i}"], "numbers": row[f"num{i}"] if name in inferred else None}
    return out


def _check_invalid(df: DataFrame, profile: dict, texts: list[str], inp: InputConfig, source: str) -> None:
    """Values of a features.numeric column that are not numbers: logged with examples, imputed
    like nulls, and refused above ``input.max_invalid_fraction`` of the rows."""
    rows = profile["rows"]
    for name in texts:
        invalid = profile[name]["invalid"]
        if not invalid:
            continue
        examples = [r[0] for r in df.where(q(name).isNotNull() & q(name).try_cast("double").isNull())
                                    .select(q(name)).distinct().limit(3).collect()]
        shown = ", ".join(f"'{e}'" for e in examples)
        if invalid / rows > inp.max_invalid_fraction:
            raise bad(f"numeric column '{name}' holds {invalid:,d} values of {rows:,d} that are not numbers "
                      f"(e.g. {shown}): {invalid / rows:.1%}, more than input.max_invalid_fraction "
                      f"{inp.max_invalid_fraction:.1%}", f"input {source}", "input.max_invalid_fraction")
        log.warning("column '%s': %d value(s) that are not numbers (e.g. %s) are imputed like nulls "
                    "(features.numeric)", name, invalid, shown)


def _drop_all_null(profile: dict, numeric: list[str], categorical: list[str]) -> tuple[list[str], list[str]]:
    empty = [c for c in numeric + categorical if not profile[c]["values"]]
    for name in empty:
        log.warning("column '%s' is null in every row: dropped from the features", name)
    return [c for c in numeric if c not in empty], [c for c in categorical if c not in empty]


def _warn(profile: dict, numeric: list[str], categorical: list[str], feats: FeaturesConfig) -> None:
    """Constant, ID-like and mostly-numeric text columns: one warning each, naming the column."""
    rows, top_k, min_count = profile["rows"], feats.top_k, getattr(feats, "min_level_count", 1)
    for name in numeric + categorical:
        p = profile[name]
        if p["min"] == p["max"]:
            log.warning("column '%s' has one value (%s) in every row that has one: it carries no "
                        "information (features.exclude)", name, p["min"])
    for name in categorical:
        p = profile[name]
        if p["numbers"] and p["numbers"] >= MOSTLY_NUMERIC * p["values"]:
            log.warning("column '%s' is text, but %d of its %d values are numbers: if it is a number, list it "
                        "in features.numeric (values that are not numbers are then imputed)", name,
                        p["numbers"], p["values"])
        elif p["values"] >= ID_MIN_ROWS and p["distinct"] >= ID_LIKE * p["values"]:
            log.warning("column '%s' looks like an ID: about %s distinct values in %s rows; a level is kept only "
                        "if seen %d times in train (features.min_level_count), %s of them at most "
                        "(features.top_k), the rest share index 0 (features.exclude)", name, f"{p['distinct']:,d}",
                        f"{rows:,d}", min_count, f"{top_k:,d}")


def check_splits(df: DataFrame, source: str) -> None:
    """Every split has rows, and train has both classes (``df``: after ``assign_split``)."""
    counts = {r[SPLIT]: (r["rows"], r["positives"]) for r in
              df.groupBy(SPLIT).agg(F.count(F.lit(1)).alias("rows"), F.sum(LABEL).alias("positives")).collect()}
    total = sum(n for n, _ in counts.values())
    for split in SPLITS:
        rows, _ = counts.get(split, (0, 0))
        if not rows:
            raise bad(f"split '{split}' gets no rows of {total:,d}", f"input {source}",
                      f"features.{split}_fraction")
    rows, positives = counts["train"]
    if positives in (0, rows):
        raise bad(f"the train split holds one class only ({rows:,d} rows, all labelled "
                  f"{1 if positives else 0})", f"input {source}", "features.train_fraction")
