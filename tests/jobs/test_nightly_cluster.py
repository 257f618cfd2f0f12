"""The nightly job on a real Spark standalone cluster (scripts/local-cluster.sh): each backend,
executors importing the shipped zip, a worker JVM killed while a candidate trains, and the
results in a Hive metastore read back by another process.

Jobs are submitted as a user does: ``SPARK_MASTER=spark://... ./spark-submit.sh jobs/nightly.py
...`` (the package as a ``--py-files`` zip, Delta through ``--packages``). The cluster starts
once for these tests and always stops (session fixture).
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cluster.local_cluster import (ROOT, TEST_PORT, clean_env, nightly_sets, running_cluster, submit,
                                         tail)
from tests.jobs.tiny_runs import tiny_frame

pytestmark = pytest.mark.cluster

DELTA_CONF = {"spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
              "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog"}


@pytest.fixture(scope="session")
def cluster():
    with running_cluster() as c:
        yield c


@pytest.fixture(scope="session")
def cluster_data(tmp_path_factory):
    path = tmp_path_factory.mktemp("cluster-data") / "tiny.parquet"
    tiny_frame(n=3000).to_parquet(path, index=False)
    return str(path)


def _ok(proc, log_dir: Path, name: str) -> None:
    assert proc.returncode == 0, (f"{name} exited {proc.returncode}\n{tail(log_dir / f'{name}.out')}\n"
                                  f"{tail(log_dir / f'{name}.err')}")


def _table(spark, warehouse: str, name: str, run_id: str) -> list[dict]:
    df = spark.read.format("delta").load(f"{warehouse}/adanet.db/{name}").where(f"run_id = '{run_id}'")
    return [r.asDict() for r in df.collect()]


def check_tables(spark, warehouse: str, run_id: str, candidates: int = 2) -> dict:
    """The four tables of one run agree: every trained iteration has its candidates once,
    one final ensemble, one adanet AUC row; returns the rows."""
    (run,) = _table(spark, warehouse, "runs", run_id)
    assert (run["status"], run["job"]) == ("succeeded", "nightly"), run["error"]
    ens = sorted(_table(spark, warehouse, "ensembles", run_id), key=lambda r: r["iteration"])
    cands = _table(spark, warehouse, "candidates", run_id)
    assert [e["iteration"] for e in ens] == list(range(len(ens))) and ens
    keys = [(c["iteration"], c["candidate"]) for c in cands]
    assert len(keys) == len(set(keys)) == candidates * len(ens)  # none lost, none twice
    for e in ens:
        mine = [c for c in cands if c["iteration"] == e["iteration"]]
        assert any(c["status"] == "completed" for c in mine), mine
        assert [c["candidate"] for c in mine if c["selected"]] == (
            [e["selected_candidate"]] if e["selected_candidate"] != "previous" else [])
    assert [e["is_final"] for e in ens].count(True) == 1
    (auc,) = _table(spark, warehouse, "auc_reports", run_id)
    final = next(e for e in ens if e["is_final"])
    assert auc["model"] == "adanet" and auc["test_auc"] == final["test_auc"] > 0.7
    return {"runs": [run], "ensembles": ens, "candidates": cands, "auc_reports": [auc]}


def test_the_script_runs_a_master_and_two_workers(cluster):
    out = cluster.script("status")
    lines = out.stdout.splitlines()
    assert lines[0] == f"spark://127.0.0.1:{TEST_PORT}" == cluster.url
    assert len(lines) == 3 and all(" cores 3 " in w for w in lines[1:])  # the two live workers
    for daemon, cls in (("master", "deploy.master.Master"), ("worker-1", "deploy.worker.Worker"),
                        ("worker-2", "deploy.worker.Worker")):
        cmdline = Path(f"/proc/{cluster.pid(daemon)}/cmdline").read_bytes().split(b"\0")
        assert cmdline[0].endswith(b"java") and f"org.apache.spark.{cls}".encode() in cmdline
        env = Path(f"/proc/{cluster.pid(daemon)}/environ").read_bytes().split(b"\0")
        assert not [e for e in env if e.startswith(b"PYTHONPATH=")]  # workers never see the repository


def test_executors_import_the_package_from_the_shipped_zip(cluster, tmp_path):
    proc = submit("tests/cluster/probe_imports.py", [str(tmp_path / "warehouse")], cluster.url, tmp_path, "probe")
    _ok(proc, tmp_path, "probe")
    where = json.loads((tmp_path / "probe.out").read_text().strip().splitlines()[-1])
    work = str(cluster.dir / "work") + os.sep
    for backend in ("spark", "horovod", "torch_distributor"):
        got = where[backend]
        assert "error" not in got, (backend, got)
        # the zip Spark placed in the executor's own working directory, not the repository
        assert got["cwd"].startswith(work), (backend, got)
        assert got["file"] == os.path.join(got["cwd"], "adanet_spark.zip", "adanet_spark", "__init__.py"), got


def _metastore_conf(tmp_path: Path) -> Path:
    """A Spark conf folder with a Hive metastore on embedded Derby, as a cluster configures one:
    spark-defaults.conf for Spark, hive-site.xml for the metastore."""
    conf = tmp_path / "conf"
    conf.mkdir()
    defaults = {"spark.sql.catalogImplementation": "hive", "spark.sql.warehouse.dir": str(tmp_path / "warehouse"),
                "spark.driver.extraJavaOptions": f"-Dderby.system.home={tmp_path}", **DELTA_CONF}
    (conf / "spark-defaults.conf").write_text("".join(f"{k} {v}\n" for k, v in defaults.items()))
    (conf / "hive-site.xml").write_text(
        "<configuration><property><name>javax.jdo.option.ConnectionURL</name>"
        f"<value>jdbc:derby:;databaseName={tmp_path}/metastore_db;create=true</value></property></configuration>\n")
    return conf


SLOWED = r"fault: slowing candidate (\S+) iteration 0 attempt (\d+)"


def _fault_lines(cluster, worker: str) -> list[tuple[str, str]]:
    """(candidate, attempt) of every slowed attempt the worker's executors logged."""
    return [m.groups() for log in cluster.executor_logs(worker)
            for m in map(re.compile(SLOWED).search, log.read_text(errors="replace").splitlines()) if m]


@dataclass
class KilledRun:
    dir: Path
    conf: Path
    warehouse: str
    victim: str  # the worker killed while the slowed candidate trained on it
    survivor: str
    live_after_kill: list
    live_after_restart: list


def _kill_where_slowed(cluster, proc, log_dir: Path) -> str:
    """Wait until the slowed attempt runs on some worker, then SIGKILL that worker's JVM."""
    deadline = time.monotonic() + 600
    while proc.poll() is None and time.monotonic() < deadline:
        victim = next((w for w in ("worker-1", "worker-2") if _fault_lines(cluster, w)), None)
        if victim is not None:
            os.kill(cluster.pid(victim), signal.SIGKILL)  # the worker JVM, by its PID file
            return victim
        time.sleep(0.5)
    raise AssertionError(f"the slowed candidate never started\n{tail(log_dir / 'nightly.out')}")


@pytest.fixture(scope="module")
def killed_run(cluster, cluster_data, tmp_path_factory) -> KilledRun:
    """The spark backend's nightly on the cluster, results in a Hive metastore; its first
    candidate (slot 0) is slowed, and the worker it trains on is killed; then restarted."""
    log_dir = tmp_path_factory.mktemp("spark-run")
    conf = _metastore_conf(log_dir)
    warehouse = str(log_dir / "warehouse")
    args = nightly_sets("spark", cluster_data, warehouse, "c-spark", iterations=1) + [
        "--set", "testing.enabled=true", "--set", "testing.faults=[{worker: 0, slow_factor: 40}]",
        "--set", "training.mode=sync"]  # never dropped as a straggler: the kill is what it must survive
    proc = submit("jobs/nightly.py", args, cluster.url, log_dir, "nightly", env={"SPARK_CONF_DIR": str(conf)},
                  background=True)
    try:
        victim = _kill_where_slowed(cluster, proc, log_dir)
        proc.wait(timeout=900)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    _ok(proc, log_dir, "nightly")
    live = cluster.live_workers()
    cluster.script("start")  # the script restarts the dead worker
    return KilledRun(log_dir, conf, warehouse, victim, {"worker-1": "worker-2", "worker-2": "worker-1"}[victim],
                     live, cluster.live_workers())


def test_spark_backend_retries_the_candidate_of_a_killed_worker(cluster, killed_run, spark):
    run = killed_run
    ((slowed, first),) = _fault_lines(cluster, run.victim)
    assert first == "1"
    assert (slowed, "2") in _fault_lines(cluster, run.survivor)  # tried again on the surviving worker
    rows = check_tables(spark, run.warehouse, "c-spark")  # no row lost or written twice
    assert {c["candidate"]: c["status"] for c in rows["candidates"]}[slowed] == "completed"
    assert all(c["worker"].startswith("spark-slot") for c in rows["candidates"])
    assert len(run.live_after_kill) == 1 and len(run.live_after_restart) == 2


def test_results_in_the_hive_metastore_are_read_by_another_process(killed_run, spark):
    run = killed_run
    # A new process with the same metastore, and none of our code, finds the tables by name
    # (a user's shell: the venv active, the cluster's Spark conf folder).
    venv_bin = ROOT / ".venv" / "bin"
    jars = ",".join(sorted(str(p) for p in (ROOT / "jars").glob("*.jar")))
    sql = subprocess.run([str(venv_bin / "spark-sql"), "--jars", jars, "-e",
                          "SHOW TABLES IN adanet; SELECT model, test_auc FROM adanet.auc_reports"],
                         env=clean_env(SPARK_CONF_DIR=str(run.conf), PATH=f"{venv_bin}{os.pathsep}{os.environ['PATH']}"),
                         cwd=run.dir, capture_output=True, text=True, timeout=300)
    assert sql.returncode == 0, sql.stderr[-3000:]
    lines = sql.stdout.splitlines()
    tables = {line for line in lines if "\t" not in line}  # SHOW TABLES: one name a line
    assert {"runs", "candidates", "ensembles", "auc_reports", "features_tiny"} <= tables, lines
    (auc,) = [float(m.group(1)) for m in map(re.compile(r"^adanet\t([0-9.]+)$").match, lines) if m]
    (row,) = _table(spark, run.warehouse, "auc_reports", "c-spark")
    assert auc == pytest.approx(row["test_auc"], abs=1e-6)


@pytest.mark.parametrize("backend, sets", [
    ("horovod", []),
    # two data-parallel groups of two ranks (gloo across executors), two candidates at once
    ("torch_distributor", ["training.workers=4", "training.group_size=2"]),
])
def test_nightly_on_the_cluster(cluster, cluster_data, spark, tmp_path, backend, sets):
    warehouse = str(tmp_path / "warehouse")
    args = nightly_sets(backend, cluster_data, warehouse, f"c-{backend}") + [a for s in sets for a in ("--set", s)]
    proc = submit("jobs/nightly.py", args, cluster.url, tmp_path, "nightly")
    _ok(proc, tmp_path, "nightly")
    rows = check_tables(spark, warehouse, f"c-{backend}")
    prefix = {"horovod": "horovod-", "torch_distributor": "torch-slot"}[backend]
    assert all(c["worker"].startswith(prefix) for c in rows["candidates"] if c["status"] == "completed")
