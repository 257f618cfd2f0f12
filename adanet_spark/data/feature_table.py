"""The feature table of a dataset: build it from the raw input, find it, read its spec.

The table lives at ``<warehouse>/<database>.db/features_<dataset>`` and its spec
at ``<table path>/_adanet/spec.json`` (Delta and VACUUM ignore ``_``-prefixed
folders). The spec is written after the table's commit, by rename, so a reader
sees either the old pair or the new one's table with, for a moment, the old spec:
the spec carries the run_id that wrote it, and ``load_spec`` checks it.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession, functions as F

from adanet_spark import catalog, hadoop_fs
from adanet_spark.config import JobConfig
from adanet_spark.data import features, sources, validation
from adanet_spark.data.spec import SPLIT, SPLITS, FeatureSpec
from adanet_spark.errors import BadInputError

log = logging.getLogger(__name__)


@dataclass
class FeatureTable:
    name: str  # database.table
    path: str
    spec: FeatureSpec
    counts: dict  # rows per split


def table_name(cfg: JobConfig) -> tuple[str, str]:
    database = catalog.check_name(cfg.output.database, "output.database")
    return database, catalog.check_name(f"features_{cfg.dataset}", "dataset")


def spec_path(table_path: str) -> str:
    return f"{table_path}/_adanet/spec.json"


def build(spark: SparkSession, cfg: JobConfig) -> FeatureTable:
    """Check and prepare the input (:func:`prepare`), then write the table (:func:`write`)."""
    return write(spark, cfg, prepare(spark, cfg))


def prepare(spark: SparkSession, cfg: JobConfig) -> features.PreparedFeatures:
    """Read the input, check it against the whole input contract (:mod:`.validation`, the
    split included) and transform it: everything but the write. Bad input raises here."""
    table_name(cfg)
    source = cfg.input.path if cfg.input.format == "table" else f"'{cfg.input.path}'"
    sc = spark.sparkContext
    sc.setJobDescription(f"prepare {cfg.dataset}: read and validate {source}")
    raw = sources.read_input(spark, cfg.input)
    log.info("preparing features of %s from %s (%s)", cfg.dataset, cfg.input.path, cfg.input.format)
    sc.setJobDescription(f"prepare {cfg.dataset}: label, split and statistics")
    prepared = features.prepare(raw, cfg.dataset, cfg.input, cfg.features, source, run_id=cfg.run.id)
    try:
        validation.check_splits(prepared.cached, source)
    except BadInputError:
        prepared.release()
        raise
    _log_stats(prepared)
    sc.setJobDescription(None)
    return prepared


def write(spark: SparkSession, cfg: JobConfig, prepared: features.PreparedFeatures) -> FeatureTable:
    """Write a prepared feature table in one Delta commit, then its spec beside it."""
    database, table = table_name(cfg)
    sc = spark.sparkContext
    try:
        sc.setJobDescription(f"prepare {cfg.dataset}: write {database}.{table}")
        path = catalog.write_table(prepared.table, cfg.output.warehouse, database, table,
                                   partition_by=(SPLIT,),
                                   comment=f"AdaNet feature table of {cfg.dataset} (run {cfg.run.id})")
    finally:
        prepared.release()
    hadoop_fs.write_text(spark, spec_path(path), prepared.spec.to_json())
    counts = split_counts(spark, f"{database}.{table}")
    sc.setJobDescription(None)
    return FeatureTable(f"{database}.{table}", path, prepared.spec, counts)


def split_counts(spark: SparkSession, name: str) -> dict:
    rows = spark.table(name).groupBy(SPLIT).count().collect()
    counts = {r[SPLIT]: r["count"] for r in rows}
    return {s: counts.get(s, 0) for s in SPLITS}


def split_frame(spark: SparkSession, table: str, split: str) -> DataFrame:
    """One split (train / valid / test) of the feature table named ``table``, as stored."""
    return spark.table(table).where(F.col(SPLIT) == split)


def _log_stats(prepared: features.PreparedFeatures) -> None:
    spec = prepared.spec
    log.info("features: %d numeric (%s), %d categorical (%s)", len(spec.numeric),
             ", ".join(spec.numeric_names), len(spec.categorical),
             ", ".join(f"{c.name}:{c.cardinality}" for c in spec.categorical))
    imputed = {k: v for k, v in prepared.stats["imputed"].items() if v}
    if imputed:
        log.info("imputed null/NaN/infinite values in the train split: %s",
                 ", ".join(f"{k}={v}" for k, v in sorted(imputed.items())))
    if prepared.stats["null_labels_dropped"]:
        log.info("dropped %d rows with a null label", prepared.stats["null_labels_dropped"])


def open_table(spark: SparkSession, cfg: JobConfig) -> FeatureTable:
    """The existing feature table of ``cfg.dataset`` with its spec."""
    database, table = table_name(cfg)
    name = f"{database}.{table}"
    if not spark.catalog.tableExists(name):
        raise BadInputError(f"feature table {name} does not exist: run jobs/prepare_features.py "
                            f"for dataset '{cfg.dataset}' first")
    path = catalog.table_path(cfg.output.warehouse, database, table)
    try:
        spec = FeatureSpec.from_json(hadoop_fs.read_text(spark, spec_path(path)))
    except FileNotFoundError as exc:
        raise BadInputError(f"feature table {name} has no spec at {spec_path(path)}") from exc
    return FeatureTable(name, path, spec, {})
