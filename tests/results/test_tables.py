"""The table definitions: NULL for missing metrics, and value lists derived from their one source."""
import math
from typing import get_args

import numpy as np

from adanet_spark.adanet.protocol import STATUSES
from adanet_spark.config import BaselineModel
from adanet_spark.results import tables


def test_nan_to_none_keeps_numbers_and_drops_nan():
    assert tables.nan_to_none(None) is None
    assert tables.nan_to_none(math.nan) is None
    assert tables.nan_to_none(np.float32("nan")) is None
    value = tables.nan_to_none(np.float32(0.5))
    assert value == 0.5 and type(value) is float
    assert tables.nan_to_none(3) == 3.0 and type(tables.nan_to_none(3)) is float
    assert tables.nan_to_none(-math.inf) == -math.inf  # only NaN is "no value"


def test_models_are_adanet_and_the_configs_baselines():
    assert tables.MODELS[0] == "adanet"
    assert tables.MODELS[1:] == get_args(BaselineModel)
    assert "random_search_nn" in tables.MODELS


def test_column_comments_list_the_allowed_values():
    def comment(table, column):
        return tables.TABLES[table].schema[column].metadata["comment"]

    assert comment(tables.CANDIDATES, "status") == "completed, dropped_straggler, failed or pruned"
    assert all(s in comment(tables.CANDIDATES, "status") for s in STATUSES)
    assert comment(tables.RUNS, "status") == "running, succeeded or failed"
    assert comment(tables.AUC_REPORTS, "model") == ", ".join(tables.MODELS[:-1]) + " or " + tables.MODELS[-1]


def test_a_table_of_an_older_version_gets_the_new_columns(spark, warehouse, database):
    """A runs table created before the lease columns existed: they are added, with comments."""
    old = tables.TableDef(tables.RUNS, "old runs", tables.T.StructType(tables.TABLES[tables.RUNS].schema.fields[:11]))
    path = f"{warehouse}/{database}.db/runs"
    spark.sql(f"CREATE DATABASE IF NOT EXISTS {database}")
    spark.sql(tables.create_sql(database, old, path))
    spark.sql(f"INSERT INTO {database}.runs (run_id, status) VALUES ('old', 'running')")
    assert "lease_expires_at" not in spark.table(f"{database}.runs").columns
    assert tables.ensure_table(spark, warehouse, database, tables.RUNS) == path
    desc = {r.col_name: r.comment for r in spark.sql(f"DESCRIBE TABLE {database}.runs").collect()}
    assert all(desc[f.name] == f.metadata["comment"] for f in tables.TABLES[tables.RUNS].schema.fields)
    (row,) = spark.table(f"{database}.runs").collect()
    assert (row.run_id, row.status, row.lease_expires_at, row.owner_host) == ("old", "running", None, None)
