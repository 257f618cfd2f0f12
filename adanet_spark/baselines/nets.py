"""Neural baselines: ``manual_nn``, ``grid_search_nn`` and ``random_search_nn``.

Every trial is one feed-forward net trained by AdaNet's own trainer
(:func:`adanet_spark.adanet.train.adanet_train_fn`) as a one-subnetwork model
grown from an empty ensemble, with no complexity penalty (lambda = beta = 0), no
mixture refit and no connections: inputs (per-feature embeddings, capped by
``adanet.embedding_dim_cap``), activation, Adam, batching, seeding and early
stopping on the validation loss (``baselines.patience`` checks, best state restored)
are exactly those of AdaNet's candidates. Trials are :class:`CandidateTask`\\ s run
by an :class:`Executor` of ``adanet_spark.execution`` (the ``spark`` backend in
async mode trains them side by side on the executors' slots).

The best trial by validation AUC (ties: the earlier trial; the trainer's exact
AUC on the valid split) is used as is, with no refit on train + valid. Tuning
reads the train and valid references only; the chosen net is scored on the test
split afterwards (:meth:`NetBaselineResult.score`), exactly as the pipeline scores
AdaNet's final ensemble (:mod:`adanet_spark.baselines.auc`), so the driver never
loads a split. ``tpe_search_nn`` (:mod:`.tpe`) proposes its trials adaptively and
trains them with :func:`run_trials` too.
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field, replace
from typing import Any, Mapping, Optional, Sequence

from adanet_spark.adanet.architecture import CandidateSpec, InputSpec
from adanet_spark.adanet.ensemble import Ensemble
from adanet_spark.adanet.protocol import COMPLETED, CandidateResult, CandidateTask, Executor
from adanet_spark.adanet.budget import TrainBudget
from adanet_spark.adanet.train import adanet_train_fn, derive_seed, make_payload
from adanet_spark.baselines.auc import AUC_METHOD, ensemble_auc
from adanet_spark.baselines.search_space import NetParams, grid_trials, manual_trials, random_trials
from adanet_spark.config import JobConfig

log = logging.getLogger(__name__)

NET_MODELS = ("manual_nn", "grid_search_nn", "random_search_nn")


@dataclass
class Trial:
    name: str
    params: NetParams
    status: str
    valid_auc: float = math.nan
    valid_loss: float = math.nan
    epochs_run: float = 0.0  # passes over the train rows
    best_epoch: float = -1.0  # passes at the restored best check
    seconds: float = math.nan
    error: Optional[str] = None
    result: Optional[CandidateResult] = None

    def summary(self) -> dict:
        return {"name": self.name, **self.params.to_dict(), "status": self.status,
                "valid_auc": self.valid_auc, "valid_loss": self.valid_loss, "epochs_run": self.epochs_run,
                "best_epoch": self.best_epoch, "seconds": self.seconds, "error": self.error}


@dataclass
class NetBaselineResult:
    model: str
    train_seconds: float  # wall time of the whole tuning: every trial, as the driver saw it
    valid_auc: float
    trials: list[Trial] = field(default_factory=list)
    best: Optional[Trial] = None
    name: str = "baseline"  # names the chosen net in logs and errors when it is scored

    @property
    def completed(self) -> list[Trial]:
        return [t for t in self.trials if t.status == COMPLETED]

    def notes(self) -> str:
        failed = len(self.trials) - len(self.completed)
        parts = []
        if self.best is not None:
            parts.append(f"chosen {self.best.params.label()} (trial {self.best.name}, "
                         f"{self.best.epochs_run:.3g} epochs, best at {self.best.best_epoch:.3g})")
        parts.append(f"{len(self.completed)}/{len(self.trials)} trials completed"
                     + (f", {failed} failed or dropped" if failed else ""))
        parts.append(f"no refit on train+valid; test AUC: {AUC_METHOD}")
        return "; ".join(parts)

    def score(self, spark: Any, table: Any, split: str) -> tuple[float, int]:
        """Exact AUC and rows of ``split`` of ``table`` (a FeatureTable) with the chosen net."""
        spark.sparkContext.setJobDescription(f"baseline {self.model}: {split} AUC of {self.best.name}")
        auc, _, rows = ensemble_auc(spark, self.best.result.ensemble(), table.spec, table.name, split,
                                    name=self.name)
        spark.sparkContext.setJobDescription(None)
        return auc, rows


# -- building the trials ----------------------------------------------------------
def trials_for(model: str, cfg: JobConfig, seed: Optional[int] = None) -> list[NetParams]:
    """The nets ``model`` trains; ``seed`` (default ``baselines.seed``, else ``run.seed``)
    only matters to the random search."""
    b = cfg.baselines
    if model == "manual_nn":
        return manual_trials(b.manual)
    if model == "grid_search_nn":
        return grid_trials(b.grid)
    if model == "random_search_nn":
        if seed is None:
            seed = b.seed if b.seed is not None else cfg.run.seed
        return random_trials(b.search_space, b.random_trials, seed)
    raise ValueError(f"not a neural baseline: {model!r} (expected one of {', '.join(NET_MODELS)})")


def net_spec(name: str, params: NetParams, inputs: InputSpec, activation: str = "relu") -> CandidateSpec:
    return CandidateSpec(name=name, depth=params.depth, width=params.width,
                         learning_rate=params.learning_rate, inputs=inputs, kind="baseline",
                         activation=activation, dropout=params.dropout, batch_norm=False,
                         connections=False)


def net_budget(params: NetParams, cfg: JobConfig) -> TrainBudget:
    """AdaNet's training budget (``adanet.*``: steps, schedule, checks) for a plain net, with
    the trial's batch size and weight decay and ``baselines.epochs`` / ``patience`` where set:
    a lone subnetwork has no complexity to penalise (lambda = beta = 0) and no mixture to refit."""
    b = cfg.baselines
    adanet = cfg.adanet.search_params()["budget"]
    return replace(adanet, batch_size=params.batch_size, weight_decay=params.weight_decay,
                   epochs=adanet.epochs if b.epochs is None else b.epochs,
                   patience=adanet.patience if b.patience is None else b.patience,
                   lambda_=0.0, beta=0.0, refit_mixture_weights=False, mixture_epochs=0)


def net_tasks(model: str, trials: Sequence[NetParams], feature_spec: Any, cfg: JobConfig,
              seed: Optional[int] = None, first: int = 0) -> list[CandidateTask]:
    """One CandidateTask per trial, named ``<model>-<index>`` (from ``first``); weights and batch
    order are seeded from ``seed`` (default ``run.seed``) and the trial's name, like AdaNet's candidates."""
    seed = cfg.run.seed if seed is None else seed
    inputs = InputSpec.from_feature_spec(feature_spec, cfg.adanet.embedding_dim_cap)
    empty = Ensemble()
    tasks = []
    for i, params in enumerate(trials, start=first):
        name = f"{model}-{i:02d}"
        spec = net_spec(name, params, inputs, cfg.adanet.activation)
        payload = make_payload(spec, empty, net_budget(params, cfg), derive_seed(seed, 0, name), 0)
        payload["baseline"] = {"model": model, "params": params.to_dict()}
        tasks.append(CandidateTask(0, name, payload))
    return tasks


# -- running them -------------------------------------------------------------------
def run_trials(executor: Executor, tasks: Sequence[CandidateTask], trials: Sequence[NetParams],
               refs: Mapping[str, Any]) -> list[Trial]:
    """Train every task; returns one :class:`Trial` per task, in task order."""
    by_name = {t.name: p for t, p in zip(tasks, trials)}
    done: dict[str, Trial] = {}
    data = {"train": refs["train"], "valid": refs["valid"]}
    for outcome in executor.run(list(tasks), adanet_train_fn, data):
        name = outcome.task.name
        trial = Trial(name, by_name[name], outcome.status, seconds=outcome.elapsed_s, error=outcome.error)
        if outcome.status == COMPLETED:
            r = CandidateResult.of(outcome.result)
            trial.result = r
            trial.valid_auc, trial.valid_loss = r.valid["auc"], r.valid["loss"]
            trial.epochs_run, trial.best_epoch = r.epochs_run, r.best_epoch
            log.info("baseline trial %s (%s): valid auc %.4f loss %.4f, %.2f epochs, %.1f s", name,
                     trial.params.label(), trial.valid_auc, trial.valid_loss, trial.epochs_run, trial.seconds)
        else:
            log.warning("baseline trial %s (%s) %s: %s", name, trial.params.label(), outcome.status,
                        outcome.error)
        done[name] = trial
    return [done.get(t.name) or Trial(t.name, by_name[t.name], "missing") for t in tasks]


def select_best(trials: Sequence[Trial]) -> Optional[Trial]:
    """Highest validation AUC among completed trials; ties go to the earlier trial."""
    scored = [(t.valid_auc, -i, t) for i, t in enumerate(trials)
              if t.status == COMPLETED and not math.isnan(t.valid_auc)]
    if not scored:
        return None
    return max(scored, key=lambda s: (s[0], s[1]))[2]


# -- one neural baseline end to end ---------------------------------------------------
def finish_tuning(model: str, done: list[Trial], train_s: float, name: str) -> NetBaselineResult:
    """The tuning's result: the best trial by valid AUC (an error when none completed)."""
    best = select_best(done)
    if best is None:
        errors = "; ".join(f"{t.name}: {t.status} {t.error or ''}".strip() for t in done[:3])
        raise RuntimeError(f"{model}: no trial completed ({errors})")
    log.info("%s: best %s (%s) valid auc %.4f of %d trials; tuning %.1f s", model, best.name,
             best.params.label(), best.valid_auc, len(done), train_s)
    return NetBaselineResult(model, train_s, best.valid_auc, done, best, name)


def tune_net_baseline(model: str, cfg: JobConfig, spec: Any, refs: Mapping[str, Any], executor: Executor,
                      seed: Optional[int] = None) -> NetBaselineResult:
    """Tune ``model`` (train all its trials on ``executor`` from the train and valid
    references ``refs``) and pick the best by validation AUC. ``seed``: default run.seed.
    Score the chosen net with :meth:`NetBaselineResult.score`."""
    trials = trials_for(model, cfg, seed)
    tasks = net_tasks(model, trials, spec, cfg, seed=seed)
    log.info("%s: training %d trial(s) on %s", model, len(tasks), type(executor).__name__)
    t0 = time.perf_counter()
    done = run_trials(executor, tasks, trials, refs)
    return finish_tuning(model, done, time.perf_counter() - t0, f"{cfg.run.id}/{model}")
