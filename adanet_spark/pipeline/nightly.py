"""nightly: prepare features -> tune -> baselines -> report, under one run_id.

The input is checked and prepared before the run starts (bad input writes nothing);
the feature table is written once the run holds its row. A rerun of the run_id reuses
the feature table that run built and resumes the search (:mod:`.resume`); baselines
and the report are redone, replacing their rows.
"""
from __future__ import annotations

import logging
from typing import Union

from pyspark.sql import SparkSession

from adanet_spark.baselines.runner import run_baselines
from adanet_spark.config import JobConfig
from adanet_spark.data import feature_table
from adanet_spark.data.feature_table import FeatureTable
from adanet_spark.data.features import PreparedFeatures
from adanet_spark.errors import BadInputError
from adanet_spark.pipeline.tune import TuneOutcome, check_start, tune
from adanet_spark.results.report import write_report
from adanet_spark.results.writer import ResultsWriter, check_run_free

log = logging.getLogger(__name__)


def run_nightly(spark: SparkSession, cfg: JobConfig, fresh: bool = False) -> TuneOutcome:
    """jobs/nightly.py: prepare features -> tune -> baselines -> report, one run_id. The whole
    input is checked before the run starts: bad input writes nothing, not even a runs row."""
    check_run_free(spark, cfg)
    ready = prepare(spark, cfg, fresh)
    try:
        check_start(spark, cfg, ready.spec)
        writer = ResultsWriter(spark, cfg, job="nightly")
        with writer.run():
            table = ready if isinstance(ready, FeatureTable) else write_features(spark, cfg, ready)
            outcome = tune(spark, cfg, table, writer, fresh=fresh)
            compare_baselines(spark, cfg, table, writer)
            write_report(spark, cfg, writer)
    finally:
        if isinstance(ready, PreparedFeatures):
            ready.release()
    return outcome


def prepare(spark: SparkSession, cfg: JobConfig, fresh: bool = False) -> Union[FeatureTable, PreparedFeatures]:
    """The feature table this run already built (a rerun resumes with it), else the input
    checked and prepared (:func:`feature_table.prepare`), to be written once the run starts."""
    if not fresh:
        try:
            existing = feature_table.open_table(spark, cfg)
        except BadInputError:
            existing = None
        if existing is not None and existing.spec.run_id == cfg.run.id:
            log.info("feature table %s was already built by run %s: reusing it", existing.name, cfg.run.id)
            return existing
    return feature_table.prepare(spark, cfg)


def write_features(spark: SparkSession, cfg: JobConfig, prepared: PreparedFeatures) -> FeatureTable:
    table = feature_table.write(spark, cfg, prepared)
    log.info("feature table %s: %s", table.name, ", ".join(f"{k} {v:,d}" for k, v in table.counts.items()))
    return table


def compare_baselines(spark: SparkSession, cfg: JobConfig, table: FeatureTable, writer: ResultsWriter) -> None:
    """Train ``baselines.models`` on the same table and write their rows in this run's auc_reports."""
    if not cfg.baselines.models:
        log.info("baselines: none configured (baselines.models is empty)")
        return
    spark.sparkContext.setJobDescription(f"baselines {cfg.dataset} run {writer.run_id}")
    log.info("baselines: %s", ", ".join(cfg.baselines.models))
    run_baselines(spark, cfg, table, writer)
    spark.sparkContext.setJobDescription(None)
