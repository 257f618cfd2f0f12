"""Headline suite: AdaNet against the baselines a Spark team would pick, on four public tables.

Datasets (each ``conf/<name>.yaml`` describes the data only: input, label, features,
split): ``flights`` (split by date: test days unseen), ``adult`` (random rows),
``bio`` (KDD Cup 2004 protein homology, split by block: test proteins' blocks unseen),
``gss_abortion`` (General Social Survey, split by survey year). Models: ``adanet``
(the library defaults), ``logistic_regression``, ``manual_nn``, ``grid_search_nn``,
``random_search_nn``, ``tpe_search_nn``, ``xgboost`` and the single-machine reference
``hist_gradient_boosting``.

Honest by construction: every model picks all of its settings on the valid split,
reading a view of the feature table without its test rows (benchmarks/headline_models.py);
each model's test AUC is computed once per seed, after its selection. Feature tables
are rebuilt from the conf files at every run (``--reuse-tables`` skips that).

    .venv/bin/python benchmarks/headline.py                       # full suite: 3 seeds, about 2 h on 2 cores
    .venv/bin/python benchmarks/headline.py --datasets bio,adult  # a subset, merged into the same JSON
    .venv/bin/python benchmarks/headline.py --quick               # orientation, under 15 min

Writes docs/benchmarks/headline.json (merged per dataset: ``datasets.<name>``),
docs/benchmarks/headline.png and the ``headline`` section of docs/BENCHMARKS.md.
``--quick`` writes headline_quick.json and headline_quick.png only and prints the
section: a quick run never replaces the full run's record.
"""
from __future__ import annotations

import argparse
import copy
import json
import logging
import os
import platform
import sys
import time
from typing import Optional

# _common first: it puts the repository on sys.path for adanet_spark
from _common import OUT_DIR, REPO_ROOT, command_line, parser, spark_environment, write_json, write_section
from headline_models import HGB_GRID, REFERENCE, run_seed, selection_data
from headline_report import DATASETS, in_order, markdown, plot, summarise_dataset

log = logging.getLogger("headline")

MODELS = ("adanet", "logistic_regression", "manual_nn", "grid_search_nn", "random_search_nn", "tpe_search_nn",
          "xgboost", REFERENCE)
# Baseline nets train like one AdaNet candidate (baselines.epochs / patience unset: AdaNet's budget).
BASE = ["training.backend=spark", "training.mode=async", "training.workers=2"]
# The full run uses the library's defaults for every model (baselines.*: 20 random and 20
# TPE trials, the 24-point grid, 3 LR strengths, a 2 x 2 xgboost grid; adanet.*: all).
# Measured CPU seconds per net trial on these tables (one torch thread): 1-14 s, mean 3-6 s;
# an AdaNet iteration 8-11 s (bio: 55 s, 74 numeric features); so about 90 minutes on
# 2 cores, with flights sampled to a third of its rows (docs/BENCHMARKS.md).
FULL = list(BASE)
FULL_SAMPLE = {"flights": 3}  # keep one row in N (a hash of the row): flights' 327k rows -> ~109k
QUICK = BASE + [
    "adanet.max_iterations=2", "adanet.candidates_per_iteration=2", "adanet.epochs=2", "adanet.max_steps=600",
    "baselines.random_trials=4", "baselines.lr_reg_params=[0.0, 0.01]",
    "baselines.xgboost={max_depth: [6], learning_rate: [0.2], max_rounds: 200}",
    "baselines.grid={depth: [1, 2], width: [64], learning_rate: [0.003], dropout: [0.1], batch_size: [512],"
    " weight_decay: [0.00001]}",
]
QUICK_SAMPLE = {"flights": 32, "bio": 8, "adult": 2, "gss_abortion": 2}
QUICK_HGB_GRID = {"learning_rate": (0.1,), "max_leaf_nodes": (31,)}


# -- one dataset ------------------------------------------------------------------------
def conf_path(name: str) -> str:
    return os.path.join(REPO_ROOT, "conf", f"{name}.yaml")


def conf_adanet_keys(name: str) -> dict:
    """The ``adanet.*`` keys the dataset's conf file sets (the suite expects none)."""
    from adanet_spark.config.loader import read_config_file
    return read_config_file(conf_path(name)).get("adanet") or {}


def sample_filter(cfg, every: int) -> None:
    """Keep one row in ``every`` (a hash of the row's content, after the derived columns)."""
    if every > 1:
        keep = f"pmod(xxhash64(*), {every}) = 0"
        cfg.input.filter = f"({cfg.input.filter}) AND {keep}" if cfg.input.filter else keep


def dataset_config(name: str, quick: bool, overrides: list[str]):
    from adanet_spark.config import load_config
    sets = (QUICK if quick else FULL) + list(overrides)
    cfg = load_config(conf_path(name), sets, dataset=name)
    cfg.dataset = f"headline_{name}_quick" if quick else f"headline_{name}"
    sample_filter(cfg, (QUICK_SAMPLE if quick else FULL_SAMPLE).get(name, 1))
    return cfg, sets


def feature_table(spark, cfg, reuse: bool):
    from adanet_spark.data import feature_table as ft
    if reuse and spark.catalog.tableExists(cfg.feature_table):
        table = ft.open_table(spark, cfg)
        table.counts = ft.split_counts(spark, table.name)
        return table
    log.info("preparing %s from %s", cfg.feature_table, cfg.input.path)
    return ft.build(spark, cfg)


def warm_up(spark, cfg, table, refs) -> float:
    """Untimed: start the Python workers, import torch, load the splits into each worker's
    cache and run the scoring UDF once (on valid), so the first timed model pays no start-up
    cost the others do not. Two one-epoch trials, one per slot."""
    from adanet_spark.baselines.runner import select_model
    from adanet_spark.config import GridConfig
    from adanet_spark.execution.factory import make_executor
    warm = copy.deepcopy(cfg)
    warm.run.id = f"warmup-{cfg.dataset}"
    warm.baselines.epochs = 1
    warm.adanet = warm.adanet.model_copy(update={"min_steps": 10, "max_steps": 50})
    warm.baselines.grid = GridConfig(depth=[1], width=[8], learning_rate=[1e-3], dropout=[0.0, 0.1],
                                     batch_size=[4096], weight_decay=[0.0])
    t0 = time.perf_counter()
    data = selection_data(spark, table, refs)
    executor = make_executor(warm, spark, drop_stragglers=False, inject_faults=False)
    try:
        chosen = select_model("grid_search_nn", spark, warm, data.table, data.refs, executor)
    finally:
        executor.close()
    chosen.scorer(spark, data.table, "valid")
    return time.perf_counter() - t0


def run_dataset(spark, name: str, seeds: list[int], quick: bool, overrides: list[str], models: list[str],
                reuse: bool) -> dict:
    from adanet_spark.data.refs import split_refs
    started = time.perf_counter()
    base, sets = dataset_config(name, quick, overrides)
    table = feature_table(spark, base, reuse)
    # the same worker split cache as the jobs (pipeline/tune.py), so the timings match theirs
    refs = split_refs(spark, table.name, table.spec, cache_max_bytes=base.training.cache_budget())
    log.info("%s: %s, %s; %s", name, table.name, table.counts, table.spec.split)
    log.info("%s: warm-up took %.1f s (untimed)", name, warm_up(spark, base, table, refs))
    per_seed: dict[str, list[dict]] = {m: [] for m in models}
    hgb_grid = QUICK_HGB_GRID if quick else HGB_GRID
    for seed in seeds:
        cfg = copy.deepcopy(base)
        cfg.run.seed = seed
        cfg.run.id = f"{base.dataset}-seed{seed}"
        for model, result in run_seed(spark, cfg, table, refs, models, hgb_grid).items():
            per_seed[model].append(result)
    return summarise_dataset(name, table, base, per_seed, seeds, hgb_grid, {
        "adanet_overrides": conf_adanet_keys(name), "suite_overrides": sets, "quick": quick,
        "sample_every": (QUICK_SAMPLE if quick else FULL_SAMPLE).get(name, 1),
        "wall_s": time.perf_counter() - started})


# -- the record ---------------------------------------------------------------------------
def merged(path: str, datasets: dict) -> dict:
    """The JSON at ``path`` with these datasets' entries replaced (a file in another layout,
    such as the superseded random-split record, is started over)."""
    old = {}
    if os.path.exists(path):
        with open(path) as fh:
            old = json.load(fh)
    if not isinstance(old.get("datasets"), dict):
        old = {}
    return {"datasets": in_order({**old.get("datasets", {}), **datasets})}


def arguments(argv: Optional[list[str]]) -> argparse.Namespace:
    p = parser(__doc__)
    p.add_argument("--quick", action="store_true", help="1 seed, sampled rows, few trials and epochs")
    p.add_argument("--datasets", default=",".join(DATASETS), help="comma-separated subset, merged into the JSON")
    p.add_argument("--seeds", type=int, default=None, help="number of seeds (default 3; --quick 1)")
    p.add_argument("--skip", default="", help="models to leave out, comma-separated")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="config override for every dataset (recorded in the JSON)")
    p.add_argument("--reuse-tables", action="store_true", help="reuse existing feature tables (development)")
    p.add_argument("--out-dir", default=OUT_DIR)
    return p.parse_args(argv)


def main(argv: Optional[list[str]] = None) -> int:
    args = arguments(argv)
    names = [d for d in args.datasets.split(",") if d]
    unknown = [d for d in names if not os.path.exists(conf_path(d))]
    if unknown:
        print(f"--datasets: no conf/<name>.yaml for {', '.join(unknown)}", file=sys.stderr)
        return 2
    spark_environment(driver_memory="4g")
    from adanet_spark.cli import setup_logging
    from adanet_spark.session import get_session
    setup_logging()
    seeds = list(range(1, (args.seeds or (1 if args.quick else 3)) + 1))
    models = [m for m in MODELS if m not in set(args.skip.split(","))]
    spark = get_session("adanet-spark headline suite", "warehouse")
    command = command_line(__file__, argv)
    machine = f"{os.cpu_count()} CPU cores ({platform.machine()}), Python {platform.python_version()}"
    results = {}
    for name in names:
        results[name] = run_dataset(spark, name, seeds, args.quick, args.overrides, models, args.reuse_tables)
        results[name]["run"].update(command=command, when=time.strftime("%Y-%m-%d %H:%M"), machine=machine)
    suffix = "_quick" if args.quick else ""
    json_path = os.path.join(args.out_dir, f"headline{suffix}.json")
    record = merged(json_path, results)
    write_json(json_path, record)
    plot(record, os.path.join(args.out_dir, f"headline{suffix}.png"))
    section = markdown(record, quick=args.quick)
    print(section)
    if not args.quick and not args.no_docs:  # a quick run is for orientation: it never replaces the record
        write_section("headline", section)
        print(f"wrote {json_path} and the headline section of docs/BENCHMARKS.md")
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
