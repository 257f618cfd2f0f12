"""The jobs' logic: tune (AdaNet search -> result tables) and nightly (prepare -> tune ->
baselines -> report), with one run_id across all steps.

Exactly once and resume (see also :mod:`adanet_spark.results.writer`):

* each AdaNet iteration ends by saving its ensemble under a model URI, then
  replacing the iteration's ``candidates`` rows, then its ``ensembles`` row (the
  marker that the iteration is complete);
* a rerun with the same run_id reads the run's ``ensembles`` rows back, loads the
  last one's model, and continues the search at the next iteration with the
  remaining iteration budget (``start_iteration`` + ``warm_start`` of
  :class:`AdaNetSearch`); rows a crashed attempt left beyond that point are
  deleted first. A run whose search already ended (budget used, or its last
  iteration selected no candidate) is only finalised again. ``fresh=True``
  (``--fresh`` on the jobs) discards the run's earlier progress instead;
* the final ensemble is scored on the test split by executors (the scoring UDF)
  and the AUC computed by Spark, so the driver never loads training data.

The driver never reads the feature table's rows: training gets lazy split
references (file lists) and loads them on the workers, except with
``training.backend: local``, whose worker is the driver process by definition.
"""
from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping, Optional, Sequence

from pyspark.sql import SparkSession, functions as F

from adanet_spark import report as report_mod
from adanet_spark.config import JobConfig
from adanet_spark.data import feature_table
from adanet_spark.data.feature_table import FeatureTable
from adanet_spark.data.refs import split_refs
from adanet_spark.data.spec import LABEL, SPLIT
from adanet_spark.errors import BadInputError
from adanet_spark.execution.base import COMPLETED, CandidateTask, Executor, TaskOutcome, TrainFn
from adanet_spark.execution.factory import make_executor
from adanet_spark.results import models, tables
from adanet_spark.results.evaluate import spark_auc
from adanet_spark.results.writer import ResultsWriter

log = logging.getLogger(__name__)

#: Test hooks: ``fn(run_id, iteration)`` after an iteration's rows are committed.
#: Tests raise from one to simulate a crash between iterations. Empty in production.
after_iteration_hooks: list[Callable[[str, int], None]] = []


@dataclass
class TuneOutcome:
    run_id: str
    final_iteration: int
    model_uri: str
    n_subnetworks: int
    valid_auc: Optional[float]
    test_auc: Optional[float]
    train_seconds: float
    eval_seconds: float
    iterations_trained: list = field(default_factory=list)  # by this attempt
    resumed_at: Optional[int] = None  # first iteration this attempt trained, when it resumed


# -- executors ----------------------------------------------------------------------
class _TimingExecutor(Executor):
    """Passes outcomes through, keeping each candidate's worker timings (for eval_seconds)."""

    def __init__(self, inner: Executor):
        self.inner = inner
        self.timings: dict = {}

    def run(self, tasks: Sequence[CandidateTask], train_fn: TrainFn,
            data: Mapping[str, Any]) -> Iterator[TaskOutcome]:
        for outcome in self.inner.run(tasks, train_fn, data):
            if outcome.status == COMPLETED and outcome.result is not None:
                r = outcome.result
                timings = r.get("timings") if isinstance(r, dict) else getattr(r, "timings", None)
                self.timings[(outcome.task.iteration, outcome.task.name)] = dict(timings or {})
            yield outcome

    def close(self) -> None:
        self.inner.close()


# -- resume and warm start ----------------------------------------------------------
@dataclass
class _Plan:
    warm_start: Any = None  # Ensemble to grow, or None
    start_iteration: Optional[int] = None
    remaining: int = 0
    done: bool = False
    last_uri: Optional[str] = None
    resumed_at: Optional[int] = None


def _plan(spark: SparkSession, cfg: JobConfig, writer: ResultsWriter, spec, fresh: bool) -> _Plan:
    budget = cfg.adanet.max_iterations
    if fresh:
        writer.clear_auc_reports()
    rows = [] if fresh else writer.ensemble_rows()
    if rows:
        last = rows[-1]
        saved = None
        try:
            saved = models.load_model(spark, last["model_uri"])
        except BadInputError as exc:
            log.warning("run %s: cannot resume, the model of iteration %d is unreadable (%s); starting over",
                        writer.run_id, last["iteration"], exc)
        if saved is not None and not models.same_transformation(saved.spec, spec):
            log.warning("run %s: the feature table changed since iteration %d was saved; starting over",
                        writer.run_id, last["iteration"])
            saved = None
        if saved is not None:
            done = len(rows)
            writer.clear_iterations(last["iteration"] + 1)  # what a crashed attempt left beyond
            finished = last["selected_candidate"] == "previous" or done >= budget
            log.info("run %s: %d iteration(s) already complete (last #%d, %d subnetworks, valid AUC %s); %s",
                     writer.run_id, done, last["iteration"], last["n_subnetworks"], _fmt(last["valid_auc"]),
                     "search already finished: finalising" if finished
                     else f"resuming at iteration #{last['iteration'] + 1}")
            return _Plan(saved.ensemble(), last["iteration"] + 1, budget - done, finished, last["model_uri"],
                         None if finished else last["iteration"] + 1)
    writer.clear_iterations(None)
    return _Plan(warm_start=_warm_start(spark, cfg, writer, spec), remaining=budget)


def _warm_start(spark: SparkSession, cfg: JobConfig, writer: ResultsWriter, spec):
    choice = cfg.adanet.warm_start
    if not choice:
        return None
    if choice == "latest":
        uri = latest_final_model(spark, cfg, exclude_run=writer.run_id)
        if uri is None:
            log.info("adanet.warm_start=latest: no earlier successful run of dataset %s; starting from scratch",
                     cfg.dataset)
            return None
        saved = models.load_model(spark, uri)
        if not models.same_transformation(saved.spec, spec):
            log.warning("adanet.warm_start=latest: %s was trained on other features (the feature table was "
                        "rebuilt with different statistics or levels); starting from scratch", uri)
            return None
    else:
        saved = models.load_model(spark, choice)
        if not models.same_transformation(saved.spec, spec):
            raise BadInputError(f"adanet.warm_start model '{choice}' was trained on other features than "
                                f"the feature table of dataset '{cfg.dataset}'")
    ensemble = saved.ensemble()
    log.info("warm start from %s (%d subnetworks)", saved.uri, len(ensemble))
    return ensemble


def latest_final_model(spark: SparkSession, cfg: JobConfig, exclude_run: Optional[str] = None,
                       run_id: Optional[str] = None) -> Optional[str]:
    """Model URI of the final ensemble of the latest succeeded run of ``cfg.dataset``
    (or of ``run_id``, succeeded or not, when given)."""
    from adanet_spark import catalog
    paths = {n: catalog.table_path(cfg.output.warehouse, cfg.output.database, n)
             for n in (tables.RUNS, tables.ENSEMBLES)}
    if not all(tables.is_delta_table(spark, p) for p in paths.values()):
        return None  # no run has written results yet (and looking must not create tables)
    runs = spark.read.format("delta").load(paths[tables.RUNS])
    ens = spark.read.format("delta").load(paths[tables.ENSEMBLES]).where("is_final")
    if run_id is not None:
        rows = ens.where(F.col("run_id") == run_id).select("model_uri").collect()
        return rows[0]["model_uri"] if rows else None
    runs = runs.where((F.col("status") == "succeeded") & (F.col("dataset") == cfg.dataset))
    if exclude_run is not None:
        runs = runs.where(F.col("run_id") != exclude_run)
    rows = (ens.join(runs.select("run_id", "finished_at"), "run_id")
               .orderBy(F.desc("finished_at")).select("model_uri").limit(1).collect())
    return rows[0]["model_uri"] if rows else None


# -- tune ---------------------------------------------------------------------------
def _check_slots(sc, cfg: JobConfig) -> None:
    """Horovod workers hold their task slots for the whole search, and each iteration's
    results are written by Spark jobs in between: on a local master they need a slot
    left over, or the first write waits forever."""
    t = cfg.training
    if t.backend == "horovod" and (sc.master or "").startswith("local") \
            and t.workers >= sc.defaultParallelism:
        raise BadInputError(
            f"config key 'training.workers' is {t.workers}, but Spark master {sc.master} has "
            f"{sc.defaultParallelism} task slots: the Horovod workers must leave one for the "
            f"driver's result writes (use local[{t.workers + 1}] or more, or fewer workers)")


def tune(spark: SparkSession, cfg: JobConfig, table: FeatureTable, writer: ResultsWriter,
         fresh: bool = False) -> TuneOutcome:
    """AdaNet search on ``table``; writes candidates, ensembles and the adanet auc_reports row."""
    from adanet_spark.adanet.reports import CANDIDATE, ITERATION
    from adanet_spark.adanet.search import AdaNetSearch

    sc = spark.sparkContext
    _check_slots(sc, cfg)
    label = f"tune {cfg.dataset} run {writer.run_id}"
    spec = table.spec
    sc.setJobDescription(f"{label}: plan (resume / warm start)")
    plan = _plan(spark, cfg, writer, spec, fresh)
    trained: list[int] = []
    last_uri = [plan.last_uri]
    if not plan.done:
        sc.setJobDescription(f"{label}: list the feature table's files")
        refs = split_refs(spark, table.name, spec)
        executor = _TimingExecutor(make_executor(cfg, spark))

        def on_iteration_end(iteration: int, ensemble, records) -> None:
            sc.setJobDescription(f"{label}: save iteration {iteration}")
            it = next(r for r in records if r.kind == ITERATION)
            winner = it.candidate
            if winner != "previous" or last_uri[0] is None:
                last_uri[0] = models.save_model(
                    spark, models.model_uri(cfg.output.warehouse, cfg.output.database, cfg.dataset,
                                            writer.run_id, iteration),
                    ensemble, spec, run_id=writer.run_id, iteration=iteration, dataset=cfg.dataset)
            cands = [_candidate_row(r, executor.timings.get((iteration, r.candidate), {}))
                     for r in records if r.kind == CANDIDATE]
            writer.write_iteration(iteration, cands, _ensemble_row(it, ensemble, winner, last_uri[0]))
            trained.append(iteration)
            log.info("%s: iteration #%d saved (%s) at %s", label, iteration, winner, last_uri[0])
            for hook in list(after_iteration_hooks):
                hook(writer.run_id, iteration)

        adanet_cfg = dataclasses.replace(cfg.adanet, max_iterations=plan.remaining)
        search = AdaNetSearch(adanet_cfg, spec, executor=executor, seed=cfg.run.seed,
                              warm_start=plan.warm_start, start_iteration=plan.start_iteration,
                              on_iteration_end=on_iteration_end)
        log.info("%s: AdaNet search, up to %d iteration(s), backend %s", label, plan.remaining,
                 cfg.training.backend)
        try:
            sc.setJobDescription(f"{label}: AdaNet search")
            search.fit(refs["train"], refs["valid"])
        finally:
            executor.close()
    return finalise(spark, cfg, table, writer, trained, plan.resumed_at)


def finalise(spark: SparkSession, cfg: JobConfig, table: FeatureTable, writer: ResultsWriter,
             trained: Sequence[int] = (), resumed_at: Optional[int] = None) -> TuneOutcome:
    """Score the final ensemble on the test split (executors), mark it final, write the adanet row."""
    sc = spark.sparkContext
    rows = writer.ensemble_rows()
    if not rows:
        raise RuntimeError(f"run {writer.run_id}: the search completed no iteration")
    final = rows[-1]
    if final["n_subnetworks"] == 0:
        errors = [c["error"] for c in writer.candidate_rows() if c["status"] != "completed"]
        raise RuntimeError(f"run {writer.run_id}: no candidate could be trained, the ensemble is empty"
                           + (f" (first error: {errors[0]})" if errors else ""))
    saved = models.load_model(spark, final["model_uri"])
    sc.setJobDescription(f"tune {cfg.dataset} run {writer.run_id}: test AUC of the final ensemble")
    t0 = time.perf_counter()
    test_auc, n_pos, n_neg = test_split_auc(spark, saved, table.name)
    eval_seconds = time.perf_counter() - t0
    log.info("final ensemble (iteration #%d, %d subnetworks): valid AUC %s, test AUC %s on %d rows (%.1f s)",
             final["iteration"], final["n_subnetworks"], _fmt(final["valid_auc"]), _fmt(test_auc),
             n_pos + n_neg, eval_seconds)
    writer.mark_final(final["iteration"], test_auc)
    train_seconds = float(sum(r["train_seconds"] or 0.0 for r in rows))
    n_candidates = len(writer.candidate_rows())
    writer.write_auc_report("adanet", train_seconds=train_seconds, eval_seconds=eval_seconds,
                            valid_auc=final["valid_auc"], test_auc=test_auc, trials=n_candidates,
                            notes=f"{final['n_subnetworks']} subnetworks after {len(rows)} iteration(s); "
                                  f"backend {cfg.training.backend}; model {final['model_uri']}")
    sc.setJobDescription(None)
    return TuneOutcome(writer.run_id, final["iteration"], final["model_uri"], final["n_subnetworks"],
                       final["valid_auc"], test_auc, train_seconds, eval_seconds, list(trained), resumed_at)


def test_split_auc(spark: SparkSession, saved, table_name: str) -> tuple[float, int, int]:
    """AUC of a saved model on the table's test split: scored by the UDF, AUC by Spark."""
    from udfs.score import score_features
    test = spark.table(table_name).where(F.col(SPLIT) == "test")
    scored = score_features(spark, saved, test, keep=(LABEL,))
    return spark_auc(scored, LABEL, "probability")


def _candidate_row(r, timings: dict) -> dict:
    total, loop = timings.get("total_s"), timings.get("loop_s")
    eval_s = max(0.0, total - loop) if total is not None and loop is not None else None
    return {"candidate": r.candidate, "architecture": r.architecture_json,
            "hyperparameters": r.hyperparameters_json, "status": r.status, "error": r.error,
            "attempts": int(r.attempts), "worker": r.worker, "train_seconds": _f(r.train_seconds),
            "eval_seconds": eval_s, "loss": _f(r.valid_loss), "valid_auc": _f(r.valid_auc),
            "train_auc": _f(r.train_auc), "complexity": _f(r.complexity), "objective": _f(r.valid_objective),
            "selected": bool(r.selected)}


def _ensemble_row(it, ensemble, winner: str, uri: str) -> dict:
    return {"selected_candidate": winner, "n_subnetworks": len(ensemble),
            "subnetworks": ensemble.architecture.to_json(),
            "mixture_weights": [float(w) for w in ensemble.mixture.detach().tolist()],
            "bias": float(ensemble.bias.detach()), "model_uri": uri,
            "valid_loss": _f(it.valid_loss), "valid_auc": _f(it.valid_auc),
            "valid_objective": _f(it.valid_objective), "test_auc": None,
            "num_parameters": models.num_parameters(ensemble), "train_seconds": _f(it.train_seconds),
            "is_final": False}


def _f(value: Any) -> Optional[float]:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def _fmt(value: Any) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.4f}"


# -- jobs ---------------------------------------------------------------------------
def run_tune(spark: SparkSession, cfg: JobConfig, fresh: bool = False) -> TuneOutcome:
    """jobs/tune.py: the AdaNet search on the existing feature table, as one run."""
    writer = ResultsWriter(spark, cfg, job="tune")
    with writer.run():
        table = feature_table.open_table(spark, cfg)
        outcome = tune(spark, cfg, table, writer, fresh=fresh)
        report_mod.write_report(spark, cfg, writer)
    return outcome


def run_nightly(spark: SparkSession, cfg: JobConfig, fresh: bool = False) -> TuneOutcome:
    """jobs/nightly.py: prepare features -> tune -> baselines -> report, one run_id."""
    writer = ResultsWriter(spark, cfg, job="nightly")
    with writer.run():
        table = prepare(spark, cfg, fresh)
        outcome = tune(spark, cfg, table, writer, fresh=fresh)
        run_baselines(spark, cfg, table, writer)
        report_mod.write_report(spark, cfg, writer)
    return outcome


def prepare(spark: SparkSession, cfg: JobConfig, fresh: bool = False) -> FeatureTable:
    """Build the feature table, unless this run already built it (a rerun resumes)."""
    if not fresh:
        try:
            existing = feature_table.open_table(spark, cfg)
        except BadInputError:
            existing = None
        if existing is not None and existing.spec.run_id == cfg.run.id:
            log.info("feature table %s was already built by run %s: reusing it", existing.name, cfg.run.id)
            return existing
    table = feature_table.build(spark, cfg)
    log.info("feature table %s: %s", table.name, ", ".join(f"{k} {v:,d}" for k, v in table.counts.items()))
    return table


BASELINES_MODULE = "adanet_spark.baselines.runner"


def run_baselines(spark: SparkSession, cfg: JobConfig, table: FeatureTable, writer: ResultsWriter) -> None:
    """``adanet_spark.baselines.runner.run_baselines(spark, cfg, table, writer)`` when it exists."""
    if not cfg.baselines.models:
        log.info("baselines: none configured (baselines.models is empty)")
        return
    try:
        found = importlib.util.find_spec(BASELINES_MODULE) is not None
    except ModuleNotFoundError:
        found = False
    if not found:
        log.info("baselines: %s is not available yet; skipping %s", BASELINES_MODULE,
                 ", ".join(cfg.baselines.models))
        return
    runner = importlib.import_module(BASELINES_MODULE)
    spark.sparkContext.setJobDescription(f"baselines {cfg.dataset} run {writer.run_id}")
    log.info("baselines: %s", ", ".join(cfg.baselines.models))
    runner.run_baselines(spark, cfg, table, writer)
    spark.sparkContext.setJobDescription(None)
