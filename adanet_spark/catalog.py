"""Where tables live and how they are registered.

Every table is a Delta table at ``<warehouse>/<database>.db/<table>``, written by
path and registered in the catalog by location. In a persistent catalog (a Hive
metastore, Databricks) that registration is made once and kept; in the embedded
default (in-memory, no metastore) the warehouse is scanned at session start so
tables persist across jobs.
"""
from __future__ import annotations

import glob
import logging
import os
import re

from pyspark.sql import DataFrame, SparkSession

from adanet_spark.errors import BadInputError
from adanet_spark.paths import in_repo

log = logging.getLogger(__name__)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_name(name: str, key: str) -> str:
    if not _NAME.match(name or ""):
        raise BadInputError(f"config key '{key}': '{name}' is not a valid table or database name")
    return name


def warehouse_path(warehouse: str) -> str:
    """A relative warehouse is relative to the repo, so every job sees one catalog."""
    return in_repo(warehouse)


def table_path(warehouse: str, database: str, table: str) -> str:
    return f"{warehouse_path(warehouse).rstrip('/')}/{database}.db/{table}"


def persistent_catalog(spark: SparkSession) -> bool:
    """True when the session's catalog outlives it: a Hive metastore (``spark.sql.
    catalogImplementation=hive``, which Databricks sets too), as opposed to in-memory."""
    return spark.conf.get("spark.sql.catalogImplementation", "in-memory") != "in-memory"


def register(spark: SparkSession, database: str, table: str, path: str) -> None:
    spark.sql(f"CREATE DATABASE IF NOT EXISTS `{database}`")
    spark.sql(f"CREATE TABLE IF NOT EXISTS `{database}`.`{table}` USING delta LOCATION '{path}'")


def write_table(df: DataFrame, warehouse: str, database: str, table: str, *,
                mode: str = "overwrite", partition_by: tuple[str, ...] = (),
                replace_where: str | None = None, comment: str | None = None) -> str:
    """Write ``df`` as one atomic Delta commit and register it; returns the path."""
    path = table_path(warehouse, database, table)
    writer = df.write.format("delta").mode(mode)
    if mode == "overwrite" and replace_where is None:
        writer = writer.option("overwriteSchema", "true")
    if replace_where is not None:
        writer = writer.option("replaceWhere", replace_where)
    if partition_by:
        writer = writer.partitionBy(*partition_by)
    writer.save(path)
    register(df.sparkSession, database, table, path)
    if comment:
        df.sparkSession.sql(f"COMMENT ON TABLE `{database}`.`{table}` IS '{comment.replace(chr(39), '')}'")
    return path


def register_warehouse(spark: SparkSession, warehouse: str) -> None:
    """Register every Delta table found under a local warehouse folder (one on a
    distributed file system is not scanned: use a persistent catalog there)."""
    warehouse = warehouse[len("file:"):] if warehouse.startswith("file:") else warehouse
    for log_dir in sorted(glob.glob(os.path.join(warehouse, "*.db", "*", "_delta_log"))):
        table_dir = os.path.dirname(log_dir)
        database = os.path.basename(os.path.dirname(table_dir))[: -len(".db")]
        table = os.path.basename(table_dir)
        if _NAME.match(database) and _NAME.match(table) and os.listdir(log_dir):
            try:
                register(spark, database, table, table_dir)
            except Exception as exc:  # a broken table must not stop every job
                log.warning("could not register %s.%s at %s: %s", database, table, table_dir, exc)
