"""Stragglers: async vs sync candidate scheduling, with and without a slow candidate.

A short AdaNet search (2 iterations x 4 candidates by default) on a sample of the
flights feature table (``adanet.features_flights``; a synthetic table when it is
absent) runs on local[2] through the horovod (default) and spark backends, four
ways each: mode async | sync, x no straggler | one candidate per iteration slowed
4x (the ``testing.faults`` slow fault, through the real code path). It records
the iteration wall times, their ratios (straggler / none), the final validation
AUCs and which candidates were dropped. Then it runs the default backend in two
fresh driver processes on 1x and 4x as many rows and records the driver's peak
RSS: the training data never passes through the driver, so it should not grow.

    .venv/bin/python benchmarks/stragglers.py [--train-rows 50000 --epochs 10 --backends horovod,spark]

Writes docs/benchmarks/stragglers.json and its section of docs/BENCHMARKS.md.
"""
from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time

# _common first: it puts the repository on sys.path for adanet_spark
from _common import OUT_DIR, REPO_ROOT, command_line, parser, spark_environment, write_json, write_section

JSON_PATH = os.path.join(OUT_DIR, "stragglers.json")
BENCH_DIR = os.path.join(REPO_ROOT, "build", "bench_stragglers")
FLIGHTS = os.path.join(REPO_ROOT, "warehouse", "adanet.db", "features_flights")
# One candidate per iteration (the adaptive generator's names): the shallow plain one of the
# first iteration, then the "same" shape of every later one.
SLOW_CANDIDATES = ("first-d1-w32-plain", "same-*")

log = logging.getLogger("bench.stragglers")


# ---------------------------------------------------------------------------- data
def prepare(spark, train_rows: int, valid_rows: int, scale: int) -> dict:
    """Sample the feature table into plain Parquet files; returns {"spec_json", "train", "valid", "source"}."""
    out = os.path.join(BENCH_DIR, f"{scale}x")
    meta_path = os.path.join(out, "meta.json")
    want = {"train_rows": train_rows * scale, "valid_rows": valid_rows * scale}
    if os.path.exists(meta_path):
        meta = json.load(open(meta_path))
        if all(meta.get(k) == v for k, v in want.items()):
            return meta
    from pyspark.sql import functions as F
    if os.path.isdir(os.path.join(FLIGHTS, "_delta_log")):
        spec_json = open(os.path.join(FLIGHTS, "_adanet", "spec.json")).read()
        df = spark.read.format("delta").load(FLIGHTS)
        source = "adanet.features_flights (sample)"
    else:
        spec_json, df = _synthetic(spark, (train_rows + valid_rows) * scale * 2)
        source = "synthetic (adanet.features_flights not found)"
    meta = dict(want, spec_json=spec_json, source=source)
    for split, n in (("train", want["train_rows"]), ("valid", want["valid_rows"])):
        part = df.where(F.col("split") == split).drop("split")
        total = part.count()
        if n > total:
            raise SystemExit(f"--train-rows/--valid-rows too large: {split} has {total} rows, {n} wanted")
        path = os.path.join(out, split)
        part.orderBy(F.rand(seed=7)).limit(n).coalesce(2).write.mode("overwrite").parquet(path)
        meta[split] = sorted(os.path.join(path, f) for f in os.listdir(path) if f.endswith(".parquet"))
    json.dump(meta, open(meta_path, "w"))
    return meta


def _synthetic(spark, n: int):
    import numpy as np
    import pandas as pd
    from adanet_spark.data.spec import CategoricalFeature, FeatureSpec, NumericFeature
    rng = np.random.default_rng(0)
    cards = (20, 200, 1000)
    spec = FeatureSpec("synthetic", tuple(NumericFeature(f"x{i}", 0.0, 1.0, 0.0) for i in range(7)),
                       tuple(CategoricalFeature(f"c{j}", tuple(str(k) for k in range(c - 1)))
                             for j, c in enumerate(cards)))
    x = rng.normal(size=(n, 7)).astype("float32")
    c = np.stack([rng.integers(0, k, n) for k in cards], 1)
    y = ((x[:, 0] * x[:, 1] + np.sin(x[:, 2]) + (c[:, 0] % 3 == 0) + rng.normal(0, 0.5, n)) > 0.5)
    pdf = pd.DataFrame({f"x{i}": x[:, i] for i in range(7)})
    for j in range(len(cards)):
        pdf[f"c{j}"] = c[:, j].astype("int64")
    pdf["label"] = y.astype("int32")
    pdf["split"] = np.where(rng.uniform(size=n) < 0.8, "train", "valid")
    return spec.to_json(), spark.createDataFrame(pdf)


def refs(meta: dict) -> dict:
    from adanet_spark.data.tensors import ParquetSplit
    return {s: ParquetSplit(tuple("file:" + p for p in meta[s]), meta["spec_json"]) for s in ("train", "valid")}


# ---------------------------------------------------------------------------- one search
class TimedExecutor:
    """Records each iteration's wall time (run() call to its last outcome) and outcomes."""

    def __init__(self, inner):
        self.inner = inner
        self.iterations = []

    def run(self, tasks, train_fn, data):
        t0 = time.perf_counter()
        outcomes = []
        for o in self.inner.run(tasks, train_fn, data):
            outcomes.append(o)
            yield o
        self.iterations.append({
            "wall_s": round(time.perf_counter() - t0, 3),
            "candidates": {o.task.name: {"status": o.status, "elapsed_s": round(o.elapsed_s, 2),
                                         "attempts": o.attempts, "worker": o.worker} for o in outcomes}})

    def close(self):
        self.inner.close()


def job_config(args, backend: str, mode: str, straggler: bool, iterations: int):
    from adanet_spark.config import load_config
    sets = [
        "dataset=flights", f"training.backend={backend}", f"training.mode={mode}", "training.workers=2",
        "training.group_size=1", "training.threads_per_worker=1",
        f"adanet.max_iterations={iterations}", f"adanet.candidates_per_iteration={args.candidates}",
        "adanet.widths=[32, 64]", "adanet.learning_rates=[0.003]", f"adanet.epochs={args.epochs}",
        "adanet.patience=0", "adanet.batch_size=512", "run.seed=42",
    ]
    if straggler:
        sets += ["testing.enabled=true",
                 "testing.faults=[" + ", ".join(f"{{candidate: '{c}', slow_factor: {args.slow}}}"
                                                for c in SLOW_CANDIDATES) + "]"]
    return load_config(overrides=sets)


def run_search(spark, args, meta: dict, backend: str, mode: str, straggler: bool,
               iterations: int) -> dict:
    from adanet_spark.adanet.search import AdaNetSearch
    from adanet_spark.data.spec import FeatureSpec
    from adanet_spark.execution.factory import make_executor
    cfg = job_config(args, backend, mode, straggler, iterations)
    inner = make_executor(cfg, spark)
    pool_s = None
    if hasattr(inner, "start"):
        t0 = time.perf_counter()
        inner.start()  # the worker pool starts once per search, outside the iteration times
        pool_s = round(time.perf_counter() - t0, 2)
    ex = TimedExecutor(inner)
    t0 = time.perf_counter()
    try:
        search = AdaNetSearch(FeatureSpec.from_json(meta["spec_json"]), **cfg.adanet.search_params(),
                              executor=ex, seed=cfg.run.seed)
        data = refs(meta)
        search.fit(data["train"], data["valid"])
    finally:
        ex.close()
    out = {"backend": backend, "mode": mode, "straggler": straggler, "pool_start_s": pool_s,
           "search_s": round(time.perf_counter() - t0, 2),
           "iteration_wall_s": [it["wall_s"] for it in ex.iterations],
           "selected": [h["selected"] for h in search.history_],
           "final_valid_auc": float(search.history_[-1]["valid_auc"]),
           "dropped": [n for it in ex.iterations for n, c in it["candidates"].items()
                       if c["status"] == "dropped_straggler"],
           "iterations": ex.iterations}
    if hasattr(inner, "stats"):
        out["executor_stats"] = {k: v for k, v in inner.stats.items() if k != "iterations"}
        out["scheduling"] = inner.stats.get("iterations")
    log.info("%s %s straggler=%s: iterations %s s, AUC %.4f, dropped %s", backend, mode, straggler,
             out["iteration_wall_s"], out["final_valid_auc"], out["dropped"])
    return out


# ---------------------------------------------------------------------------- RSS probe
def probe(args) -> None:
    """In a fresh driver process: one search on the given data, print peak RSS as JSON."""
    import psutil
    from adanet_spark.session import get_session
    meta = json.load(open(args.probe))
    me = psutil.Process()
    peaks = {"jvm_rss_mb": 0.0, "python_rss_sampled_mb": 0.0}
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            try:
                peaks["python_rss_sampled_mb"] = max(peaks["python_rss_sampled_mb"], me.memory_info().rss / 2**20)
                jvm = sum(c.memory_info().rss for c in me.children() if "java" in c.name())
                peaks["jvm_rss_mb"] = max(peaks["jvm_rss_mb"], jvm / 2**20)
            except psutil.Error:
                pass
            stop.wait(0.2)

    threading.Thread(target=sample, daemon=True).start()
    spark = get_session("adanet-bench-stragglers-probe", tempfile.mkdtemp(prefix="bench-wh-"),
                        extra={"spark.ui.enabled": "false"})
    res = run_search(spark, args, meta, args.probe_backend, "async", False, iterations=1)
    stop.set()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print("PROBE " + json.dumps({"driver_peak_rss_mb": round(peak_kb / 1024, 1),
                                 "python_rss_sampled_mb": round(peaks["python_rss_sampled_mb"], 1),
                                 "jvm_peak_rss_mb": round(peaks["jvm_rss_mb"], 1),
                                 "train_rows": meta["train_rows"], "search_s": res["search_s"],
                                 "final_valid_auc": res["final_valid_auc"]}), flush=True)
    spark.stop()


def run_probe(args, meta_path: str, backend: str) -> dict:
    cmd = [sys.executable, os.path.abspath(__file__), "--probe", meta_path, "--probe-backend", backend,
           "--epochs", str(args.epochs), "--candidates", str(args.candidates), "--slow", str(args.slow)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    for line in out.stdout.splitlines():
        if line.startswith("PROBE "):
            return json.loads(line[len("PROBE "):])
    raise RuntimeError(f"probe failed ({out.returncode}):\n{out.stderr[-3000:]}")


# ---------------------------------------------------------------------------- report
def _normalised(it: dict) -> float:
    """Iteration wall time in units of its median normal candidate (completed, not slowed):
    cancels the load other processes put on a shared machine between runs."""
    import fnmatch
    normal = [c["elapsed_s"] for n, c in it["candidates"].items()
              if c["status"] == "completed" and not any(fnmatch.fnmatchcase(n, s) for s in SLOW_CANDIDATES)]
    return it["wall_s"] / statistics.median(normal) if normal else float("nan")


def summarise(runs: list, default_backend: str) -> dict:
    def pick(backend, mode, straggler):
        return next(r for r in runs if (r["backend"], r["mode"], r["straggler"]) == (backend, mode, straggler))

    def mean_wall(backend, mode, straggler):
        return statistics.mean(pick(backend, mode, straggler)["iteration_wall_s"])

    def mean_norm(backend, mode, straggler):
        return statistics.mean(_normalised(it) for it in pick(backend, mode, straggler)["iterations"])

    per_backend = {}
    for b in sorted({r["backend"] for r in runs}):
        aucs = [r["final_valid_auc"] for r in runs if r["backend"] == b]
        per_backend[b] = {
            "async_straggler_ratio": round(mean_wall(b, "async", True) / mean_wall(b, "async", False), 3),
            "sync_straggler_ratio": round(mean_wall(b, "sync", True) / mean_wall(b, "sync", False), 3),
            "async_vs_sync_with_straggler": round(mean_wall(b, "async", True) / mean_wall(b, "sync", True), 3),
            "auc_spread": round(max(aucs) - min(aucs), 4),
            "async_straggler_ratio_normalised": round(mean_norm(b, "async", True) / mean_norm(b, "async", False), 3),
            "sync_straggler_ratio_normalised": round(mean_norm(b, "sync", True) / mean_norm(b, "sync", False), 3),
        }
    return per_backend


def write_outputs(result: dict, docs: bool = True) -> None:
    write_json(JSON_PATH, result)
    if docs:
        write_section("stragglers", render_md(result))


def render_md(r: dict) -> str:
    env = r["environment"]
    lines = [
        "## Stragglers: async vs sync candidate scheduling",
        "",
        f"`{r['command']}`",
        "",
        f"{env['cpus']} CPUs (1-min load average {env['load_before']:.1f} before, {env['load_after']:.1f} after), "
        f"Spark {env['spark_master']}, 2 workers, groups of 1; {r['data']['source']}: "
        f"{r['data']['train_rows']:,} train / {r['data']['valid_rows']:,} valid rows; "
        f"{r['config']['iterations']} iterations x {r['config']['candidates']} candidates, "
        f"{r['config']['epochs']} epochs each; straggler = candidate "
        f"{' or '.join(f'`{c}`' for c in SLOW_CANDIDATES)} slowed {r['config']['slow']:g}x every iteration; "
        + (f"straggler policy {r['config']['policy']}: quorum {r['config']['quorum']:g}, dropped when "
           f"{r['config']['slow_factor']:g}x slower than its expected rate."
           if r['config'].get('policy') == 'progress' else
           f"straggler policy quorum {r['config']['quorum']:g}, deadline {r['config']['deadline_factor']:g} x median."),
        "",
        "| backend | mode | straggler | iteration wall s | dropped | final valid AUC |",
        "|---|---|---|---|---|---:|",
    ]
    for run in r["runs"]:
        lines.append(f"| {run['backend']} | {run['mode']} | {'4x slow' if run['straggler'] else 'none'} | "
                     f"{', '.join(f'{w:.1f}' for w in run['iteration_wall_s'])} | "
                     f"{', '.join(run['dropped']) or '-'} | {run['final_valid_auc']:.4f} |")
    lines += ["", "| backend | async ratio (straggler / none) | sync ratio | normalised async ratio "
                  "| normalised sync ratio | async / sync with straggler | AUC spread |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    for b, s in r["per_backend"].items():
        lines.append(f"| {b}{' (default)' if b == r['default_backend'] else ''} | {s['async_straggler_ratio']:.2f} "
                     f"| {s['sync_straggler_ratio']:.2f} | {s['async_straggler_ratio_normalised']:.2f} "
                     f"| {s['sync_straggler_ratio_normalised']:.2f} | {s['async_vs_sync_with_straggler']:.2f} "
                     f"| {s['auc_spread']:.4f} |")
    rss = r.get("rss")
    if rss:
        lines += ["", f"Driver memory, {r['default_backend']} backend, one iteration in a fresh driver process:",
                  "", "| rows | train rows | driver peak RSS MB | JVM peak RSS MB |", "|---|---:|---:|---:|"]
        for k in ("1x", "4x"):
            p = rss[k]
            lines.append(f"| {k} | {p['train_rows']:,} | {p['driver_peak_rss_mb']:.0f} | {p['jvm_peak_rss_mb']:.0f} |")
        lines.append(f"\nDriver peak RSS ratio 4x / 1x: **{r['driver_rss_ratio_4x']:.2f}** (the workers read "
                     "the Parquet files themselves; the driver only lists them).")
    sched = r.get("scheduling_overhead")
    if sched:
        lines += ["", f"Horovod worker pool: started once per search in {sched['pool_start_s']} s; "
                      f"scheduling overhead of an iteration of {sched['tasks']} no-op candidates: "
                      f"{sched['iteration_s']:.3f} s (first candidate started after "
                      f"{sched['first_start_latency_s']:.3f} s)."]
    lines += ["", "Ratios are mean iteration wall time with the straggler over without it. The normalised "
              "ratios first divide each iteration's wall time by the median time of its normal candidates, "
              "which cancels the load other processes put on this shared 2-core machine between runs (it "
              "varies by 2x or more, so read the raw ratios with care). With 4 candidates on 2 workers the "
              "policy (quorum 0.5, deadline 1.5x median) gives, in theory, 1.5 for async (the straggler is "
              "dropped when the second candidate finishes, then a third runs) against 2 for sync (the "
              "iteration waits for the 4x candidate); horovod's sync mode trains every candidate "
              "data-parallel on both workers, so its absolute times are not comparable with async.", ""]
    return "\n".join(lines)


def scheduling_overhead(spark) -> dict:
    """A horovod pool, then an iteration of no-op candidates: pure scheduling cost."""
    from adanet_spark.adanet.protocol import CandidateTask
    from adanet_spark.config import load_config
    from adanet_spark.execution.factory import make_executor
    cfg = load_config(overrides=["training.backend=horovod", "training.workers=2", "training.group_size=1"])
    with make_executor(cfg, spark, drop_stragglers=False) as ex:
        t0 = time.perf_counter()
        ex.start()
        pool_s = time.perf_counter() - t0
        tasks = [CandidateTask(1, f"noop{i}", {}) for i in range(8)]
        walls = []
        for _ in range(3):
            t0 = time.perf_counter()
            list(ex.run(tasks, _noop, {}))
            walls.append(time.perf_counter() - t0)
        return {"pool_start_s": round(pool_s, 1), "tasks": len(tasks), "iteration_s": statistics.median(walls),
                "first_start_latency_s": ex.stats["iterations"][-1]["first_start_latency_s"]}


def _noop(payload, data, ctx):
    return None


def _warm(_):
    importlib.import_module("adanet_spark.adanet.train")  # torch and the training code, loaded once


# ---------------------------------------------------------------------------- main
def arguments() -> argparse.Namespace:
    ap = parser(__doc__, train_rows=50000, valid_rows=8000, epochs=10, iterations=2, candidates=4, slow=4.0,
                backends="horovod,spark")
    ap.add_argument("--no-rss", action="store_true", help="skip the 1x / 4x driver memory probes")
    ap.add_argument("--render-only", action="store_true",
                    help="recompute the summary of docs/benchmarks/stragglers.json and rewrite the docs")
    ap.add_argument("--probe", help=argparse.SUPPRESS)
    ap.add_argument("--probe-backend", default="horovod", help=argparse.SUPPRESS)
    return ap.parse_args()


def with_summary(result: dict) -> dict:
    """The per-backend summary of ``result["runs"]``, and the default backend's ratios on top."""
    result["per_backend"] = summarise(result["runs"], result["default_backend"])
    result.update({k: result["per_backend"][result["default_backend"]][k]
                   for k in ("async_straggler_ratio", "sync_straggler_ratio", "auc_spread")})
    return result


def measure(args) -> dict:
    """Every backend x mode x straggler search, the scheduling overhead and the RSS probes."""
    from adanet_spark.config import StragglerConfig
    from adanet_spark.session import get_session
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    default_backend = "horovod" if "horovod" in backends else backends[0]
    load_before = os.getloadavg()[0]
    spark = get_session("adanet-bench-stragglers", tempfile.mkdtemp(prefix="bench-wh-"),
                        extra={"spark.ui.enabled": "false"})
    meta1 = prepare(spark, args.train_rows, args.valid_rows, 1)
    meta4 = None if args.no_rss else prepare(spark, args.train_rows, args.valid_rows, 4)
    runs = []
    for backend in backends:
        if backend == "spark":  # start and warm the reused Python workers, as the pool does for horovod
            spark.sparkContext.parallelize(range(2), 2).foreach(_warm)
        for mode in ("async", "sync"):
            for straggler in (False, True):
                runs.append(run_search(spark, args, meta1, backend, mode, straggler, args.iterations))
    sched = scheduling_overhead(spark) if "horovod" in backends else None
    spark.stop()
    sc = StragglerConfig()
    result = with_summary({
        "command": command_line(__file__),
        "default_backend": default_backend,
        "runs": runs,
        "scheduling_overhead": sched,
        "config": {"iterations": args.iterations, "candidates": args.candidates, "epochs": args.epochs,
                   "slow": args.slow, "slow_candidate": list(SLOW_CANDIDATES), "quorum": sc.quorum,
                   "deadline_factor": sc.deadline_factor, "policy": sc.policy, "slow_factor": sc.slow_factor},
        "data": {"source": meta1["source"], "train_rows": meta1["train_rows"], "valid_rows": meta1["valid_rows"]},
    })
    if meta4 is not None:
        p1 = run_probe(args, os.path.join(BENCH_DIR, "1x", "meta.json"), default_backend)
        p4 = run_probe(args, os.path.join(BENCH_DIR, "4x", "meta.json"), default_backend)
        result["rss"] = {"1x": p1, "4x": p4}
        result["driver_rss_ratio_4x"] = round(p4["driver_peak_rss_mb"] / p1["driver_peak_rss_mb"], 3)
    import pyspark
    import torch
    result["environment"] = {"cpus": os.cpu_count(), "load_before": load_before, "load_after": os.getloadavg()[0],
                             "spark_master": os.environ.get("SPARK_MASTER"), "python": platform.python_version(),
                             "pyspark": pyspark.__version__, "torch": torch.__version__}
    return result


def main() -> None:
    args = arguments()
    spark_environment()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in ("bench", "adanet_spark"):  # horovod's driver logs at INFO on the root logger
        logging.getLogger(name).setLevel(logging.INFO)
    if args.probe:
        return probe(args)
    if args.render_only:
        return write_outputs(with_summary(json.load(open(JSON_PATH))), docs=not args.no_docs)
    result = measure(args)
    write_outputs(result, docs=not args.no_docs)
    print(json.dumps({k: result.get(k) for k in ("async_straggler_ratio", "sync_straggler_ratio", "auc_spread",
                                                 "driver_rss_ratio_4x")}, indent=2))


if __name__ == "__main__":
    main()
