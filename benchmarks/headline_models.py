"""The headline suite's models on one dataset and seed: selection first, test once after.

Every model is *selected* on a :class:`SelectionData`: a temporary view of the
feature table without its test rows, and the train and valid split references
only, so nothing a model chooses (trial, regularisation, depth, boosting rounds,
AdaNet's subnetworks) can depend on a test row. Each then scores the full table's
test split once (:meth:`adanet_spark.baselines.selection.Selected.test_auc`).

* ``adanet``: :class:`AdaNetSearch` with the library defaults (``conf/<dataset>.yaml``
  sets no ``adanet.*`` key) on the executor the tune/nightly jobs use;
* the baselines: :func:`adanet_spark.baselines.runner.select_model` (nets and TPE on the
  same backend, straggler dropping off; logistic regression and xgboost on Spark);
* ``hist_gradient_boosting``: scikit-learn on the driver, a single-machine reference.
"""
from __future__ import annotations

import itertools
import logging
import math
import time
from dataclasses import dataclass
from typing import Any, Optional

from adanet_spark.baselines.selection import Selected, selection_refs

log = logging.getLogger("headline")

REFERENCE = "hist_gradient_boosting"
HGB_MAX_CATEGORIES = 255  # the estimator's limit: wider columns go in as ordinal codes
HGB_GRID = {"learning_rate": (0.05, 0.2), "max_leaf_nodes": (15, 63)}
# One OpenMP thread: with two, a busy machine (other processes on the 2 cores) makes its
# spin-waiting threads 40x slower (measured: 155 s against 4 s for one fit of 20k rows).
HGB_THREADS = 1


@dataclass
class SelectionData:
    """What selection may read: a view without the test rows, and train/valid references."""

    table: Any  # a FeatureTable whose name is the view
    refs: dict  # train and valid only


def selection_data(spark: Any, table: Any, refs: dict) -> SelectionData:
    """A temporary view ``<table>_selection`` of ``table``'s train and valid rows (test rows
    are absent from it) and the train and valid references."""
    from pyspark.sql import functions as F
    from adanet_spark.data.feature_table import FeatureTable
    from adanet_spark.data.spec import SPLIT
    view = table.name.split(".")[-1] + "_selection"
    spark.table(table.name).where(F.col(SPLIT) != "test").createOrReplaceTempView(view)
    counts = {k: v for k, v in table.counts.items() if k != "test"}
    return SelectionData(FeatureTable(view, table.path, table.spec, counts), selection_refs(refs))


# -- AdaNet -------------------------------------------------------------------------------
def ensemble_scorer(ensemble: Any, name: str):
    from adanet_spark.baselines.auc import ensemble_auc

    def score(spark: Any, table: Any, split: str) -> tuple[float, int]:
        auc, _, rows = ensemble_auc(spark, ensemble, table.spec, table.name, split, name=name)
        return auc, rows
    return score


def select_adanet(spark: Any, cfg: Any, data: SelectionData) -> Selected:
    from adanet_spark.adanet.search import AdaNetSearch
    from adanet_spark.execution.factory import make_executor
    executor = make_executor(cfg, spark)  # as the tune/nightly jobs get it (straggler dropping on)
    try:
        t0 = time.perf_counter()
        search = AdaNetSearch(data.table.spec, **cfg.adanet.search_params(), executor=executor, seed=cfg.run.seed)
        search.fit(data.refs["train"], data.refs["valid"])
        train_s = time.perf_counter() - t0
    finally:
        executor.close()
    candidates = [r for r in search.reports_ if r.kind == "candidate"]
    valid = [h["valid_auc"] for h in search.history_ if not math.isnan(h["valid_auc"])]
    arch = "+".join(f"d{s.depth}w{s.width}" for s in search.ensemble_.architecture.subnetworks)
    detail = {"subnetworks": len(search.ensemble_), "iterations": search.iterations_,
              "dropped_stragglers": sum(r.status == "dropped_straggler" for r in candidates),
              "first": first_subnetwork(candidates)}
    notes = f"{len(search.ensemble_)} subnetworks ({arch}), {search.iterations_} iterations"
    log.info("adanet: %s, %.1f s", notes, train_s)
    return Selected("adanet", train_s, valid[-1] if valid else math.nan, len(candidates), notes,
                    ensemble_scorer(search.ensemble_, f"{cfg.run.id}/adanet"), detail)


def first_subnetwork(candidates: list) -> Any:
    """The ensemble of the first iteration's selected subnetwork alone (None if none was)."""
    from adanet_spark.adanet.ensemble import replay
    chosen = sorted((r for r in candidates if r.selected), key=lambda r: r.iteration)
    return replay(chosen[:1]) if chosen else None


def adanet_extras(spark: Any, chosen: Selected, table: Any, name: str) -> dict:
    """After selection: subnetworks kept, stragglers dropped, the first subnetwork's test AUC."""
    d = chosen.detail
    first_auc = math.nan
    if d["first"] is not None:
        first_auc = ensemble_scorer(d["first"], f"{name}/first-subnetwork")(spark, table, "test")[0]
    return {"subnetworks": d["subnetworks"], "iterations": d["iterations"],
            "dropped_stragglers": d["dropped_stragglers"], "first_subnetwork_test_auc": first_auc}


# -- the single-machine reference ---------------------------------------------------------
def hgb_arrays(split: Any) -> tuple:
    """(x, y) of a split: numeric features, then the categorical indices as they are stored."""
    import numpy as np
    d = split.load()
    cat = d.categorical.numpy()
    x = np.concatenate([d.numeric.numpy().astype(np.float64), cat.astype(np.float64)], axis=1)
    return x, d.label.numpy()


def hgb_mask(spec: Any) -> list[bool]:
    """Which columns are categorical to the estimator: those of at most 255 levels; wider
    ones go in as ordinal codes (the frequency rank the feature table stores), none folded."""
    return [False] * len(spec.numeric) + [c <= HGB_MAX_CATEGORIES for c in spec.cardinalities]


def select_hgb(data: SelectionData, seed: int, grid: Optional[dict] = None) -> Selected:
    """HistGradientBoosting on the driver: every pair of ``grid`` (default HGB_GRID),
    early-stopped on valid, the best on valid kept."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from threadpoolctl import threadpool_limits
    from adanet_spark.adanet.metrics import roc_auc
    x_tr, y_tr = hgb_arrays(data.refs["train"])
    x_va, y_va = hgb_arrays(data.refs["valid"])
    mask = hgb_mask(data.table.spec)
    best, aucs = None, {}
    t0 = time.perf_counter()
    grid = grid or HGB_GRID
    for rate, leaves in itertools.product(grid["learning_rate"], grid["max_leaf_nodes"]):
        model = HistGradientBoostingClassifier(max_iter=1000, learning_rate=rate, max_leaf_nodes=leaves,
                                               early_stopping=True, n_iter_no_change=20, scoring="roc_auc",
                                               categorical_features=mask, random_state=seed)
        with threadpool_limits(HGB_THREADS):
            model.fit(x_tr, y_tr, X_val=x_va, y_val=y_va)
        key = f"lr{rate:g}-leaves{leaves}"
        aucs[key] = roc_auc(y_va, model.predict_proba(x_va)[:, 1])
        if best is None or aucs[key] > aucs[best[0]]:
            best = (key, model)
    train_s = time.perf_counter() - t0
    key, model = best
    wide = sum(not m for m in mask[len(data.table.spec.numeric):])
    notes = (f"{key} chosen on valid ({', '.join(f'{k}: {v:.4f}' for k, v in aucs.items())}), "
             f"{model.n_iter_} iterations, {HGB_THREADS} thread; {wide} categorical column(s) over "
             f"{HGB_MAX_CATEGORIES} levels as ordinal codes")

    def score(spark: Any, table: Any, split: str) -> tuple[float, int]:
        from adanet_spark.data.refs import split_refs
        x, y = hgb_arrays(split_refs(spark, table.name, table.spec)[split])
        return roc_auc(y, model.predict_proba(x)[:, 1]), len(y)
    return Selected(REFERENCE, train_s, aucs[key], len(aucs), notes, score, model)


# -- one seed ------------------------------------------------------------------------------
def run_seed(spark: Any, cfg: Any, table: Any, refs: dict, models: list[str],
             hgb_grid: Optional[dict] = None) -> dict[str, dict]:
    """Every model of ``models`` on one seed (``cfg.run.seed``): selected on the selection
    view and references, then scored once on ``table``'s test split."""
    from adanet_spark.baselines.runner import select_model
    from adanet_spark.execution.factory import make_executor
    data = selection_data(spark, table, refs)
    out: dict[str, dict] = {}
    executor = make_executor(cfg, spark, drop_stragglers=False, inject_faults=False)
    try:
        for model in models:
            if model == "adanet":
                chosen = select_adanet(spark, cfg, data)
            elif model == REFERENCE:
                chosen = select_hgb(data, cfg.run.seed, hgb_grid)
            else:
                chosen = select_model(model, spark, cfg, data.table, data.refs, executor, seed=cfg.run.seed)
            test_auc, eval_s, rows = chosen.test_auc(spark, table)  # the test split, once, after selection
            out[model] = {"train_s": chosen.train_seconds, "eval_s": eval_s, "valid_auc": chosen.valid_auc,
                          "test_auc": test_auc, "trials": chosen.trials, "test_rows": rows, "notes": chosen.notes}
            if model == "adanet":
                out[model].update(adanet_extras(spark, chosen, table, f"{cfg.run.id}/adanet"))
            log.info("%s seed %d: %s valid %.4f test %.4f, %.1f s, %d trials", cfg.dataset, cfg.run.seed, model,
                     chosen.valid_auc, test_auc, chosen.train_seconds, chosen.trials)
    finally:
        executor.close()
    return out
