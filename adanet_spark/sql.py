"""Run Spark SQL against the project's catalog and print the rows."""
from __future__ import annotations

import datetime as dt
import decimal
import json
from typing import Iterable

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.utils import AnalysisException, ParseException

from adanet_spark.errors import BadInputError


def run_query(spark: SparkSession, sql: str) -> DataFrame:
    try:
        df = spark.sql(sql)
        df.schema
        return df
    except (AnalysisException, ParseException) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BadInputError(f"query failed: {first}") from exc


def _plain(value):
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def format_json(columns: list[str], rows: Iterable) -> str:
    return "\n".join(json.dumps({c: _plain(r[c]) for c in columns}, default=str) for r in rows)


def format_table(columns: list[str], rows: list, max_width: int = 60) -> str:
    def cell(v) -> str:
        text = "NULL" if v is None else str(_plain(v))
        return text if len(text) <= max_width else text[: max_width - 1] + "…"

    cells = [[cell(r[c]) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    out = [line, "| " + " | ".join(c.ljust(w) for c, w in zip(columns, widths)) + " |", line]
    out += ["| " + " | ".join(v.ljust(w) for v, w in zip(row, widths)) + " |" for row in cells]
    out += [line, f"({len(rows)} row{'s' if len(rows) != 1 else ''})"]
    return "\n".join(out)
