"""nightly: prepare features -> tune -> baselines -> report, under one run_id.

A rerun of the run_id reuses the feature table that run built and resumes the
search (:mod:`.resume`); baselines and the report are redone, replacing their rows.
"""
from __future__ import annotations

import logging

from pyspark.sql import SparkSession

from adanet_spark.baselines.runner import run_baselines
from adanet_spark.config import JobConfig
from adanet_spark.data import feature_table
from adanet_spark.data.feature_table import FeatureTable
from adanet_spark.errors import BadInputError
from adanet_spark.pipeline.tune import TuneOutcome, tune
from adanet_spark.results.report import write_report
from adanet_spark.results.writer import ResultsWriter

log = logging.getLogger(__name__)


def run_nightly(spark: SparkSession, cfg: JobConfig, fresh: bool = False) -> TuneOutcome:
    """jobs/nightly.py: prepare features -> tune -> baselines -> report, one run_id."""
    writer = ResultsWriter(spark, cfg, job="nightly")
    with writer.run():
        table = prepare(spark, cfg, fresh)
        outcome = tune(spark, cfg, table, writer, fresh=fresh)
        compare_baselines(spark, cfg, table, writer)
        write_report(spark, cfg, writer)
    return outcome


def prepare(spark: SparkSession, cfg: JobConfig, fresh: bool = False) -> FeatureTable:
    """Build the feature table, unless this run already built it (a rerun resumes)."""
    if not fresh:
        try:
            existing = feature_table.open_table(spark, cfg)
        except BadInputError:
            existing = None
        if existing is not None and existing.spec.run_id == cfg.run.id:
            log.info("feature table %s was already built by run %s: reusing it", existing.name, cfg.run.id)
            return existing
    table = feature_table.build(spark, cfg)
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
