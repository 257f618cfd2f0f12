"""Scale: the job at 2M and 20M synthetic rows (benchmarks/synthetic.py) on 2 cores.

Each size runs in a fresh driver process (``--phase``), so its peak RSS is its own:

1. generate the rows with Spark (reused from an earlier run with the same rows and seed);
2. prepare the feature table (``data.feature_table.build``): wall time, and the Spark jobs
   it runs, counted with the status tracker (those of a job group set around it, plus
   any new job without a group);
3. the Bayes-optimal AUC of the test rows (synthetic.bayes_auc);
4. a short AdaNet search (``--iterations``, public ``AdaNetSearch`` on the job's
   executor, splits cached or streamed by ``training.cache_max_bytes``): wall time,
   test AUC, and logistic regression (the baselines' Spark ML one) on the same splits;
5. scoring: Spark's ``score_features`` over the test split (rows/s per core) against in-process
   torch scoring of the same ensemble on one thread, in a fresh process (``--torch-score``):
   the rows that reference holds are the benchmark's, not the driver's;
6. candidate training throughput and peak RSS in a fresh worker process
   (``--train-probe``: what a worker runs, ``split_cache.cached`` then
   ``train_candidate``), streamed and cached alternately on the same candidate.

Then the ratios of the larger size to the smaller go to docs/benchmarks/scale.json and
the ``scale`` section of docs/BENCHMARKS.md (benchmarks/scale_report.py).

    .venv/bin/python benchmarks/scale.py                      # 2M and 20M rows (about an hour)
    .venv/bin/python benchmarks/scale.py --rows-small 200000 --rows-large 2000000 --no-docs
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

# _common first: it puts the repository on sys.path for adanet_spark
from _common import OUT_DIR, REPO_ROOT, command_line, parser, spark_environment, write_json, write_section
from scale_measure import (RssMonitor, brief, count_jobs, label_of, measure_search, scoring_throughput,
                           split_layout, torch_scoring, train_probe)

JSON_PATH = os.path.join(OUT_DIR, "scale.json")
BENCH_DIR = os.path.join(REPO_ROOT, "build", "bench_scale")
PHASE, PROBE, TORCH = "PHASE ", "PROBE ", "TORCH "


def say(label: str, message: str) -> None:
    print(f"[scale {label} {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def job_config(args, label: str, raw: str):
    from adanet_spark.config import load_config
    from synthetic import CATEGORICAL, NUMERIC
    sets = [f"dataset=synthetic_{label.lower()}", f"input.path={raw}", "input.format=parquet",
            "input.label=label", f"features.numeric=[{', '.join(NUMERIC)}]",
            f"features.categorical=[{', '.join(CATEGORICAL)}]", "features.split_key=id",
            f"features.top_k={args.top_k}", f"output.warehouse={os.path.join(BENCH_DIR, 'warehouse')}",
            "output.database=bench_scale", f"training.backend={args.backend}", "training.workers=2",
            f"adanet.max_iterations={args.iterations}", f"run.seed={args.seed}"]
    if args.cache_max_bytes >= 0:
        sets.append(f"training.cache_max_bytes={args.cache_max_bytes}")
    return load_config(overrides=sets + [s for s in args.set.split(";") if s.strip()])


def raw_data(spark, args, rows: int) -> dict:
    """The synthetic rows as Parquet, generated unless an earlier run left the same ones."""
    import synthetic
    out = os.path.join(BENCH_DIR, f"raw_{rows}_{args.seed}")
    meta_path = out + ".json"
    if os.path.exists(meta_path):
        return dict(json.load(open(meta_path)), reused=True)
    t0 = time.perf_counter()
    synthetic.generate(spark, rows, args.seed, out)
    meta = {"path": out, "rows": rows, "seed": args.seed, "generate_s": round(time.perf_counter() - t0, 1)}
    json.dump(meta, open(meta_path, "w"))
    return dict(meta, reused=False)


def prepare(spark, cfg) -> tuple:
    """The feature table, timed, with the Spark jobs its preparation ran."""
    from adanet_spark import catalog
    from adanet_spark.data import feature_table
    # A fresh table at each size: Delta checkpoints its log every 10 commits, and the run
    # that crosses one writes and reads it (5-6 more Spark jobs, whatever the rows).
    database, name = feature_table.table_name(cfg)
    spark.sql(f"DROP TABLE IF EXISTS {database}.{name}")  # registered by path: files stay
    path = catalog.table_path(cfg.output.warehouse, database, name)
    if os.path.exists(path):
        shutil.rmtree(path)
    t0 = time.perf_counter()
    with count_jobs(spark.sparkContext, "bench-scale-prepare") as jobs:
        table = feature_table.build(spark, cfg)
    return table, {"wall_s": round(time.perf_counter() - t0, 2), "spark_jobs": jobs["group"],
                   "spark_jobs_all": jobs["all"], "jobs_by_call_site": jobs["where"], "counts": table.counts}


def run_phase(args) -> dict:
    """One size, in this (fresh) driver process; returns its measurements."""
    import synthetic
    from adanet_spark.data.refs import split_refs
    from adanet_spark.session import get_session
    rows, label = args.phase, label_of(args.phase)
    monitor = RssMonitor().start()
    spark = get_session("adanet-bench-scale", os.path.join(BENCH_DIR, "warehouse"),
                        extra={"spark.ui.enabled": "false"})
    raw = raw_data(spark, args, rows)
    say(label, f"raw rows at {raw['path']} ({'reused' if raw['reused'] else 'generated'})")
    cfg = job_config(args, label, raw["path"])
    with monitor.window("prepare"):
        table, prep = prepare(spark, cfg)
    say(label, f"prepared {table.name}: {prep['wall_s']} s, {prep['spark_jobs']} Spark jobs")
    refs = split_refs(spark, table.name, table.spec, cache_max_bytes=cfg.training.cache_budget())
    with monitor.window("bayes"):
        bayes, test_rows = synthetic.bayes_auc(spark, raw["path"], table.name)
    out = {"rows": rows, "label": label, "raw": raw, "prepare": prep, "layout": split_layout(refs),
           "bayes_test_auc": round(bayes, 5), "test_rows": test_rows}
    say(label, f"Bayes test AUC {bayes:.4f}; train split {out['layout']['train']['decision']}; searching")
    with monitor.window("search"):
        out["search"], ensemble = measure_search(spark, cfg, table, refs)
    say(label, f"search: {out['search']}")
    with monitor.window("lr"):
        out["lr"] = measure_lr(spark, cfg, table)
    say(label, f"logistic regression: {out['lr']}")
    with monitor.window("scoring"):
        out["scoring"] = scoring_throughput(spark, ensemble, table,
                                            lambda: torch_reference(ensemble, refs["test"], args.score_rows))
    say(label, f"scoring: {out['scoring']}")
    spark.stop()
    with monitor.window("probes"):
        out["train"] = run_probes(args, refs)
    say(label, f"training probes: {out['train']}")
    out["driver"] = monitor.stop()
    return out


def measure_lr(spark, cfg, table) -> dict:
    """Logistic regression (the baselines' Spark ML model) on the same feature table."""
    from adanet_spark.baselines.runner import run_baselines
    t0 = time.perf_counter()
    try:
        row = run_baselines(spark, cfg, table, models=["logistic_regression"], write=False)[0]
    except Exception as exc:  # the comparison is lost, not the other measurements
        return {"error": brief(exc)}
    return {"wall_s": round(time.perf_counter() - t0, 1), "test_auc": row["test_auc"],
            "valid_auc": row["valid_auc"], "notes": row["notes"]}


def run_probes(args, refs) -> dict:
    """Streamed and cached training of the same candidate, alternately, each in a fresh process."""
    spec = {"train": list(refs["train"].paths), "valid": list(refs["valid"].paths),
            "spec_json": refs["train"].spec_json, "steps": args.probe_steps, "batch_size": args.batch_size,
            "threads": args.probe_threads}
    runs: dict = {"stream": [], "cache": []}
    for _ in range(args.probe_repeats):
        for mode in ("stream", "cache"):
            runs[mode].append(run_child(["--train-probe", json.dumps(dict(spec, mode=mode))], PROBE))
    return runs


def torch_reference(ensemble, test_ref, rows: int) -> dict:
    """In-process torch scoring of ``ensemble`` (scale_measure.torch_scoring), in a fresh process."""
    path = os.path.join(BENCH_DIR, "scoring_ensemble.bin")
    with open(path, "wb") as f:
        f.write(ensemble.to_bytes())
    spec = {"test": list(test_ref.paths), "spec_json": test_ref.spec_json, "ensemble": path, "rows": rows}
    return run_child(["--torch-score", json.dumps(spec)], TORCH)


def run_child(extra: list, tag: str, timeout_s: int = 7200) -> dict:
    """This script in a fresh process; its result is the JSON on the line tagged ``tag``."""
    cmd = [sys.executable, os.path.abspath(__file__), *extra]
    # stderr passes through: the child's progress and errors show as they happen
    done = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, timeout=timeout_s)
    for line in done.stdout.splitlines():
        if line.startswith(tag):
            return json.loads(line[len(tag):])
    return {"error": f"{' '.join(extra[:1])} exited {done.returncode} without a result (its log is above)"}


def phase_args(args, rows: int) -> list:
    keep = ("seed", "top_k", "backend", "iterations", "cache_max_bytes", "set", "score_rows", "probe_steps",
            "probe_repeats", "probe_threads", "batch_size")
    out = ["--phase", str(rows)]
    for k in keep:
        out += ["--" + k.replace("_", "-"), str(getattr(args, k))]
    return out


def main() -> None:
    from scale_report import render_md, summarise
    p = parser(__doc__, rows_small=2_000_000, rows_large=20_000_000, seed=7, top_k=1000, backend="horovod",
               iterations=2, cache_max_bytes=-1, set="baselines.lr_reg_params=[0.0]", score_rows=200_000,
               probe_steps=1500, probe_repeats=2, probe_threads=1, batch_size=1024, driver_memory="6g",
               phase=0)
    p.add_argument("--train-probe", default="", help=argparse.SUPPRESS)  # internal: one worker, JSON
    p.add_argument("--torch-score", default="", help=argparse.SUPPRESS)  # internal: the scoring reference
    args = p.parse_args()
    os.environ.setdefault("SPARK_MASTER", f"local[{(os.cpu_count() or 1) + 1}]")  # + the driver's slot
    spark_environment(driver_memory=args.driver_memory)
    os.makedirs(BENCH_DIR, exist_ok=True)
    if args.train_probe:
        print(PROBE + json.dumps(train_probe(json.loads(args.train_probe))), flush=True)
        return
    if args.torch_score:
        print(TORCH + json.dumps(torch_scoring(json.loads(args.torch_score))), flush=True)
        return
    if args.phase:
        print(PHASE + json.dumps(run_phase(args), default=str), flush=True)
        return
    load_before = os.getloadavg()[0]
    sizes = {}
    for rows in (args.rows_small, args.rows_large):
        sizes[label_of(rows)] = run_child(phase_args(args, rows), PHASE)
    result = summarise(sizes, args, command_line(__file__), load_before)
    write_json(JSON_PATH, result)
    if not args.no_docs:
        write_section("scale", render_md(result))
    print(json.dumps({k: v for k, v in result.items() if k != "sizes"}, indent=2))


if __name__ == "__main__":
    main()
