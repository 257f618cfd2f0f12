"""Read the raw input (CSV, Parquet, Delta path or catalog table) and check what only the
reader can: the path, an empty folder, and a CSV header's duplicate names."""
from __future__ import annotations

import logging
import os
import re

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.utils import AnalysisException

from adanet_spark import hadoop_fs
from adanet_spark.config import InputConfig
from adanet_spark.data.columns import brief
from adanet_spark.data.validation import bad, check_duplicates
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
        df = reader.options(**options).load(path)
    except AnalysisException as exc:
        raise read_error(cfg, exc) from exc
    if cfg.format == "csv" and options["header"].lower() == "true":
        check_duplicates(csv_header(spark, path, options), f"in the header of input '{cfg.path}'")
    return df


def csv_header(spark: SparkSession, path: str, options: dict) -> list[str]:
    """The header line of a CSV input as written: Spark renames duplicate names (``x1`` twice
    becomes ``x10`` and ``x12``), so they are read here as a plain first row."""
    plain = {k: v for k, v in options.items() if k.lower() not in ("header", "inferschema", "enforceschema")}
    first = spark.read.format("csv").options(**plain, header="false", inferSchema="false").load(path).first()
    return [v for v in first if v is not None] if first is not None else []


def read_error(cfg: InputConfig, exc: AnalysisException) -> BadInputError:
    """Spark's refusal to read the input, in the words of the input."""
    where = f"input '{cfg.path}'"
    if exc.getCondition() == "UNABLE_TO_INFER_SCHEMA":  # Spark suggests giving a schema; the folder is empty
        return bad(f"no {cfg.format} data files to read (an empty folder?)", where, "input.path")
    if exc.getCondition() == "COLUMN_ALREADY_EXISTS":  # e.g. Parquet columns x and X
        name = re.search(r"column `([^`]*)`", str(exc))
        return bad(f"duplicate column names: '{name.group(1) if name else '?'}' more than once (Spark compares "
                   f"names case-insensitively)", where, "input.path")
    return BadInputError(f"cannot read input '{cfg.path}' as {cfg.format}: {brief(exc)}")


def resolve_path(path: str) -> str:
    """Relative local paths in conf files are relative to the repo when not to the cwd."""
    if is_remote_or_absolute(path) or os.path.exists(path):
        return path
    candidate = in_repo(path)
    return candidate if os.path.exists(candidate) else path
