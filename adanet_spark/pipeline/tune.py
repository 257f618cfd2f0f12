"""tune: the AdaNet search of one run -> ``candidates``, ``ensembles`` and the adanet
``auc_reports`` row, resumable after any committed iteration (:mod:`.resume`).

The final ensemble is scored on the test split by executors (the scoring UDF) and
its AUC computed by Spark, so the driver never loads training data.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping, Optional, Sequence

from pyspark.sql import SparkSession

from adanet_spark.adanet.protocol import COMPLETED, CandidateTask, Executor, TaskOutcome, TrainFn
from adanet_spark.adanet.reports import CANDIDATE, ITERATION
from adanet_spark.adanet.search import AdaNetSearch
from adanet_spark.config import JobConfig
from adanet_spark.data import feature_table
from adanet_spark.data.feature_table import FeatureTable, split_frame
from adanet_spark.data.refs import split_refs
from adanet_spark.data.spec import LABEL
from adanet_spark.execution.factory import make_executor
from adanet_spark.execution.slots import check_local_slots
from adanet_spark.pipeline.resume import ResumePlan, fitting_model, plan
from adanet_spark.results import models
from adanet_spark.results.evaluate import spark_auc
from adanet_spark.results.report import fmt_number, write_report
from adanet_spark.results.rows import candidate_row, ensemble_row
from adanet_spark.results.writer import ResultsWriter, check_run_free
from adanet_spark.scoring.spark import score_features

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


class _TimingExecutor(Executor):
    """Passes outcomes through, keeping each candidate's worker timings: the search's
    records carry no timings, and the candidates rows want eval_seconds."""

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


class IterationSaver:
    """The search's ``on_iteration_end``: save the ensemble under a model URI, then
    commit the iteration's candidates rows and, last, its ensembles row (the marker
    that the iteration is complete). An iteration that selected no candidate keeps
    the previous model URI: its ensemble did not change."""

    def __init__(self, spark: SparkSession, cfg: JobConfig, writer: ResultsWriter, spec: Any,
                 timings: Mapping[tuple, dict], last_uri: Optional[str], label: str):
        self.spark, self.cfg, self.writer, self.spec = spark, cfg, writer, spec
        self.timings = timings
        self.last_uri = last_uri
        self.label = label
        self.trained: list[int] = []

    def __call__(self, iteration: int, ensemble: Any, records: Sequence[Any]) -> None:
        cfg, writer = self.cfg, self.writer
        self.spark.sparkContext.setJobDescription(f"{self.label}: save iteration {iteration}")
        it = next(r for r in records if r.kind == ITERATION)
        winner = it.candidate
        if winner != "previous" or self.last_uri is None:
            uri = models.model_uri(cfg.output.warehouse, cfg.output.database, cfg.dataset, writer.run_id,
                                   iteration)
            self.last_uri = models.save_model(self.spark, uri, ensemble, self.spec, run_id=writer.run_id,
                                              iteration=iteration, dataset=cfg.dataset)
        cands = [candidate_row(r, self.timings.get((iteration, r.candidate), {}))
                 for r in records if r.kind == CANDIDATE]
        writer.write_iteration(iteration, cands, ensemble_row(it, ensemble, winner, self.last_uri))
        self.trained.append(iteration)
        log.info("%s: iteration #%d saved (%s) at %s", self.label, iteration, winner, self.last_uri)
        for hook in list(after_iteration_hooks):
            hook(writer.run_id, iteration)


def check_slots(sc: Any, cfg: JobConfig) -> None:
    """Horovod workers hold their task slots for the whole search, and each iteration's
    results are written by Spark jobs in between: on a local master they must leave
    one slot over, or the first write waits forever."""
    if cfg.training.backend == "horovod":
        check_local_slots(sc, cfg.training.workers, reserve=1)


def tune(spark: SparkSession, cfg: JobConfig, table: FeatureTable, writer: ResultsWriter,
         fresh: bool = False) -> TuneOutcome:
    """AdaNet search on ``table``; writes candidates, ensembles and the adanet auc_reports row."""
    sc = spark.sparkContext
    label = f"tune {cfg.dataset} run {writer.run_id}"
    sc.setJobDescription(f"{label}: plan (resume / warm start)")
    resume = plan(spark, cfg, writer, table.spec, fresh)
    trained = [] if resume.done else search(spark, cfg, table, writer, resume, label)
    return finalise(spark, cfg, table, writer, trained, resume.resumed_at)


def search(spark: SparkSession, cfg: JobConfig, table: FeatureTable, writer: ResultsWriter,
           resume: ResumePlan, label: str) -> list[int]:
    """Run the search's remaining iterations; returns the iterations this attempt committed."""
    sc = spark.sparkContext
    sc.setJobDescription(f"{label}: list the feature table's files")
    refs = split_refs(spark, table.name, table.spec, cache_max_bytes=cfg.training.cache_budget())
    executor = _TimingExecutor(make_executor(cfg, spark))
    saver = IterationSaver(spark, cfg, writer, table.spec, executor.timings, resume.last_uri, label)
    params = cfg.adanet.model_copy(update={"max_iterations": resume.remaining}).search_params()
    adanet = AdaNetSearch(table.spec, **params, executor=executor, seed=cfg.run.seed,
                          warm_start=resume.warm_start, start_iteration=resume.start_iteration,
                          on_iteration_end=saver, prior_reports=resume.history)
    log.info("%s: AdaNet search, up to %d iteration(s), backend %s", label, resume.remaining,
             cfg.training.backend)
    try:
        sc.setJobDescription(f"{label}: AdaNet search")
        adanet.fit(refs["train"], refs["valid"])
    finally:
        executor.close()
    return saver.trained


def finalise(spark: SparkSession, cfg: JobConfig, table: FeatureTable, writer: ResultsWriter,
             trained: Sequence[int] = (), resumed_at: Optional[int] = None) -> TuneOutcome:
    """Score the final ensemble on the test split (executors), mark it final, write the adanet row."""
    sc = spark.sparkContext
    rows = writer.ensemble_rows()
    if not rows:
        raise RuntimeError(f"run {writer.run_id}: the search completed no iteration")
    final = rows[-1]
    if final["n_subnetworks"] == 0:
        errors = [c["error"] for c in writer.candidate_rows() if c["status"] != COMPLETED]
        raise RuntimeError(f"run {writer.run_id}: no candidate could be trained, the ensemble is empty"
                           + (f" (first error: {errors[0]})" if errors else ""))
    saved = models.load_model(spark, final["model_uri"])
    sc.setJobDescription(f"tune {cfg.dataset} run {writer.run_id}: test AUC of the final ensemble")
    t0 = time.perf_counter()
    test_auc, n_pos, n_neg = split_auc(spark, saved, table.name, "test")
    eval_seconds = time.perf_counter() - t0
    log.info("final ensemble (iteration #%d, %d subnetworks): valid AUC %s, test AUC %s on %d rows (%.1f s)",
             final["iteration"], final["n_subnetworks"], fmt_number(final["valid_auc"]), fmt_number(test_auc),
             n_pos + n_neg, eval_seconds)
    writer.mark_final(final["iteration"], test_auc)
    train_seconds = float(sum(r["train_seconds"] or 0.0 for r in rows))
    writer.write_auc_report("adanet", train_seconds=train_seconds, eval_seconds=eval_seconds,
                            valid_auc=final["valid_auc"], test_auc=test_auc, trials=len(writer.candidate_rows()),
                            notes=f"{final['n_subnetworks']} subnetworks after {len(rows)} iteration(s); "
                                  f"backend {cfg.training.backend}; model {final['model_uri']}")
    sc.setJobDescription(None)
    return TuneOutcome(writer.run_id, final["iteration"], final["model_uri"], final["n_subnetworks"],
                       final["valid_auc"], test_auc, train_seconds, eval_seconds, list(trained), resumed_at)


def split_auc(spark: SparkSession, saved: models.SavedModel, table_name: str,
              split: str = "test") -> tuple[float, int, int]:
    """``(auc, positives, negatives)`` of a saved model on a split of the feature table:
    executors score it (the scoring UDF), Spark computes the AUC."""
    scored = score_features(spark, saved, split_frame(spark, table_name, split), keep=(LABEL,))
    return spark_auc(scored, LABEL, "probability")


def check_start(spark: SparkSession, cfg: JobConfig, spec: Any) -> None:
    """What must hold before a run starts, with nothing written yet (bad input exits 2 with
    no row): the Horovod slots, and an explicit warm-start model that fits the features."""
    check_slots(spark.sparkContext, cfg)
    if cfg.adanet.warm_start and cfg.adanet.warm_start != "latest":
        fitting_model(spark, cfg, spec)


def run_tune(spark: SparkSession, cfg: JobConfig, fresh: bool = False) -> TuneOutcome:
    """jobs/tune.py: the AdaNet search on the existing feature table, as one run."""
    check_run_free(spark, cfg)
    table = feature_table.open_table(spark, cfg)
    check_start(spark, cfg, table.spec)
    writer = ResultsWriter(spark, cfg, job="tune")
    with writer.run():
        outcome = tune(spark, cfg, table, writer, fresh=fresh)
        write_report(spark, cfg, writer)
    return outcome
