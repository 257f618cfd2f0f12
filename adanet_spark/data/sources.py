"""Read the raw input (CSV, Parquet, Delta path or catalog table) and check it."""
from __future__ import annotations

import logging
import os

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.utils import AnalysisException

from adanet_spark import hadoop_fs
from adanet_spark.config import InputConfig
from adanet_spark.errors import BadInputError
from adanet_spark.paths import in_repo, is_remote_or_absolute

log = logging.getLogger(__name__)


def read_input(spark: SparkSession, cfg: InputConfig) -> DataFrame:
    """The raw input as a DataFrame; a missing path or table is a BadInputError naming it."""
    if not cfg.path:
        raise BadInputError("config key 'input.path' is required (a path, or a table name for format 'table')")
    if cfg.format == "table":
        if not spark.catalog.tableExists(cfg.path):
            raise BadInputError(f"input table '{cfg.path}' does not exist (input.path)")
        return spark.table(cfg.path)
    path = resolve_path(cfg.path)
    if not hadoop_fs.exists(spark, path):
        raise BadInputError(f"input path '{cfg.path}' does not exist (input.path)")
    reader = spark.read.format(cfg.format)
    options = dict(cfg.options)
    if cfg.format == "csv":
        options.setdefault("header", "true")
        options.setdefault("inferSchema", "true")
    try:
        return reader.options(**options).load(path)
    except AnalysisException as exc:
        raise BadInputError(f"cannot read input '{cfg.path}' as {cfg.format}: {_first_line(exc)}") from exc


def resolve_path(path: str) -> str:
    """Relative local paths in conf files are relative to the repo when not to the cwd."""
    if is_remote_or_absolute(path) or os.path.exists(path):
        return path
    candidate = in_repo(path)
    return candidate if os.path.exists(candidate) else path


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
