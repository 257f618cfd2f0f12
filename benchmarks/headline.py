"""Headline benchmark: AdaNet against the four baselines (and a gradient-boosting reference).

On each dataset's feature table (flights: all rows of ``adanet.features_flights``;
adult) and for each seed, it trains

* ``adanet``: :class:`AdaNetSearch` with the ``adanet`` section of
  ``conf/<dataset>.yaml`` (plus any ``--set adanet.x=...``) on the executor the
  tune/nightly jobs use (``execution.factory.make_executor``);
* ``logistic_regression``, ``manual_nn``, ``grid_search_nn``, ``random_search_nn``:
  :func:`adanet_spark.baselines.runner.run_baselines` (nets through the same
  backend, straggler dropping off);
* ``hist_gradient_boosting`` (reference row): scikit-learn's
  HistGradientBoostingClassifier on the driver, early-stopped on the valid split,
  categorical indices marked categorical (indices >= 255, the rarest levels,
  merged into the shared bucket 0: the estimator takes at most 255 categories);

all on the same splits, every test AUC computed the same way (executors score,
Spark computes the exact AUC), with the ``spark`` backend in async mode, 2
workers, on ``local[2]``. Train time is the driver's wall time for the whole
tuning (all trials / iterations); eval time is scoring the test split.

    .venv/bin/python benchmarks/headline.py            # full: 3 seeds, both datasets
    .venv/bin/python benchmarks/headline.py --quick    # a few minutes: 1 seed, fewer rows/trials

Writes docs/benchmarks/headline.json, docs/benchmarks/headline.png and the
``headline`` section of docs/BENCHMARKS.md (``--quick``: headline_quick.json and
headline_quick.png only; the Markdown is printed, BENCHMARKS.md is left alone).
"""
from __future__ import annotations

import argparse
import copy
import logging
import math
import os
import platform
import statistics
import sys
import time
from typing import Optional

# _common first: it puts the repository on sys.path for adanet_spark
from _common import OUT_DIR, REPO_ROOT, command_line, parser, spark_environment, write_json, write_section
from adanet_spark.results import tables

log = logging.getLogger("headline")

MODELS = tables.MODELS  # adanet first, then the baselines
REFERENCE = "hist_gradient_boosting"
LABELS = {"adanet": "AdaNet", "logistic_regression": "Logistic Regression", "manual_nn": "Manual NN",
          "grid_search_nn": "Grid search NN", "random_search_nn": "Random search NN",
          REFERENCE: "HistGradientBoosting (reference)"}
PUBLISHED = [  # a production deployment's figures on its own data
    ("Logistic Regression", "1 h 45 min", "20 min", "66.3%"),
    ("Manual Tuned", "2 h 05 min", "30 min", "66.8%"),
    ("Random_Bst_NN", "2 h 35 min", "35 min", "67.2%"),
    ("AdaNet", "36 min", "31 min", "67.6%"),
]
QUICK_FLIGHTS_SAMPLE = 8  # --quick keeps one flight in this many (a deterministic hash)
QUICK_OVERRIDES = [
    "adanet.max_iterations=3", "adanet.epochs=3",
    "baselines.epochs=3", "baselines.random_trials=4",
    "baselines.grid={depth: [1, 2], width: [64], learning_rate: [0.003], dropout: [0.0], batch_size: [512],"
    " weight_decay: [0.00001]}",
]


# -- one dataset ------------------------------------------------------------------------
def dataset_config(name: str, quick: bool, overrides: list[str]):
    from adanet_spark.config import load_config
    sets = ["training.backend=spark", "training.mode=async", "training.workers=2",
            "baselines.models=[logistic_regression, manual_nn, grid_search_nn, random_search_nn]"]
    if quick:
        sets += QUICK_OVERRIDES
    cfg = load_config(os.path.join(REPO_ROOT, "conf", f"{name}.yaml"), sets + list(overrides))
    if quick and name == "flights":
        cfg.dataset = f"{name}_quick"
        keep = f"pmod(xxhash64(month, day, carrier, flight), {QUICK_FLIGHTS_SAMPLE}) = 0"
        cfg.input.filter = f"({cfg.input.filter}) AND {keep}" if cfg.input.filter else keep
    return cfg


def feature_table(spark, cfg):
    from adanet_spark.data import feature_table as ft
    if spark.catalog.tableExists(cfg.feature_table):
        table = ft.open_table(spark, cfg)
        table.counts = ft.split_counts(spark, table.name)
        return table
    log.info("feature table %s is missing: preparing it from %s", cfg.feature_table, cfg.input.path)
    return ft.build(spark, cfg)


def run_adanet(spark, cfg, table, refs) -> dict:
    from adanet_spark.adanet.search import AdaNetSearch
    from adanet_spark.baselines.auc import ensemble_auc
    from adanet_spark.execution.factory import make_executor
    executor = make_executor(cfg, spark)  # as the tune/nightly jobs get it (straggler dropping on)
    try:
        t0 = time.perf_counter()
        search = AdaNetSearch(table.spec, **cfg.adanet.search_params(), executor=executor, seed=cfg.run.seed)
        search.fit(refs["train"], refs["valid"])
        train_s = time.perf_counter() - t0
    finally:
        executor.close()
    spark.sparkContext.setJobDescription("headline: test AUC of adanet")
    test_auc, eval_s, _ = ensemble_auc(spark, search.ensemble_, table.spec, table.name, "test",
                                       name=f"{cfg.run.id}/adanet")
    candidates = [r for r in search.reports_ if r.kind == "candidate"]
    valid = [h["valid_auc"] for h in search.history_ if not math.isnan(h["valid_auc"])]
    arch = "+".join(f"d{s.depth}w{s.width}" for s in search.ensemble_.architecture.subnetworks)
    log.info("adanet: %d subnetworks (%s) after %d iterations, test auc %.4f, %.1f s", len(search.ensemble_),
             arch, search.iterations_, test_auc, train_s)
    return {"train_s": train_s, "eval_s": eval_s, "valid_auc": valid[-1] if valid else math.nan,
            "test_auc": test_auc, "trials": len(candidates),
            "notes": f"{len(search.ensemble_)} subnetworks ({arch}), {search.iterations_} iterations"}


def run_hgb(refs, seed: int) -> dict:
    """HistGradientBoosting on the driver (it is a reference, not a Spark model)."""
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingClassifier
    from adanet_spark.adanet.metrics import roc_auc

    def xy(split):
        d = refs[split].load()
        cat = d.categorical.numpy().copy()
        cat[cat >= 255] = 0  # at most 255 categories: the rarest levels join the shared bucket
        x = np.concatenate([d.numeric.numpy().astype(np.float64), cat.astype(np.float64)], axis=1)
        return x, d.label.numpy(), d.numeric.shape[1], cat.shape[1]

    x_tr, y_tr, n_num, n_cat = xy("train")
    x_va, y_va, _, _ = xy("valid")
    x_te, y_te, _, _ = xy("test")
    mask = [False] * n_num + [True] * n_cat
    t0 = time.perf_counter()
    model = HistGradientBoostingClassifier(max_iter=1000, learning_rate=0.1, early_stopping=True,
                                           n_iter_no_change=20, categorical_features=mask, random_state=seed)
    model.fit(x_tr, y_tr, X_val=x_va, y_val=y_va)
    train_s = time.perf_counter() - t0
    valid_auc = roc_auc(y_va, model.predict_proba(x_va)[:, 1])
    t1 = time.perf_counter()
    test_auc = roc_auc(y_te, model.predict_proba(x_te)[:, 1])
    eval_s = time.perf_counter() - t1
    return {"train_s": train_s, "eval_s": eval_s, "valid_auc": valid_auc, "test_auc": test_auc, "trials": 1,
            "notes": f"{model.n_iter_} boosting iterations"}


def warm_up(spark, cfg, table, refs) -> float:
    """Untimed: start the Python workers, import torch, load the splits into each worker's
    cache and run the scoring UDF once, so the first timed model pays no start-up cost
    the others do not. Two one-epoch trials, one per slot."""
    from adanet_spark.baselines.runner import run_baselines
    from adanet_spark.config import GridConfig
    warm = copy.deepcopy(cfg)
    warm.run.id = f"warmup-{cfg.dataset}"
    warm.baselines.epochs = 1
    warm.baselines.grid = GridConfig(depth=[1], width=[8], learning_rate=[1e-3], dropout=[0.0, 0.1],
                                     batch_size=[4096], weight_decay=[0.0])
    t0 = time.perf_counter()
    run_baselines(spark, warm, table, models=["grid_search_nn"], refs=refs, write=False)
    return time.perf_counter() - t0


def run_dataset(spark, name: str, seeds: list[int], quick: bool, overrides: list[str],
                skip: set[str]) -> tuple[dict, dict]:
    from adanet_spark.baselines.runner import run_baselines
    from adanet_spark.data.refs import split_refs
    base = dataset_config(name, quick, overrides)
    table = feature_table(spark, base)
    refs = split_refs(spark, table.name, table.spec)
    log.info("%s: %s, %s", name, table.name, table.counts)
    log.info("%s: warm-up took %.1f s (untimed)", name, warm_up(spark, base, table, refs))
    per_seed: dict[str, list[dict]] = {m: [] for m in (*MODELS, REFERENCE) if m not in skip}
    for seed in seeds:
        cfg = copy.deepcopy(base)
        cfg.run.seed = seed
        cfg.run.id = f"headline-{base.dataset}-{seed}"
        if "adanet" not in skip:
            per_seed["adanet"].append(run_adanet(spark, cfg, table, refs))
        models = [m for m in MODELS[1:] if m not in skip]
        if models:
            rows = run_baselines(spark, cfg, table, models=models, refs=refs, write=False)
            for r in rows:
                if r["notes"].startswith("failed"):
                    raise RuntimeError(f"{name} seed {seed}: {r['model']} {r['notes']}")
                per_seed[r["model"]].append({"train_s": r["train_seconds"], "eval_s": r["eval_seconds"],
                                             "valid_auc": r["valid_auc"], "test_auc": r["test_auc"],
                                             "trials": r["trials"], "notes": r["notes"]})
        if REFERENCE not in skip:
            per_seed[REFERENCE].append(run_hgb(refs, seed))
        log.info("%s seed %d: %s", name, seed, ", ".join(f"{m} {v[-1]['test_auc']:.4f} ({v[-1]['train_s']:.0f} s)"
                                                          for m, v in per_seed.items() if v))
    summary = {m: summarise(v) for m, v in per_seed.items() if v}
    info = {"table": table.name, "rows": dict(table.counts), "seeds": seeds,
            "adanet": base.adanet.model_dump(),
            "baselines": {"epochs": base.baselines.epochs, "patience": base.baselines.patience,
                          "random_trials": base.baselines.random_trials},
            "notes": {m: [r["notes"] for r in v] for m, v in per_seed.items()}}
    return summary, info


def summarise(runs: list[dict]) -> dict:
    aucs = [r["test_auc"] for r in runs]
    return {"train_s": statistics.fmean(r["train_s"] for r in runs),
            "eval_s": statistics.fmean(r["eval_s"] for r in runs),
            "test_auc_mean": statistics.fmean(aucs),
            "test_auc_std": statistics.stdev(aucs) if len(aucs) > 1 else 0.0,
            "trials": round(statistics.fmean(r["trials"] for r in runs), 1),
            "valid_auc_mean": statistics.fmean(r["valid_auc"] for r in runs),
            "test_aucs": aucs}


# -- reporting ----------------------------------------------------------------------------
def fmt_time(seconds: float) -> str:
    if seconds >= 3600:
        h, rem = divmod(int(round(seconds)), 3600)
        return f"{h} h {rem // 60:02d} min"
    if seconds >= 60:
        m, s = divmod(int(round(seconds)), 60)
        return f"{m} min {s:02d} s"
    return f"{seconds:.1f} s"


def fmt_auc(mean: float, std: float) -> str:
    return f"{100 * mean:.2f}% ± {100 * std:.2f}"


def ratios(models: dict) -> dict:
    out = {}
    a, lr, rs = models.get("adanet"), models.get("logistic_regression"), models.get("random_search_nn")
    if a and rs:
        out["random_train_over_adanet"] = rs["train_s"] / a["train_s"]
        out["adanet_minus_random_auc"] = a["test_auc_mean"] - rs["test_auc_mean"]
    if a and lr:
        out["adanet_minus_lr_auc"] = a["test_auc_mean"] - lr["test_auc_mean"]
    if a and models.get(REFERENCE):
        out["adanet_minus_hgb_auc"] = a["test_auc_mean"] - models[REFERENCE]["test_auc_mean"]
    return out


def targets(name: str, models: dict, r: dict, random_trials: int) -> list[str]:
    """The issue's targets, each with met / missed and by how much."""
    def line(ok: bool, text: str) -> str:
        return f"- {'met' if ok else '**missed**'}: {text}"
    out = []
    if name.startswith("flights") and "adanet_minus_random_auc" in r:
        d = r["adanet_minus_random_auc"]
        out.append(line(d >= -0.001, f"AdaNet test AUC ≥ random search's within 0.001: difference {d:+.4f}"))
        q = r["random_train_over_adanet"]
        if random_trials >= 20:
            out.append(line(q >= 3.0, f"AdaNet training time ≤ 1/3 of random search's ({random_trials} trials): "
                                      f"random search takes {q:.2f}x AdaNet's time"))
        else:
            out.append(f"- n/a: training time ≤ 1/3 of random search's is stated for 20 trials; this run has "
                       f"{random_trials} (random search takes {q:.2f}x AdaNet's time)")
    if name.startswith("flights") and "adanet_minus_lr_auc" in r:
        d = r["adanet_minus_lr_auc"]
        out.append(line(d >= 0.01, f"AdaNet ≥ LR + 0.01: difference {d:+.4f}"))
    if name.startswith("flights") and "adanet_minus_hgb_auc" in r:
        d = r["adanet_minus_hgb_auc"]
        std = max(models["adanet"]["test_auc_std"], models[REFERENCE]["test_auc_std"], 0.001)
        out.append(line(d >= -2 * std, f"AdaNet level with HistGradientBoosting (not below it by more than "
                                       f"max(2 std, 0.002) = {2 * std:.4f}): "
                                       f"difference {d:+.4f}"))
    if name.startswith("adult") and "adanet_minus_random_auc" in r:
        d = r["adanet_minus_random_auc"]
        out.append(line(d >= -0.002, f"AdaNet not below random search by more than 0.002: difference {d:+.4f}"))
    return out


def markdown(results: dict, infos: dict, meta: dict) -> str:
    lines = ["## Headline: AdaNet vs baselines", "",
             f"`{meta['command']}` — {meta['when']}, wall time {fmt_time(meta['wall_s'])}; "
             f"{meta['machine']}. Spark `local[2]`, `spark` backend (async, 2 workers, 1 torch thread each); "
             f"every model on the same feature table and splits, test AUC computed the same way (exact, on Spark). "
             f"Training time: wall time of the whole tuning (AdaNet: every iteration; searches: every trial); "
             f"eval time: scoring the test split. AUC: test AUC, mean ± std over seeds {meta['seeds']}.", "",
             "Published (a production deployment's figures on its own data and hardware; only the ratios "
             "and differences compare):", "",
             "| Model | Training time | Eval time | AUC |", "|---|---|---|---|"]
    lines += [f"| {m} | {t} | {e} | {a} |" for m, t, e, a in PUBLISHED]
    lines.append("")
    for name, models in results.items():
        info = infos[name]
        rows = ", ".join(f"{k} {v:,}" for k, v in info["rows"].items())
        lines += [f"### {name}", "", f"`{info['table']}`: {rows} rows.", "",
                  "| Model | Training time | Eval time | AUC | Trials |", "|---|---|---|---|---|"]
        for m in (*MODELS, REFERENCE):
            if m in models:
                s = models[m]
                lines.append(f"| {LABELS[m]} | {fmt_time(s['train_s'])} | {fmt_time(s['eval_s'])} | "
                             f"{fmt_auc(s['test_auc_mean'], s['test_auc_std'])} | {s['trials']:g} |")
        r = ratios(models)
        lines.append("")
        if "random_train_over_adanet" in r:
            lines.append(f"- Random-search train time ÷ AdaNet train time: **{r['random_train_over_adanet']:.2f}** "
                         f"(published: 2 h 35 min ÷ 36 min = 4.31)")
        if "adanet_minus_lr_auc" in r:
            lines.append(f"- AdaNet AUC − LR AUC: **{r['adanet_minus_lr_auc']:+.4f}** (published: +0.013)")
        if "adanet_minus_random_auc" in r:
            lines.append(f"- AdaNet AUC − random-search AUC: **{r['adanet_minus_random_auc']:+.4f}** "
                         f"(published: +0.004)")
        if "adanet_minus_hgb_auc" in r:
            lines.append(f"- AdaNet AUC − HistGradientBoosting AUC: {r['adanet_minus_hgb_auc']:+.4f}")
        t = targets(name, models, r, info["baselines"]["random_trials"])
        if t:
            quick = " (a --quick run: reduced rows, trials and epochs, one seed; for orientation only)" \
                if name.endswith("_quick") or meta.get("quick") else ""
            lines += ["", f"Targets{quick}:", ""] + t
        a = info["adanet"]
        lines += ["", f"AdaNet: max_iterations {a['max_iterations']}, {a['candidates_per_iteration']} candidates "
                      f"per iteration, widths {a['widths']}, learning rates {a['learning_rates']}, epochs {a['epochs']}, "
                      f"patience {a['patience']}, batch {a['batch_size']}, lambda {a['lambda_']}, beta {a['beta']}. "
                      f"Baseline nets: up to {info['baselines']['epochs']} epochs, patience "
                      f"{info['baselines']['patience']}; random search {info['baselines']['random_trials']} trials.",
                  ""]
        chosen = info["notes"].get("random_search_nn") or []
        if chosen:
            lines += [f"Random search chose: " + " | ".join(n.split(";")[0].replace("chosen ", "") for n in chosen), ""]
        ada = info["notes"].get("adanet") or []
        if ada:
            lines += ["AdaNet ensembles: " + " | ".join(ada), ""]
    suffix = "_quick" if meta.get("quick") else ""
    lines += [f"Plot: [headline{suffix}.png](benchmarks/headline{suffix}.png); "
              f"data: [headline{suffix}.json](benchmarks/headline{suffix}.json)."]
    return "\n".join(lines)


def plot(results: dict, path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(results), figsize=(6.5 * len(results), 4.8), squeeze=False)
    markers = {"adanet": "*", "logistic_regression": "s", "manual_nn": "o", "grid_search_nn": "^",
               "random_search_nn": "D", REFERENCE: "x"}
    for ax, (name, models) in zip(axes[0], results.items()):
        for m, s in models.items():
            ax.errorbar(s["train_s"], 100 * s["test_auc_mean"], yerr=100 * s["test_auc_std"], fmt=markers[m],
                        markersize=12 if m == "adanet" else 8, capsize=3, label=LABELS[m])
        ax.set_xscale("log")
        ax.set_xlabel("training time (s, log scale)")
        ax.set_ylabel("test AUC (%)")
        ax.set_title(name)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    fig.suptitle("Test AUC (mean ± std over seeds) vs training time, Spark local[2]")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def arguments(argv: Optional[list[str]]) -> argparse.Namespace:
    p = parser(__doc__)
    p.add_argument("--quick", action="store_true", help="1 seed, 1/8 of flights, fewer trials and epochs")
    p.add_argument("--datasets", default="flights,adult")
    p.add_argument("--seeds", type=int, default=None, help="number of seeds (default 3; --quick 1)")
    p.add_argument("--skip", default="", help="models to leave out, comma-separated")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="config override for every dataset, e.g. adanet.epochs=5")
    p.add_argument("--out-dir", default=OUT_DIR)
    return p.parse_args(argv)


def main(argv: Optional[list[str]] = None) -> int:
    args = arguments(argv)
    spark_environment(driver_memory="4g")
    from adanet_spark.cli import setup_logging
    setup_logging()
    n_seeds = args.seeds or (1 if args.quick else 3)
    seeds = list(range(1, n_seeds + 1))
    skip = {s for s in args.skip.split(",") if s}
    started = time.perf_counter()
    from adanet_spark.session import get_session
    spark = get_session("adanet-spark headline benchmark", "warehouse")
    results, infos = {}, {}
    for name in [d for d in args.datasets.split(",") if d]:
        summary, info = run_dataset(spark, name, seeds, args.quick, args.overrides, skip)
        key = f"{name}_quick" if args.quick and name == "flights" else name
        results[key], infos[key] = summary, info
    wall = time.perf_counter() - started
    suffix = "_quick" if args.quick else ""
    json_path = os.path.join(args.out_dir, f"headline{suffix}.json")
    write_json(json_path, results)
    plot(results, os.path.join(args.out_dir, f"headline{suffix}.png"))
    meta = {"command": command_line(__file__, argv), "quick": args.quick,
            "when": time.strftime("%Y-%m-%d"), "wall_s": wall, "seeds": seeds,
            "machine": f"{os.cpu_count()} CPU cores ({platform.machine()}), Python {platform.python_version()}"}
    section = markdown(results, infos, meta)
    print(section)
    if not args.quick and not args.no_docs:  # a quick run is for orientation: it never replaces the record
        write_section("headline", section)
        print(f"wrote {json_path} and the headline section of docs/BENCHMARKS.md")
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
