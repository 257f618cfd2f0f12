"""Shared fixtures: one real local Spark session (with Delta) for the whole run.

A session takes ~10 s to start on 2 cores, so every test module shares it; tests
isolate themselves with their own warehouse folder and database name instead.
"""
import os
import sys
import uuid

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault(
    "PYSPARK_SUBMIT_ARGS",
    f"--driver-memory 3g --driver-java-options "
    f"-Dlog4j.configurationFile=file:{ROOT}/conf/log4j2.properties pyspark-shell")
os.environ.setdefault("SPARK_MASTER", "local[2]")
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    """The real session; if it cannot start, every test that needs it fails (never skips)."""
    from adanet_spark.session import get_session
    warehouse = str(tmp_path_factory.mktemp("warehouse"))
    try:
        session = get_session("adanet-spark tests", warehouse,
                              extra={"spark.sql.shuffle.partitions": "2", "spark.ui.enabled": "false"})
    except Exception as exc:
        pytest.fail(f"the shared Spark session did not start: {type(exc).__name__}: {exc}\n"
                    f"(Spark tests need Java and the Delta jars in jars/: run `make setup`)", pytrace=False)
    yield session
    session.stop()


@pytest.fixture
def database():
    """A fresh database name, so tests sharing the session never see each other's tables."""
    return f"t_{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def warehouse(spark):
    return spark.conf.get("spark.sql.warehouse.dir").replace("file:", "")


@pytest.fixture
def job_args(warehouse, database):
    """--set arguments that point a job at the test's own warehouse and database."""
    return ["--set", f"output.warehouse={warehouse}", "--set", f"output.database={database}"]
