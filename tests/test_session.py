"""The SparkSession factory, on the tests' one real local session."""
import os

from pyspark import SparkContext

from adanet_spark import session


def test_get_session_returns_the_active_session(spark):
    assert session.get_session("another app", "another-warehouse") is spark


def test_the_local_session_has_delta_and_the_given_warehouse(spark, warehouse):
    assert "DeltaSparkSessionExtension" in spark.conf.get("spark.sql.extensions")
    assert spark.conf.get("spark.sql.catalog.spark_catalog").endswith("DeltaCatalog")
    assert os.path.isdir(warehouse) and "warehouse" in os.path.basename(warehouse.rstrip("/"))
    # the tests' extra settings win over the local defaults
    assert spark.conf.get("spark.sql.shuffle.partitions") == "2"
    assert spark.conf.get("spark.sql.catalogImplementation") == "in-memory"
    assert session.delta_jars() and all(j.endswith(".jar") for j in session.delta_jars())


def test_default_master_leaves_a_slot_for_the_driver():
    assert session.default_master() == f"local[{(os.cpu_count() or 1) + 1}]"


def test_spark_context_of_a_session_a_context_or_the_active_one(spark):
    sc = spark.sparkContext
    assert session.spark_context(spark) is sc
    assert session.spark_context(sc) is sc
    assert session.spark_context() is sc and SparkContext._active_spark_context is sc
