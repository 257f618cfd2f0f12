"""Questions asked of the result tables across runs (not of one run: that is the writer's).

Reads go by path, never through the catalog, so they see the latest Delta snapshot
even when another job registered the tables, and looking never creates a table.
"""
from __future__ import annotations

from typing import Optional

from pyspark.sql import SparkSession, functions as F

from adanet_spark import catalog
from adanet_spark.config import JobConfig
from adanet_spark.results import tables


def latest_final_model(spark: SparkSession, cfg: JobConfig, exclude_run: Optional[str] = None,
                       run_id: Optional[str] = None) -> Optional[str]:
    """Model URI of the final ensemble of the latest succeeded run of ``cfg.dataset``
    (or of ``run_id``, succeeded or not, when given)."""
    paths = {n: catalog.table_path(cfg.output.warehouse, cfg.output.database, n)
             for n in (tables.RUNS, tables.ENSEMBLES)}
    if not all(tables.is_delta_table(spark, p) for p in paths.values()):
        return None  # no run has written results yet (and looking must not create tables)
    runs = spark.read.format("delta").load(paths[tables.RUNS])
    ens = spark.read.format("delta").load(paths[tables.ENSEMBLES]).where("is_final")
    if run_id is not None:
        rows = ens.where(F.col("run_id") == run_id).select("model_uri").collect()
        return rows[0]["model_uri"] if rows else None
    runs = runs.where((F.col("status") == "succeeded") & (F.col("dataset") == cfg.dataset))
    if exclude_run is not None:
        runs = runs.where(F.col("run_id") != exclude_run)
    rows = (ens.join(runs.select("run_id", "finished_at"), "run_id")
               .orderBy(F.desc("finished_at")).select("model_uri").limit(1).collect())
    return rows[0]["model_uri"] if rows else None
