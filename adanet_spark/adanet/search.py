"""AdaNetSearch: grow an ensemble one subnetwork per iteration (Cortes et al. 2017).

Each iteration the generator proposes candidates, the executor trains them
(anywhere: in process, Spark tasks, Horovod groups) and the candidate with the
lowest validation objective wins, if it beats the current ensemble, which always
competes ("AdaNet.HoldOut" selection). The search stops when no candidate lowers
the objective by ``min_improvement`` or after ``max_iterations``. The driver only
sees the numbers workers report, never the data.
"""
from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence

import numpy as np

from adanet_spark.adanet.architecture import CandidateSpec, InputSpec, build_subnetwork_arch
from adanet_spark.adanet.ensemble import Ensemble
from adanet_spark.adanet.generator import Generator, make_generator
from adanet_spark.adanet.reports import (CANDIDATE, ITERATION, PREVIOUS, InMemorySink, ReportRecord,
                                         ReportSink)
from adanet_spark.adanet.train import (CandidateResult, TrainBudget, adanet_train_fn, derive_seed,
                                       make_payload)
from adanet_spark.config import AdaNetConfig, validate_adanet
from adanet_spark.execution.base import COMPLETED, CandidateTask, Executor, TaskOutcome
from adanet_spark.execution.local import LocalExecutor

log = logging.getLogger(__name__)

IterationCallback = Callable[[int, Ensemble, Sequence[ReportRecord]], None]


@dataclass
class _Standing:
    """The incumbent ensemble and its metrics ({"loss", "auc", "objective"}; None if unknown)."""

    ensemble: Ensemble
    train: Optional[dict] = None
    valid: Optional[dict] = None

    @property
    def objective(self) -> float:
        return self.valid["objective"] if self.valid else math.nan


class AdaNetSearch:
    """scikit-learn style: configure in ``__init__``, ``fit`` returns self.

    Fitted attributes: ``ensemble_`` (the selected :class:`Ensemble`), ``reports_``
    (every :class:`ReportRecord`), ``iterations_`` (iterations run), ``objective_history_``
    and ``train_objective_history_`` (the incumbent's objectives after each iteration),
    ``history_`` (one summary dict per iteration), ``stopped_early_``.

    ``warm_start`` continues growing a saved ensemble; iteration numbers continue from
    ``start_iteration`` (default: its number of subnetworks), which with an ensemble
    saved by ``on_iteration_end`` also resumes an interrupted search.
    ``on_iteration_end(iteration, ensemble, records)`` runs after every iteration.
    ``prior_reports`` (the records of the interrupted run) are shown to the generator
    along with the new ones. ``config.warm_start`` is a URI the caller resolves to an
    Ensemble; this class only takes the loaded ensemble.
    """

    def __init__(self, config: AdaNetConfig, spec: Any, executor: Optional[Executor] = None,
                 sink: Optional[ReportSink] = None, seed: int = 0, warm_start: Optional[Ensemble] = None,
                 start_iteration: Optional[int] = None, on_iteration_end: Optional[IterationCallback] = None,
                 generator: Optional[Generator] = None, prior_reports: Sequence[ReportRecord] = ()):
        validate_adanet(config)
        self.config = config
        self.spec = spec
        self.executor = executor
        self.sink = sink if sink is not None else InMemorySink()
        self.seed = seed
        self.warm_start = warm_start
        self.start_iteration = start_iteration
        self.on_iteration_end = on_iteration_end
        self.prior_reports = list(prior_reports)
        self.inputs = InputSpec.from_feature_spec(spec, config.embedding_dim_cap)
        self.generator = generator or make_generator(config.generator, config, self.inputs)

    # -- public --------------------------------------------------------------------
    def fit(self, train: Any, valid: Any) -> "AdaNetSearch":
        """``train``/``valid``: TensorData or lazy split refs (loaded on the workers)."""
        self.reports_: list[ReportRecord] = []
        self.history_: list[dict] = []
        self.objective_history_: list[float] = []
        self.train_objective_history_: list[float] = []
        self.stopped_early_ = False
        standing = _Standing(self.warm_start if self.warm_start is not None else Ensemble())
        first = self.start_iteration if self.start_iteration is not None else len(standing.ensemble)
        total = self.config.max_iterations
        executor = self.executor or LocalExecutor()
        started = time.perf_counter()
        for n in range(total):
            standing, improved = self._iteration(first + n, n, total, standing, executor,
                                                 {"train": train, "valid": valid}, started)
            if not improved:
                self.stopped_early_ = n + 1 < total
                break
        self.ensemble_ = standing.ensemble
        self.iterations_ = len(self.history_)
        return self

    def predict_proba(self, data: Any) -> np.ndarray:
        return self.ensemble_.predict_proba(data)

    # -- one iteration -------------------------------------------------------------
    def _iteration(self, iteration: int, n: int, total: int, standing: _Standing, executor: Executor,
                   data: dict, started: float) -> tuple[_Standing, bool]:
        t0 = time.perf_counter()
        specs = self._propose(standing.ensemble, iteration)
        log.info("iteration %d/%d (#%d): training %d candidates: %s", n + 1, total, iteration,
                 len(specs), ", ".join(s.name for s in specs))
        tasks = self._tasks(specs, standing.ensemble, iteration)
        outcomes = []
        for outcome in executor.run(tasks, adanet_train_fn, data):
            outcomes.append(outcome)
            self._log_outcome(outcome, n, total)
        results = {o.task.name: _as_result(o.result) for o in outcomes
                   if o.status == COMPLETED and o.result is not None}
        standing = self._with_previous_metrics(standing, results)
        winner = self._select(results, standing)
        new = standing if winner is None else _Standing(
            results[winner].ensemble(), results[winner].train, results[winner].valid)
        records = self._records(iteration, specs, tasks, outcomes, results, standing, new, winner,
                                time.perf_counter() - t0)
        self._finish_iteration(iteration, n, total, standing, new, winner, records, started)
        return new, winner is not None

    def _propose(self, ensemble: Ensemble, iteration: int) -> list[CandidateSpec]:
        specs = self.generator.generate(ensemble.architecture, self.prior_reports + self.reports_, iteration)
        names = [s.name for s in specs]
        if not specs or len(set(names)) != len(names):
            raise ValueError(f"generator {type(self.generator).__name__} must propose at least one "
                             f"candidate with unique names, got {names}")
        return specs

    def _tasks(self, specs: Sequence[CandidateSpec], ensemble: Ensemble, iteration: int) -> list[CandidateTask]:
        budget = TrainBudget.from_config(self.config)
        return [CandidateTask(iteration, s.name,
                              make_payload(s, ensemble, budget, derive_seed(self.seed, iteration, s.name),
                                           iteration), cost=s.cost())
                for s in specs]

    def _with_previous_metrics(self, standing: _Standing, results: dict[str, CandidateResult]) -> _Standing:
        """Fill in the incumbent's metrics from the workers when the driver lacks them
        (iteration 0's bias-only ensemble, a warm start). Workers fit a bias-only
        ensemble's bias to the base rate, so take that bias too."""
        if standing.valid is not None or not results:
            return standing
        first = results[min(results)]
        ensemble = standing.ensemble
        if not len(ensemble):
            ensemble = Ensemble(bias=first.previous_bias)
        return _Standing(ensemble, first.previous_train, first.previous_valid)

    def _select(self, results: dict[str, CandidateResult], standing: _Standing) -> Optional[str]:
        """The best candidate by validation objective (name breaks ties, so arrival
        order never matters), or None when it does not beat the incumbent."""
        scored = sorted((r.valid["objective"], name) for name, r in results.items()
                        if not math.isnan(r.valid["objective"]))
        if not scored:
            return None
        best, name = scored[0]
        return name if best < standing.objective - self.config.min_improvement else None

    # -- reporting -----------------------------------------------------------------
    def _records(self, iteration: int, specs: Sequence[CandidateSpec], tasks: Sequence[CandidateTask],
                 outcomes: Sequence[TaskOutcome], results: dict[str, CandidateResult], standing: _Standing,
                 new: _Standing, winner: Optional[str], seconds: float) -> list[ReportRecord]:
        by_name = {s.name: s for s in specs}
        seeds = {t.name: t.payload["seed"] for t in tasks}
        budget = TrainBudget.from_config(self.config).to_dict()
        records = [self._candidate_record(o, by_name[o.task.name], standing.ensemble, results, winner,
                                          seeds[o.task.name], budget)
                   for o in outcomes]
        records.append(_ensemble_record(PREVIOUS, iteration, "previous", standing, winner is None, 0.0))
        records.append(_ensemble_record(ITERATION, iteration, winner or "previous", new, True, seconds))
        return records

    def _candidate_record(self, outcome: TaskOutcome, spec: CandidateSpec, previous: Ensemble,
                          results: dict[str, CandidateResult], winner: Optional[str], seed: int,
                          budget: dict) -> ReportRecord:
        arch = build_subnetwork_arch(spec, previous.architecture)
        hyper = {k: v for k, v in spec.to_dict().items() if k != "inputs"}
        hyper.update(budget, seed=seed)
        rec = ReportRecord(kind=CANDIDATE, iteration=outcome.task.iteration, candidate=spec.name,
                           status=outcome.status, selected=spec.name == winner,
                           architecture_json=arch.to_json(), hyperparameters_json=json.dumps(hyper, sort_keys=True),
                           n_subnetworks=len(previous) + 1, train_seconds=outcome.elapsed_s,
                           attempts=outcome.attempts, worker=str(outcome.worker), error=outcome.error, seed=seed)
        result = results.get(spec.name)
        if result is not None:
            _fill_metrics(rec, result.train, result.valid)
            rec.complexity = result.complexity
            if rec.selected:
                rec.weights = result.ensemble().last_step_bytes()
        return rec

    def _log_outcome(self, o: TaskOutcome, n: int, total: int) -> None:
        if o.status != COMPLETED or o.result is None:
            log.warning("iteration %d/%d candidate %s: %s after %d attempt(s) on %s: %s", n + 1, total,
                        o.task.name, o.status, o.attempts, o.worker, o.error)
            return
        r = _as_result(o.result)
        log.info("iteration %d/%d candidate %s: valid loss %.4f auc %.4f objective %.4f | train loss %.4f "
                 "| %d epochs, %.1f s on %s", n + 1, total, o.task.name, r.valid["loss"], r.valid["auc"],
                 r.valid["objective"], r.train["loss"], r.epochs_run, o.elapsed_s, o.worker)

    def _finish_iteration(self, iteration: int, n: int, total: int, before: _Standing, after: _Standing,
                          winner: Optional[str], records: list[ReportRecord], started: float) -> None:
        self.sink.write(records)
        self.reports_.extend(records)
        self.objective_history_.append(after.objective)
        self.train_objective_history_.append(after.train["objective"] if after.train else math.nan)
        self.history_.append({"iteration": iteration, "selected": winner or "previous",
                              "n_subnetworks": len(after.ensemble), "valid_objective": after.objective,
                              "valid_auc": after.valid["auc"] if after.valid else math.nan})
        elapsed = time.perf_counter() - started
        eta = elapsed / (n + 1) * (total - n - 1) if winner else 0.0
        log.info("iteration %d/%d (#%d): %s; valid objective %.4f -> %.4f; %d subnetworks; "
                 "elapsed %.1f s, ETA %.1f s", n + 1, total, iteration,
                 f"selected {winner}" if winner else "no candidate improved, stopping",
                 before.objective, after.objective, len(after.ensemble), elapsed, eta)
        if self.on_iteration_end is not None:
            self.on_iteration_end(iteration, after.ensemble, records)


def _as_result(result: Any) -> CandidateResult:
    return result if isinstance(result, CandidateResult) else CandidateResult.from_dict(result)


def _fill_metrics(rec: ReportRecord, train: Optional[dict], valid: Optional[dict]) -> None:
    if train:
        rec.train_loss, rec.train_auc, rec.train_objective = train["loss"], train["auc"], train["objective"]
    if valid:
        rec.valid_loss, rec.valid_auc, rec.valid_objective = valid["loss"], valid["auc"], valid["objective"]


def _ensemble_record(kind: str, iteration: int, name: str, standing: _Standing, selected: bool,
                     seconds: float) -> ReportRecord:
    rec = ReportRecord(kind=kind, iteration=iteration, candidate=name,
                       status=COMPLETED if standing.valid else "unknown", selected=selected,
                       architecture_json=standing.ensemble.architecture.to_json(),
                       n_subnetworks=len(standing.ensemble), train_seconds=seconds)
    _fill_metrics(rec, standing.train, standing.valid)
    return rec
