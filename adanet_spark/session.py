"""SparkSession factory: local[*] with Delta and a persistent warehouse by default.

On a cluster (spark-submit with --master yarn/k8s/spark, or Databricks) the session
already carries the cluster's settings; we only add what is missing, so the same
job code runs unchanged everywhere.

Catalog: with a persistent one (``spark.sql.catalogImplementation=hive``, Databricks)
tables are created in it once and every later session finds them by name. Without
one (the embedded default, in-memory) every Delta table under the warehouse folder
is registered again when a session starts.
"""
from __future__ import annotations

import glob
import logging
import os
import sys
from typing import Optional

from pyspark import SparkConf
from pyspark.sql import SparkSession

from adanet_spark.catalog import persistent_catalog, register_warehouse, warehouse_path
from adanet_spark.paths import REPO_ROOT

log = logging.getLogger(__name__)

JARS_DIR = os.environ.get("ADANET_JARS_DIR", os.path.join(REPO_ROOT, "jars"))


def delta_jars() -> list[str]:
    return sorted(glob.glob(os.path.join(JARS_DIR, "*.jar")))


def default_master() -> str:
    """``local[*]`` plus one task slot: Horovod workers hold theirs for a whole search,
    and the driver's own Spark jobs (result writes between iterations) need one more."""
    return f"local[{(os.cpu_count() or 1) + 1}]"


def get_session(app_name: str = "adanet-spark", warehouse: str = "warehouse",
                extra: Optional[dict] = None) -> SparkSession:
    """Return the active session, or build one.

    Settings already given (by spark-submit, a cluster, or Databricks) win; the
    local defaults (Delta jars from ./jars, the warehouse folder and its tables)
    fill in only when the master is local.
    """
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    given = SparkConf()  # carries spark-submit's --master/--conf when launched by it
    master = given.get("spark.master", None) or os.environ.get("SPARK_MASTER") or default_master()
    # Databases the job creates default to the configured warehouse (a cluster's own wins).
    conf = {"spark.master": master, "spark.sql.warehouse.dir": warehouse_path(warehouse)}
    if master.startswith("local"):
        conf.update(_local_defaults(warehouse))
    conf.update({
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
    })
    conf.update(extra or {})
    builder = SparkSession.builder.appName(given.get("spark.app.name", app_name))
    for key, value in conf.items():
        if not given.contains(key) or key in (extra or {}):
            builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(os.environ.get("ADANET_SPARK_LOG_LEVEL", "WARN"))
    if persistent_catalog(spark):
        log.info("catalog: %s metastore (tables are found by name, nothing re-registered)",
                 spark.conf.get("spark.sql.catalogImplementation"))
    else:
        register_warehouse(spark, warehouse_path(warehouse))
    return spark


def _local_defaults(warehouse: str) -> dict:
    wh = warehouse_path(warehouse)
    os.makedirs(wh, exist_ok=True)
    jars = delta_jars()
    if not jars:
        raise RuntimeError(f"no Delta Lake jars in {JARS_DIR}: run `make setup` first")
    return {
        # Python workers must run this interpreter (the .venv with torch and Horovod),
        # not whatever python3 is first on PATH.
        "spark.pyspark.python": os.environ.get("PYSPARK_PYTHON", sys.executable),
        "spark.jars": ",".join(jars),
        # No metastore: every Delta table under the warehouse is registered again at
        # start (catalog.register_warehouse), so tables persist across jobs and
        # concurrent jobs need no shared metastore lock.
        "spark.sql.catalogImplementation": "in-memory",
        "spark.sql.shuffle.partitions": os.environ.get("ADANET_SHUFFLE_PARTITIONS", "8"),
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.session.timeZone": "UTC",
        # Delta reads its log with this many tasks; one is several times faster for
        # the small logs of a local warehouse.
        "spark.databricks.delta.snapshotPartitions": "1",
        "spark.driver.memory": os.environ.get("ADANET_DRIVER_MEMORY", "4g"),
    }


def spark_context(spark=None):
    """The SparkContext of ``spark`` (a SparkSession or SparkContext), else of the active
    session, else of a new one from :func:`get_session`."""
    from pyspark import SparkContext
    if spark is not None:
        return getattr(spark, "sparkContext", spark)
    sc = SparkContext._active_spark_context
    return sc if sc is not None else get_session().sparkContext
