"""Tables live at <warehouse>/<database>.db/<table>, are written in one Delta commit and
registered by location; a local warehouse is registered again at session start."""
import os

import pytest
from pyspark.sql import functions as F

from adanet_spark import catalog
from adanet_spark.errors import BadInputError
from adanet_spark.paths import REPO_ROOT


def history(spark, name):
    return spark.sql(f"DESCRIBE HISTORY {name}").orderBy("version").collect()


@pytest.mark.parametrize("name", ["features_adult", "_t", "A1_b"])
def test_valid_names_pass_through(name):
    assert catalog.check_name(name, "output.database") == name


@pytest.mark.parametrize("name", ["", None, "1abc", "a-b", "a.b", "a b", "x;DROP"])
def test_invalid_names_fail_naming_the_config_key(name):
    with pytest.raises(BadInputError, match=r"config key 'output\.database'"):
        catalog.check_name(name, "output.database")


def test_paths_of_relative_absolute_and_remote_warehouses():
    assert catalog.warehouse_path("warehouse") == os.path.join(REPO_ROOT, "warehouse")
    assert catalog.warehouse_path("/data/wh") == "/data/wh"
    assert catalog.warehouse_path("s3a://bucket/wh") == "s3a://bucket/wh"
    assert catalog.table_path("/data/wh/", "adanet", "runs") == "/data/wh/adanet.db/runs"
    assert catalog.table_path("hdfs://nn/wh", "db", "t") == "hdfs://nn/wh/db.db/t"
    assert catalog.table_path("warehouse", "db", "t") == os.path.join(REPO_ROOT, "warehouse", "db.db", "t")


def test_write_table_is_one_commit_registered_by_location(spark, warehouse, database):
    df = spark.range(10).withColumn("part", F.col("id") % 2)
    path = catalog.write_table(df, warehouse, database, "t", partition_by=("part",))
    assert path == catalog.table_path(warehouse, database, "t")
    assert os.path.isdir(os.path.join(path, "_delta_log")) and os.path.isdir(os.path.join(path, "part=0"))
    name = f"{database}.t"
    assert spark.table(name).count() == 10
    assert [r.operation for r in history(spark, name)] == ["WRITE"]  # one commit, not create + insert
    detail = spark.sql(f"DESCRIBE DETAIL {name}").first()
    assert detail.location.rstrip("/").endswith(path.lstrip("/").rstrip("/"))
    assert detail.partitionColumns == ["part"]


def test_a_comment_follows_the_data_commit(spark, warehouse, database):
    catalog.write_table(spark.range(3), warehouse, database, "t", comment="it's a test")
    name = f"{database}.t"
    assert [r.operation for r in history(spark, name)] == ["WRITE", "SET TBLPROPERTIES"]
    assert spark.sql(f"DESCRIBE DETAIL {name}").first().description == "its a test"  # quotes dropped


def test_overwrite_replace_where_and_schema_change(spark, warehouse, database):
    name = f"{database}.t"
    df = spark.range(10).withColumn("part", F.col("id") % 2)
    catalog.write_table(df, warehouse, database, "t", partition_by=("part",))
    catalog.write_table(spark.range(100, 103).withColumn("part", F.lit(1).cast("bigint")), warehouse, database, "t",
                        replace_where="part = 1")
    ids = sorted(r.id for r in spark.table(name).collect())
    assert ids == [0, 2, 4, 6, 8, 100, 101, 102]  # only partition 1 replaced
    catalog.write_table(spark.range(3).withColumn("other", F.lit("x")), warehouse, database, "t")
    assert spark.table(name).columns == ["id", "other"] and spark.table(name).count() == 3
    assert len(history(spark, name)) == 3


def test_a_failing_write_leaves_the_previous_table_untouched(spark, warehouse, database):
    name = f"{database}.t"
    catalog.write_table(spark.range(5), warehouse, database, "t")
    failing = spark.range(1000).select(
        F.when(F.col("id") == 999, F.raise_error(F.lit("boom"))).otherwise(F.col("id")).alias("id"))
    with pytest.raises(Exception, match="boom"):
        catalog.write_table(failing, warehouse, database, "t")
    assert spark.table(name).count() == 5 and len(history(spark, name)) == 1


def test_register_warehouse_registers_existing_tables_again(spark, tmp_path, database):
    wh = str(tmp_path / "wh")
    catalog.write_table(spark.range(4), wh, database, "kept")
    os.makedirs(os.path.join(wh, f"{database}.db", "broken", "_delta_log"))  # an empty log: no table
    os.makedirs(os.path.join(wh, "bad-name.db", "t", "_delta_log"))
    spark.sql(f"DROP TABLE {database}.kept")  # external: the files stay
    assert not spark.catalog.tableExists(f"{database}.kept")
    catalog.register_warehouse(spark, wh)
    assert spark.table(f"{database}.kept").count() == 4
    assert not spark.catalog.tableExists(f"{database}.broken")
