"""The headline suite's record: one dataset's summary (JSON), the Markdown section, the plot."""
from __future__ import annotations

import math
import statistics
from typing import Any

from headline_models import REFERENCE

DATASETS = ("flights", "adult", "bio", "gss_abortion")  # the suite, in the order it reports
LABELS = {"adanet": "AdaNet (library defaults)", "logistic_regression": "Logistic regression (Spark ML)",
          "manual_nn": "Manual NN", "grid_search_nn": "Grid search NN", "random_search_nn": "Random search NN",
          "tpe_search_nn": "TPE search NN (Optuna)", "xgboost": "XGBoost (xgboost.spark)",
          REFERENCE: "HistGradientBoosting (single machine)"}
SPLIT_WORDS = {"time": "time-ordered by `{column}` (test: the newest values, unseen in training)",
               "group": "by group, a hash of `{column}` (test groups unseen in training)",
               "random": "random rows (a hash of each row)"}


# -- the JSON entry of one dataset ----------------------------------------------------------
def summarise_model(runs: list[dict]) -> dict:
    aucs = [r["test_auc"] for r in runs]
    out = {"test_auc_mean": statistics.fmean(aucs), "test_auc_std": statistics.stdev(aucs) if len(aucs) > 1 else 0.0,
           "train_s_mean": statistics.fmean(r["train_s"] for r in runs),
           "eval_s_mean": statistics.fmean(r["eval_s"] for r in runs),
           "valid_auc_mean": statistics.fmean(r["valid_auc"] for r in runs),
           "trials": round(statistics.fmean(r["trials"] for r in runs), 1), "seeds": len(runs),
           "test_aucs": aucs, "notes": [r["notes"] for r in runs]}
    if "subnetworks" in runs[0]:
        firsts = [r["first_subnetwork_test_auc"] for r in runs]
        out.update(subnetworks=[r["subnetworks"] for r in runs], iterations=[r["iterations"] for r in runs],
                   subnetworks_mean=statistics.fmean(r["subnetworks"] for r in runs),
                   first_subnetwork_test_auc=firsts,
                   first_subnetwork_test_auc_mean=statistics.fmean(firsts) if firsts else math.nan,
                   dropped_stragglers=sum(r["dropped_stragglers"] for r in runs),
                   dropped_stragglers_per_seed=[r["dropped_stragglers"] for r in runs])
    return out


def summarise_dataset(name: str, table: Any, cfg: Any, per_seed: dict, seeds: list[int], hgb_grid: dict,
                      run: dict) -> dict:
    split = dict(table.spec.split)
    models = {m: summarise_model(v) for m, v in per_seed.items() if v}
    b = cfg.baselines
    return {
        "split": {"kind": split.get("kind", "random"), "column": split.get("column")}, "split_detail": split,
        "table": table.name, "rows": sum(table.counts.values()), "split_rows": dict(table.counts),
        "adanet_overrides": run.pop("adanet_overrides"), "seeds": seeds, "models": models,
        "time_ratios": time_ratios(models),
        "settings": {"adanet": cfg.adanet.model_dump(by_alias=True, exclude={"warm_start"}),
                     "baselines": {"epochs": b.epochs, "patience": b.patience, "random_and_tpe_trials": b.random_trials,
                                   "grid_trials": math.prod(len(getattr(b.grid, k)) for k in type(b.grid).model_fields),
                                   "lr_reg_params": b.lr_reg_params, "xgboost": b.xgboost.model_dump()},
                     "hist_gradient_boosting": {k: list(v) for k, v in hgb_grid.items()}},
        "run": run,
    }


def time_ratios(models: dict) -> dict:
    """Each model's mean training time over AdaNet's."""
    base = models.get("adanet", {}).get("train_s_mean")
    if not base:
        return {}
    return {m: s["train_s_mean"] / base for m, s in models.items() if m != "adanet"}


# -- Markdown ---------------------------------------------------------------------------------
def fmt_time(seconds: float) -> str:
    if seconds >= 3600:
        h, rem = divmod(int(round(seconds)), 3600)
        return f"{h} h {rem // 60:02d} min"
    if seconds >= 60:
        m, s = divmod(int(round(seconds)), 60)
        return f"{m} min {s:02d} s"
    return f"{seconds:.1f} s"


def dataset_lines(name: str, d: dict) -> list[str]:
    split = SPLIT_WORDS[d["split"]["kind"]].format(column=d["split"]["column"])
    rows = ", ".join(f"{k} {d['split_rows'][k]:,}" for k in ("train", "valid", "test") if k in d["split_rows"])
    run = d["run"]
    sample = f"; one row in {run['sample_every']} kept (a hash of the row)" if run.get("sample_every", 1) > 1 else ""
    lines = [f"### {name}", "",
             f"Split {split}; {rows} rows{sample}. Seeds {d['seeds']}; `adanet.*` keys set by "
             f"conf/{name}.yaml: {d['adanet_overrides'] or 'none'}. Run: {run.get('when', '?')}, "
             f"{fmt_time(run['wall_s'])} for this dataset.", "",
             "| Model | Test AUC (mean ± std) | Valid AUC | Training time | Time ÷ AdaNet's | Trials |",
             "|---|---|---|---|---|---|"]
    ranked = sorted(d["models"].items(), key=lambda kv: -kv[1]["test_auc_mean"])
    for m, s in ranked:
        ratio = d["time_ratios"].get(m)
        lines.append(f"| {LABELS.get(m, m)} | {s['test_auc_mean']:.4f} ± {s['test_auc_std']:.4f} | "
                     f"{s['valid_auc_mean']:.4f} | {fmt_time(s['train_s_mean'])} | "
                     f"{'1' if m == 'adanet' else (f'{ratio:.2f}' if ratio else '-')} | {s['trials']:g} |")
    a = d["models"].get("adanet")
    if a:
        lines += ["", f"AdaNet: subnetworks per seed {a['subnetworks']}; the first subnetwork alone scores "
                      f"{a['first_subnetwork_test_auc_mean']:.4f} on test (mean); {a['dropped_stragglers']} "
                      f"candidate(s) dropped as stragglers."]
    return lines + [""]


METHOD = [
    "How it is measured (benchmarks/headline.py):",
    "",
    "- **Selection on valid only.** Every model picks all of its settings on the valid split, reading a "
    "view of the feature table without the test rows and the train/valid references only; each model's "
    "test AUC is then computed once per seed (exact, on Spark, the same way for all). "
    "tests/benchmarks/test_headline_models.py runs this path on two tables that differ only in their test "
    "labels: every selection comes out identical and every test AUC flips.",
    "- **Splits a nightly job would face.** flights by date (the oldest 80% of days train, the newest 10% "
    "test; features a model can use on an unseen day: schedule, carrier, route, distance, day of week, "
    "month), gss_abortion by survey year, bio by protein block (a hash of BLOCK_ID: test blocks unseen), "
    "adult by random rows (one census, no time or group).",
    "- **Library defaults, no tuning of the benchmark** (the full run; `--quick` cuts rows, trials and "
    "training steps). No conf file sets an `adanet.*` key. The baseline "
    "nets (manual, grid, random, TPE) train like one AdaNet candidate (AdaNet's trainer and step budget), "
    "with `baselines.*` at their defaults: 20 random and 20 TPE trials over the same space, the 24-point "
    "grid, 3 L2 strengths for logistic regression, a 2 x 2 (max_depth x learning_rate) grid for xgboost, "
    "early-stopped on valid AUC.",
    "- **XGBoost** is `xgboost.spark.SparkXGBClassifier` on 2 Spark workers, with the categorical indices "
    "as native categoricals (`feature_types` 'c': the API allows it, and a split can then group any set of "
    "levels instead of cutting their frequency order). **HistGradientBoosting** (single machine, one thread) takes "
    "columns of at most 255 levels as native categoricals and wider ones (flight numbers) as ordinal codes: "
    "nothing is folded.",
    "- Training time is the wall time of the whole selection (every fit, trial or iteration); time ÷ "
    "AdaNet's divides it by AdaNet's. Spark `local[2]`, `spark` backend (async, 2 workers).",
    "",
]


def in_order(datasets: dict) -> dict:
    """The datasets in the suite's order (others after, by name); JSON files keep keys sorted."""
    def key(name: str) -> tuple:
        return (DATASETS.index(name), name) if name in DATASETS else (len(DATASETS), name)
    return {name: datasets[name] for name in sorted(datasets, key=key)}


def markdown(record: dict, quick: bool = False) -> str:
    datasets = in_order(record["datasets"])
    lines = ["## Headline: AdaNet vs the baselines a Spark team would pick", ""]
    if quick:
        lines += ["**A --quick run**: sampled rows, a few trials and short training, one seed. For "
                  "orientation only: the full suite (`make bench-headline`) replaces it.", ""]
    commands = sorted({d["run"].get("command", "?") for d in datasets.values()})
    lines += METHOD + ["Produced by: " + "; ".join(f"`{c}`" for c in commands) + ". Tables sorted by test AUC.", ""]
    for name, d in datasets.items():
        lines += dataset_lines(name, d)
    suffix = "_quick" if quick else ""
    lines += [f"Plot: [headline{suffix}.png](benchmarks/headline{suffix}.png); "
              f"data (settings, per-seed AUCs, chosen settings): [headline{suffix}.json](benchmarks/headline{suffix}.json)."]
    return "\n".join(lines)


def plot(record: dict, path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    datasets = in_order(record["datasets"])
    fig, axes = plt.subplots(1, len(datasets), figsize=(5.2 * len(datasets), 4.6), squeeze=False)
    markers = dict(zip(LABELS, "*soD^vPx"))
    for ax, (name, d) in zip(axes[0], datasets.items()):
        for m, s in d["models"].items():
            ax.errorbar(s["train_s_mean"], s["test_auc_mean"], yerr=s["test_auc_std"], fmt=markers.get(m, "o"),
                        markersize=13 if m == "adanet" else 8, capsize=3, label=LABELS.get(m, m))
        ax.set_xscale("log")
        ax.set_xlabel("training time (s, log scale)")
        ax.set_ylabel("test AUC")
        ax.set_title(f"{name} ({d['split']['kind']} split)")
        ax.grid(True, alpha=0.3)
    axes[0][0].legend(fontsize=7, loc="best")
    fig.suptitle("Test AUC (mean ± std over seeds) vs training time; Spark local[2]")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
