"""AdaNetSearch: grow an ensemble one subnetwork per iteration (Cortes et al. 2017).

Each iteration the :class:`Generator` proposes candidates, the executor trains
them (anywhere: in process, Spark tasks, Horovod groups), the :class:`Evaluator`
picks the candidate with the lowest validation objective if it beats the
incumbent, and the :class:`GrowStrategy` makes its grown ensemble the new
incumbent. The search stops when no candidate wins or after ``max_iterations``.
The driver only sees the numbers workers report, never the data.
"""
from __future__ import annotations

import logging
import math
import time
from typing import Any, Callable, Optional, Sequence

import numpy as np

from adanet_spark.adanet.architecture import CandidateSpec, InputSpec
from adanet_spark.adanet.ensemble import Ensemble
from adanet_spark.adanet.evaluator import Evaluator
from adanet_spark.adanet.generator import Generator, SearchSpace, make_generator
from adanet_spark.adanet.names import ACTIVATION_NAMES, COMPLEXITY_NAMES, ENCODING_NAMES
from adanet_spark.adanet.protocol import (COMPLETED, CandidateResult, CandidateTask, Executor,
                                          InProcessExecutor, TaskOutcome)
from adanet_spark.adanet.reports import InMemorySink, ReportMaterializer, ReportRecord, ReportSink
from adanet_spark.adanet.strategy import GrowStrategy, Standing
from adanet_spark.adanet.budget import TrainBudget
from adanet_spark.adanet.train import adanet_train_fn, derive_seed, make_payload

log = logging.getLogger(__name__)

IterationCallback = Callable[[int, Ensemble, Sequence[ReportRecord]], None]


class AdaNetSearch:
    """scikit-learn style: ``__init__`` stores the parameters, ``fit`` validates them and works.

    ``spec`` describes the inputs (a FeatureSpec, or anything with ``numeric_names`` and
    ``cardinalities``). ``space`` (a :class:`SearchSpace`) is what the generator may
    propose, ``budget`` (a :class:`TrainBudget`) how every candidate trains; ``search_patience``
    is how many iterations in a row may fail to improve before the search stops (the
    generator regularises more after a failed one).

    Fitted attributes: ``ensemble_`` (the selected :class:`Ensemble`), ``reports_``
    (every :class:`ReportRecord`), ``iterations_`` (iterations run), ``objective_history_``
    and ``train_objective_history_`` (the incumbent's objectives after each iteration),
    ``history_`` (one summary dict per iteration), ``stopped_early_``.

    ``warm_start`` continues growing a loaded ensemble; iteration numbers continue from
    ``start_iteration`` (default: its number of subnetworks), which with an ensemble
    saved by ``on_iteration_end`` also resumes an interrupted search.
    ``on_iteration_end(iteration, ensemble, records)`` runs after every iteration.
    ``prior_reports`` (the records of the interrupted run) are shown to the generator
    along with the new ones.
    """

    def __init__(self, spec: Any, *, space: Optional[SearchSpace] = None, budget: Optional[TrainBudget] = None,
                 max_iterations: int = 5, generator: Any = "adaptive", embedding_dim_cap: int = 16,
                 min_improvement: float = 5e-4, search_patience: int = 1, executor: Optional[Executor] = None,
                 sink: Optional[ReportSink] = None, seed: int = 0, warm_start: Optional[Ensemble] = None,
                 start_iteration: Optional[int] = None, on_iteration_end: Optional[IterationCallback] = None,
                 prior_reports: Sequence[ReportRecord] = ()):
        self.spec = spec
        self.space = space
        self.budget = budget
        self.max_iterations = max_iterations
        self.generator = generator
        self.embedding_dim_cap = embedding_dim_cap
        self.min_improvement = min_improvement
        self.search_patience = search_patience
        self.executor = executor
        self.sink = sink
        self.seed = seed
        self.warm_start = warm_start
        self.start_iteration = start_iteration
        self.on_iteration_end = on_iteration_end
        self.prior_reports = prior_reports

    # -- public --------------------------------------------------------------------
    def fit(self, train: Any, valid: Any) -> "AdaNetSearch":
        """``train``/``valid``: in-memory split data or lazy split references (loaded on the workers)."""
        self.space_ = self.space if self.space is not None else SearchSpace()
        self.budget_ = self.budget if self.budget is not None else TrainBudget()
        self._validate()
        self.inputs_ = InputSpec.from_feature_spec(self.spec, self.embedding_dim_cap)
        self.generator_: Generator = (self.generator if isinstance(self.generator, Generator)
                                      else make_generator(self.generator, self.space_, self.inputs_))
        self.sink_ = self.sink if self.sink is not None else InMemorySink()
        self.reports_: list[ReportRecord] = []
        self.history_: list[dict] = []
        self.objective_history_: list[float] = []
        self.train_objective_history_: list[float] = []
        self.stopped_early_ = False
        strategy = GrowStrategy()
        standing = strategy.initial(self.warm_start)
        first = self.start_iteration if self.start_iteration is not None else len(standing.ensemble)
        executor = self.executor or InProcessExecutor()
        started, failed = time.perf_counter(), 0
        for n in range(self.max_iterations):
            standing, improved = self._iteration(first + n, n, standing, strategy, executor,
                                                 {"train": train, "valid": valid}, started)
            failed = 0 if improved else failed + 1
            if failed > self.search_patience:
                self.stopped_early_ = n + 1 < self.max_iterations
                break
        self.ensemble_ = standing.ensemble
        self.iterations_ = len(self.history_)
        return self

    def predict_proba(self, data: Any) -> np.ndarray:
        return self.ensemble_.predict_proba(data)

    # -- one iteration -------------------------------------------------------------
    def _iteration(self, iteration: int, n: int, standing: Standing, strategy: GrowStrategy,
                   executor: Executor, data: dict, started: float) -> tuple[Standing, bool]:
        t0 = time.perf_counter()
        total = self.max_iterations
        specs = self._propose(standing.ensemble, iteration)
        log.info("iteration %d/%d (#%d): training %d candidates: %s", n + 1, total, iteration,
                 len(specs), ", ".join(s.name for s in specs))
        tasks = self._tasks(specs, standing.ensemble, iteration)
        outcomes = []
        for outcome in executor.run(tasks, adanet_train_fn, data):
            outcomes.append(outcome)
            _log_outcome(outcome, n, total)
        results = {o.task.name: CandidateResult.of(o.result) for o in outcomes
                   if o.status == COMPLETED and o.result is not None}
        standing = strategy.with_previous_metrics(standing, results)
        winner = Evaluator(self.min_improvement).select(results, standing)
        new = strategy.grow(standing, results, winner)
        records = ReportMaterializer(self.budget_.to_dict()).records(
            iteration, specs, tasks, outcomes, results, standing, new, winner, time.perf_counter() - t0)
        self._finish_iteration(iteration, n, standing, new, winner, records, started)
        return new, winner is not None

    def _propose(self, ensemble: Ensemble, iteration: int) -> list[CandidateSpec]:
        specs = self.generator_.generate(ensemble.architecture, list(self.prior_reports) + self.reports_,
                                         iteration)
        names = [s.name for s in specs]
        if not specs or len(set(names)) != len(names):
            raise ValueError(f"generator {type(self.generator_).__name__} must propose at least one "
                             f"candidate with unique names, got {names}")
        return specs

    def _tasks(self, specs: Sequence[CandidateSpec], ensemble: Ensemble, iteration: int) -> list[CandidateTask]:
        return [CandidateTask(iteration, s.name,
                              make_payload(s, ensemble, self.budget_, derive_seed(self.seed, iteration, s.name),
                                           iteration), cost=s.cost())
                for s in specs]

    def _finish_iteration(self, iteration: int, n: int, before: Standing, after: Standing,
                          winner: Optional[str], records: list[ReportRecord], started: float) -> None:
        self.sink_.write(records)
        self.reports_.extend(records)
        self.objective_history_.append(after.objective)
        self.train_objective_history_.append(after.train["objective"] if after.train else math.nan)
        self.history_.append({"iteration": iteration, "selected": winner or "previous",
                              "n_subnetworks": len(after.ensemble), "valid_objective": after.objective,
                              "valid_auc": after.valid["auc"] if after.valid else math.nan})
        total = self.max_iterations
        elapsed = time.perf_counter() - started
        eta = elapsed / (n + 1) * (total - n - 1)
        log.info("iteration %d/%d (#%d): %s; valid objective %.4f -> %.4f; %d subnetworks; "
                 "elapsed %.1f s, ETA at most %.1f s", n + 1, total, iteration,
                 f"selected {winner}" if winner else "no candidate improved",
                 before.objective, after.objective, len(after.ensemble), elapsed, eta)
        if self.on_iteration_end is not None:
            self.on_iteration_end(iteration, after.ensemble, records)

    # -- validation ----------------------------------------------------------------
    def _validate(self) -> None:
        sp, b = self.space_, self.budget_
        checks = [
            (self.max_iterations >= 1, "max_iterations", "must be at least 1"),
            (self.search_patience >= 0 and self.min_improvement >= 0, "search_patience/min_improvement",
             "must be >= 0"),
            (self.embedding_dim_cap >= 1, "embedding_dim_cap", "must be at least 1"),
            (len(sp.widths) > 0 and all(w >= 1 for w in sp.widths), "space.widths",
             "must be a non-empty list of positive integers"),
            (sp.max_depth >= 1 and sp.candidates_per_iteration >= 1, "space.max_depth/candidates_per_iteration",
             "must be at least 1"),
            (len(sp.learning_rates) > 0 and all(lr > 0 for lr in sp.learning_rates), "space.learning_rates",
             "must be a non-empty list of positive numbers"),
            (sp.activation in ACTIVATION_NAMES, "space.activation", f"must be one of {ACTIVATION_NAMES}"),
            (len(sp.encodings) > 0 and set(sp.encodings) <= set(ENCODING_NAMES), "space.encodings",
             f"must be a non-empty list of {ENCODING_NAMES}"),
            (0.0 <= sp.dropout < 1.0, "space.dropout", "must be in [0, 1)"),
            (b.lambda_ >= 0 and b.beta >= 0, "budget.lambda_/beta", "must be >= 0"),
            (b.complexity in COMPLEXITY_NAMES, "budget.complexity", f"must be one of {COMPLEXITY_NAMES}"),
            (b.batch_size >= 1 and b.epochs > 0 and 1 <= b.min_steps <= b.max_steps, "budget steps",
             "need batch_size >= 1, epochs > 0 and 1 <= min_steps <= max_steps"),
            (b.checks >= 1 and b.patience >= 0 and b.weight_decay >= 0, "budget.checks/patience/weight_decay",
             "must be >= 1 / >= 0 / >= 0"),
            (b.mixture_learning_rate > 0 and b.mixture_epochs >= 0, "budget.mixture_learning_rate/epochs",
             "must be > 0 / >= 0"),
            (b.check_rows >= 1 and b.refit_rows >= 1, "budget.check_rows/refit_rows", "must be at least 1"),
        ]
        for ok, name, what in checks:
            if not ok:
                raise ValueError(f"AdaNetSearch parameter {name} {what}")


def _log_outcome(o: TaskOutcome, n: int, total: int) -> None:
    if o.status != COMPLETED or o.result is None:
        log.warning("iteration %d/%d candidate %s: %s after %d attempt(s) on %s: %s", n + 1, total,
                    o.task.name, o.status, o.attempts, o.worker, o.error)
        return
    r = CandidateResult.of(o.result)
    log.info("iteration %d/%d candidate %s: valid loss %.4f auc %.4f objective %.4f | train loss %.4f "
             "| best at step %d of %d (%d run), %.1f s on %s", n + 1, total, o.task.name, r.valid["loss"],
             r.valid["auc"], r.valid["objective"], r.train["loss"], r.best_step, r.total_steps, r.steps_run,
             o.elapsed_s, o.worker)
