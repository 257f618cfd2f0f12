"""The same small nightly on the local master and on a real standalone cluster, per backend.

Each run is ``./spark-submit.sh jobs/nightly.py`` as a user starts it: on the default local
master (``local[cores + 1]``: two training slots plus the driver's on 2 cores), then with
``SPARK_MASTER`` set to the cluster of ``scripts/local-cluster.sh`` (a master and two
workers; the package shipped as the ``--py-files`` zip, Delta through ``--packages``).
The data is a few thousand synthetic rows and the search one iteration of two candidates,
so the figures are the fixed costs of each path: JVMs, zips, worker processes, Delta.

    .venv/bin/python benchmarks/cluster.py               # 3 repeats, about 25 minutes on 2 cores
    .venv/bin/python benchmarks/cluster.py --repeats 1   # one of each

Writes docs/benchmarks/cluster.json and the ``cluster`` section of docs/BENCHMARKS.md.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import time

import numpy as np
import pandas as pd
from _common import OUT_DIR, REPO_ROOT, command_line, parser, write_json, write_section

BACKENDS = ("spark", "horovod", "torch_distributor")
WORK = os.path.join(REPO_ROOT, "build", "bench-cluster")
PORT = "27677"  # not the script's default (27477) nor the tests' (27577)


def tiny_parquet(path: str, n: int = 3000) -> str:
    rng = np.random.default_rng(0)
    x, z = rng.normal(size=n), rng.normal(size=n)
    color = rng.choice(["red", "green", "blue"], size=n)
    logit = 1.5 * x * z + np.sin(2 * x) + (color == "red") - 0.3 + 0.5 * rng.normal(size=n)
    pd.DataFrame({"id": np.arange(n), "x": x, "z": z, "color": color,
                  "answer": np.where(logit > 0, "yes", "no")}).to_parquet(path, index=False)
    return path


def nightly_args(backend: str, data: str, warehouse: str, run_id: str) -> list[str]:
    sets = {"dataset": "tiny", "input.path": data, "input.format": "parquet", "input.label": "answer",
            "input.positive": "yes", "features.split_key": "id", "output.warehouse": warehouse,
            "run.id": run_id, "adanet.max_iterations": 1, "adanet.candidates_per_iteration": 2,
            "adanet.widths": "[16]", "adanet.epochs": 1, "adanet.min_steps": 100, "adanet.max_steps": 200, "training.backend": backend,
            "training.workers": 2, "baselines.models": "[]"}
    return ["--conf", "conf/default.yaml"] + [a for k, v in sets.items() for a in ("--set", f"{k}={v}")]


def clean_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYSPARK_SUBMIT_ARGS", "SPARK_MASTER", "PYTHONPATH")}
    return {**env, **extra}


def cluster(command: str) -> str:
    out = subprocess.run([os.path.join(REPO_ROOT, "scripts", "local-cluster.sh"), command], capture_output=True,
                         text=True, env=clean_env(ADANET_CLUSTER_DIR=os.path.join(WORK, "cluster"),
                                                  ADANET_CLUSTER_PORT=PORT), check=True)
    return out.stdout.splitlines()[0] if out.stdout else ""


def timed_nightly(backend: str, master: str, data: str, run_id: str) -> float:
    """Seconds from ``spark-submit.sh`` to its exit; a failed job stops the benchmark with its log."""
    log = os.path.join(WORK, f"{run_id}.log")
    extra = {"SPARK_MASTER": master} if master.startswith("spark://") else {}
    t0 = time.monotonic()
    with open(log, "w") as out:
        code = subprocess.call([os.path.join(REPO_ROOT, "spark-submit.sh"), "jobs/nightly.py",
                                *nightly_args(backend, data, os.path.join(WORK, "warehouse"), run_id)],
                               cwd=REPO_ROOT, env=clean_env(**extra), stdout=out, stderr=subprocess.STDOUT)
    if code != 0:
        raise SystemExit(f"{run_id} exited {code}; its log: {log}")
    return time.monotonic() - t0


def measure(repeats: int) -> dict:
    os.makedirs(WORK, exist_ok=True)
    data = tiny_parquet(os.path.join(WORK, "tiny.parquet"))
    url = cluster("start")
    try:
        seconds = {b: {"local": [], "cluster": []} for b in BACKENDS}
        for r in range(repeats):  # interleaved, so drift in the machine's load hits both alike
            for backend in BACKENDS:
                for where, master in (("local", "local"), ("cluster", url)):
                    s = timed_nightly(backend, master, data, f"{where}-{backend}-{r}")
                    print(f"repeat {r + 1}/{repeats} {backend:17s} {where:7s} {s:6.1f} s", flush=True)
                    seconds[backend][where].append(s)
    finally:
        cluster("stop")
    return {"repeats": repeats, "rows": 3000, "master_local": f"local[{(os.cpu_count() or 1) + 1}]",
            "master_cluster": "standalone, 2 workers x 3 cores", "seconds": seconds,
            "median_s": {b: {w: statistics.median(v) for w, v in s.items()} for b, s in seconds.items()}}


def markdown(result: dict, command: str) -> str:
    rows = [f"| {b} | {m['local']:.0f} | {m['cluster']:.0f} | {m['cluster'] / m['local']:.2f} |"
            for b, m in result["median_s"].items()]
    return "\n".join([
        "### The small nightly on local and on a standalone cluster",
        "",
        f"`{command}`: wall seconds of `./spark-submit.sh jobs/nightly.py` ({result['rows']:,} rows, one "
        f"iteration of two candidates), median of {result['repeats']}; local master "
        f"`{result['master_local']}`, cluster {result['master_cluster']} (`scripts/local-cluster.sh`), "
        "both on the same 2 cores.",
        "",
        "| backend | local s | cluster s | cluster / local |",
        "|---|---:|---:|---:|",
        *rows,
    ])


def main() -> None:
    args = parser(__doc__, repeats=3).parse_args()
    result = measure(args.repeats)
    write_json(os.path.join(OUT_DIR, "cluster.json"), result)
    text = markdown(result, command_line("benchmarks/cluster.py"))
    print(text)
    if not args.no_docs:
        write_section("cluster", text)


if __name__ == "__main__":
    main()
