"""The standalone cluster of ``scripts/local-cluster.sh`` for the ``cluster`` tests, and the small
nightly they submit to it through ``./spark-submit.sh``.

The tests' cluster has its own ports and folder (``build/test-cluster``), so a cluster a
developer started with the script's defaults is left alone.
"""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional, Sequence

from tests.jobs.submitted import QUICK_JVM

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "local-cluster.sh"
SUBMIT = ROOT / "spark-submit.sh"
TEST_DIR = ROOT / "build" / "test-cluster"
TEST_PORT = int(os.environ.get("ADANET_TEST_CLUSTER_PORT", "27577"))
SUBMIT_TIMEOUT_S = 900
# The tests' tables hold a few thousand rows. With a cluster's defaults (200 shuffle
# partitions, Delta's 50 for reading its log) a tiny nightly spends about a third of its
# time scheduling near-empty tasks; a cluster sized for small data sets these lower, as here.
SMALL_DATA_OPTS = ("--conf", "spark.sql.shuffle.partitions=4", "--conf", "spark.databricks.delta.snapshotPartitions=2")


def clean_env(**extra: str) -> dict:
    """The environment a user's shell would have: none of the test runner's Spark settings."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYSPARK_SUBMIT_ARGS", "SPARK_MASTER", "PYTHONPATH", "SPARK_CONF_DIR")}
    env.update(extra)
    return env


@dataclass
class Cluster:
    url: str
    dir: Path
    port: int

    def script(self, command: str, check: bool = True) -> subprocess.CompletedProcess:
        env = clean_env(ADANET_CLUSTER_DIR=str(self.dir), ADANET_CLUSTER_PORT=str(self.port))
        out = subprocess.run([str(SCRIPT), command], env=env, capture_output=True, text=True, timeout=300)
        if check and out.returncode != 0:
            raise AssertionError(f"local-cluster.sh {command} exited {out.returncode}:\n{out.stderr}")
        return out

    def pid(self, daemon: str) -> int:
        return int((self.dir / "pids" / f"{daemon}.pid").read_text())

    def live_workers(self) -> list[str]:
        out = self.script("status", check=False)
        return out.stdout.splitlines()[1:] if out.returncode == 0 else []

    def executor_logs(self, worker: str) -> list[Path]:
        """stderr of every executor the worker ran (``work/<worker>/<app>/<executor id>/stderr``)."""
        return [Path(p) for p in sorted(glob.glob(str(self.dir / "work" / worker / "app-*" / "*" / "stderr")))]


@contextmanager
def running_cluster(directory: Path = TEST_DIR, port: int = TEST_PORT) -> Iterator[Cluster]:
    """Start the cluster through the script (a fresh folder), yield it, always stop it."""
    shutil.rmtree(directory, ignore_errors=True)
    cluster = Cluster("", directory, port)
    try:
        started = cluster.script("start")
        cluster.url = started.stdout.splitlines()[0]
        yield cluster
    finally:
        pids = [p for p in (directory / "pids").glob("*.pid")] if (directory / "pids").exists() else []
        pids = [int(p.read_text()) for p in pids]
        stopped = cluster.script("stop", check=False)
        left = [p for p in pids if running(p)]
        assert stopped.returncode == 0 and not left, (stopped.stderr, left)


def running(pid: int) -> bool:
    """The process exists and has not exited (a zombie waits for its parent to reap it)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def nightly_sets(backend: str, data: str, warehouse: str, run_id: str, iterations: int = 1) -> list[str]:
    """The small nightly of the cluster tests (a few thousand rows, 1-2 iterations)."""
    sets = ["dataset=tiny", f"input.path={data}", "input.format=parquet", "input.label=answer",
            "input.positive=yes", "features.split_key=id", "output.database=adanet",
            f"output.warehouse={warehouse}", f"run.id={run_id}", f"adanet.max_iterations={iterations}",
            "adanet.widths=[4]", "adanet.candidates_per_iteration=2", "adanet.batch_size=256",
            "adanet.learning_rates=[0.03]", "adanet.epochs=1", "adanet.min_steps=60", "adanet.max_steps=120",
            "adanet.checks=3",
            f"training.backend={backend}", "training.workers=2", "baselines.models=[]"]
    return [a for s in sets for a in ("--set", s)]


def submit(job: str, args: Sequence[str], master: Optional[str], log_dir: Path, name: str,
           submit_opts: Sequence[str] = (), env: Optional[dict] = None,
           background: bool = False):
    """``./spark-submit.sh [opts] <job> args`` as a user runs it (master from SPARK_MASTER);
    returns the finished process (stdout, stderr in ``log_dir/<name>.out|err``), or the
    running one with ``background``."""
    log_dir.mkdir(parents=True, exist_ok=True)
    extra = {"SPARK_MASTER": master} if master else {}
    submit_opts = [*SMALL_DATA_OPTS, *submit_opts] if master else list(submit_opts)
    environment = clean_env(**extra, SPARK_SUBMIT_OPTS=QUICK_JVM, **(env or {}))
    out = open(log_dir / f"{name}.out", "w")
    err = open(log_dir / f"{name}.err", "w")
    proc = subprocess.Popen([str(SUBMIT), *submit_opts, job, *args], cwd=ROOT, env=environment,
                            stdout=out, stderr=err, text=True)
    if background:
        return proc
    t0 = time.monotonic()
    try:
        proc.wait(timeout=SUBMIT_TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        out.close()
        err.close()
    proc.wall_s = time.monotonic() - t0
    return proc


def tail(path: Path, lines: int = 40) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


