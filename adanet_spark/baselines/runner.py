"""Run the configured baselines on a feature table and report them in ``auc_reports``.

``run_baselines(spark, cfg, table)`` trains every model of ``baselines.models``
on the table's train split (the neural ones early-stopped and, for the
searches, selected on its valid split) and scores each on its test split: the
same table, splits and test rows as AdaNet. It returns one dict per model with
the columns of ``auc_reports`` (model, train_seconds, eval_seconds, valid_auc,
test_auc, trials, notes) and writes them through the results layer's
:class:`~adanet_spark.results.writer.ResultsWriter` (one commit; a rerun of the
run_id replaces these models' rows).

Each model first selects (:func:`select_model`: train on train, every setting chosen
on valid, the test split unread; :mod:`.selection`), then scores the test split
once. Test AUCs are computed the way ``pipeline.tune.finalise`` computes AdaNet's
(executors score, Spark computes the exact AUC; :mod:`adanet_spark.baselines.auc`).
``train_seconds`` is the wall time of the whole tuning (every trial of a
search, as the driver saw it, parallel trials overlapping); ``eval_seconds`` is
scoring the test split with the chosen model.

A model that fails is logged and reported with null AUCs and the error in
``notes``, so one broken baseline never costs the others (or the nightly
run); :func:`failed_models` lists them.
"""
from __future__ import annotations

import logging
import math
import time
from typing import Any, Mapping, Optional, Sequence

from pyspark.sql import SparkSession

from adanet_spark.adanet.protocol import Executor
from adanet_spark.baselines.logistic_regression import select_logistic_regression
from adanet_spark.baselines.nets import NET_MODELS, tune_net_baseline
from adanet_spark.baselines.selection import Selected, selection_refs
from adanet_spark.baselines.tpe import MODEL as TPE, tune_tpe
from adanet_spark.baselines.xgboost_spark import select_xgboost
from adanet_spark.config import JobConfig
from adanet_spark.data.feature_table import FeatureTable, open_table
from adanet_spark.data.refs import split_refs
from adanet_spark.execution.factory import make_executor
from adanet_spark.results.writer import AucReport, ResultsWriter

log = logging.getLogger(__name__)

AUC_COLUMNS = ("model", "train_seconds", "eval_seconds", "valid_auc", "test_auc", "trials", "notes")


def report_row(model: str, train_seconds: float, eval_seconds: float, valid_auc: float, test_auc: float,
               trials: int, notes: str) -> dict:
    return {"model": model, "train_seconds": float(train_seconds), "eval_seconds": float(eval_seconds),
            "valid_auc": float(valid_auc), "test_auc": float(test_auc), "trials": int(trials), "notes": notes}


SEARCHED_NETS = (*NET_MODELS, TPE)  # trained by the executor


def select_model(model: str, spark: SparkSession, cfg: JobConfig, table: FeatureTable,
                 refs: Optional[Mapping[str, Any]], executor: Optional[Executor],
                 seed: Optional[int] = None) -> Selected:
    """One baseline trained and its settings chosen on ``table``'s train and valid splits
    (``refs``: their references; a ``test`` entry is ignored). Nothing here reads test."""
    if model == "logistic_regression":
        res = select_logistic_regression(spark, cfg, table.name, table.spec)
        return Selected(model, res.train_seconds, res.valid_auc, res.trials, res.notes(cfg), res.score, res)
    if model == "xgboost":
        res = select_xgboost(spark, cfg, table.name, table.spec, seed)
        return Selected(model, res.train_seconds, res.valid_auc, res.trials, res.notes(cfg), res.score, res)
    if model in SEARCHED_NETS:
        refs = selection_refs(refs)
        res = (tune_tpe(cfg, table.spec, refs, executor, seed) if model == TPE
               else tune_net_baseline(model, cfg, table.spec, refs, executor, seed))
        backend = f"{cfg.training.backend} {cfg.training.mode}, {cfg.training.workers} workers"
        return Selected(model, res.train_seconds, res.valid_auc, len(res.completed),
                        f"{res.notes()}; backend {backend}", res.score, res)
    raise ValueError(f"unknown baseline model {model!r}")


def run_model(model: str, spark: SparkSession, cfg: JobConfig, table: FeatureTable,
              refs: Optional[Mapping[str, Any]], executor: Optional[Executor]) -> tuple[dict, Any]:
    """One baseline: selected on train/valid, then scored on test once:
    ``(auc_reports row, the model's detailed result)``."""
    chosen = select_model(model, spark, cfg, table, refs, executor)
    test_auc, eval_s, _ = chosen.test_auc(spark, table)
    log.info("%s: valid auc %.4f, test auc %.4f; selection %.1f s, scoring %.1f s", model, chosen.valid_auc,
             test_auc, chosen.train_seconds, eval_s)
    return report_row(model, chosen.train_seconds, eval_s, chosen.valid_auc, test_auc, chosen.trials,
                      chosen.notes), chosen.detail


def run_baselines(spark: SparkSession, cfg: JobConfig, table: Optional[FeatureTable] = None,
                  writer: Optional[ResultsWriter] = None, *, models: Optional[Sequence[str]] = None,
                  executor: Optional[Executor] = None, refs: Optional[Mapping[str, Any]] = None,
                  write: bool = True, details: Optional[dict] = None) -> list[dict]:
    """Run ``models`` (default ``cfg.baselines.models``); returns the ``auc_reports`` rows.

    ``table``: the feature table (default: ``open_table(spark, cfg)``); ``writer``: the
    run's :class:`~adanet_spark.results.writer.ResultsWriter` (default: a new one for
    ``cfg``, the nightly pipeline passes its own); ``refs``: the table's
    split references (default: ``split_refs`` of the table's current snapshot);
    ``executor``: where the neural baselines train (default: the job's backend with
    straggler dropping off, closed here; one passed in is left open). ``write``: also
    write the rows to ``auc_reports`` (``output.database``). ``details``, if given, receives each
    model's full result (trials, chosen configuration) by model name.
    """
    models = list(cfg.baselines.models if models is None else models)
    table = table or open_table(spark, cfg)
    own_executor = None
    if any(m in SEARCHED_NETS for m in models):
        if refs is None:
            refs = split_refs(spark, table.name, table.spec, cache_max_bytes=cfg.training.cache_budget())
        if executor is None:
            # No straggler dropping: a search's budget is its trials, and dropping the slow
            # ones (deep nets, small batches) would bias which configurations it sees.
            # Failed trials are still retried straggler.max_retries times; testing.faults
            # target AdaNet's candidates, so they stay out.
            executor = own_executor = make_executor(cfg, spark, drop_stragglers=False, inject_faults=False)
    rows = []
    try:
        for model in models:
            t0 = time.perf_counter()
            try:
                row, res = run_model(model, spark, cfg, table, refs, executor)
            except Exception as exc:
                log.exception("baseline %s failed", model)
                row = report_row(model, time.perf_counter() - t0, math.nan, math.nan, math.nan, 0,
                                 f"failed: {type(exc).__name__}: {str(exc).strip()[:1000]}")
                res = exc
            rows.append(row)
            if details is not None:
                details[model] = res
    finally:
        if own_executor is not None:
            own_executor.close()
    if write and rows:
        write_rows(spark, cfg, rows, writer)
    return rows


def failed_models(rows: Sequence[dict]) -> list[str]:
    return [r["model"] for r in rows if str(r.get("notes") or "").startswith("failed:")]


def write_rows(spark: SparkSession, cfg: JobConfig, rows: Sequence[dict],
               writer: Optional[ResultsWriter] = None) -> None:
    """Replace this run's rows of these models in ``auc_reports`` (the results layer's writer)."""
    writer = writer if writer is not None else ResultsWriter(spark, cfg, "baselines")
    writer.write_auc_reports([AucReport(**{k: r[k] for k in AUC_COLUMNS}) for r in rows])
    log.info("wrote %d auc_reports row(s) for run %s to %s.auc_reports", len(rows), cfg.run.id,
             cfg.output.database)


def format_rows(rows: Sequence[dict]) -> str:
    """The rows as a small fixed-width table (for job output)."""
    lines = [f"{'model':<20}{'train s':>10}{'eval s':>9}{'valid AUC':>11}{'test AUC':>10}{'trials':>8}"]
    for r in rows:
        lines.append(f"{r['model']:<20}{r['train_seconds']:>10.1f}{r['eval_seconds']:>9.1f}"
                     f"{r['valid_auc']:>11.4f}{r['test_auc']:>10.4f}{r['trials']:>8d}")
    return "\n".join(lines)
