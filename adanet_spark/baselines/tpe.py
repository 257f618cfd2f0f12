"""``tpe_search_nn``: Optuna's TPE sampler over the random search's space, trials on the executor.

What a Spark team tunes with instead of random search (Optuna, or Hyperopt with
SparkTrials): the Tree-structured Parzen Estimator proposes each trial from the
results so far. Everything else is ``random_search_nn``'s: the same space
(``baselines.search_space``, log-uniform dimensions sampled on the log scale,
integer ones as integers), the same trial budget (``baselines.random_trials``), the
same trainer and early stopping (:func:`.nets.net_tasks`) and the same executor.

Trials run concurrently like random search's: the study asks for a batch of
``training.workers`` trials (the constant-liar strategy keeps a batch's proposals
apart), the executor trains the batch side by side, and the valid AUCs are told back
in trial order, not in finishing order, so a seed always gives the same trials.
The first ``startup_trials(...)`` trials are TPE's random start-up.
"""
from __future__ import annotations

import logging
import math
import time
import warnings
from typing import Any, Callable, Mapping, Optional, Sequence

from adanet_spark.adanet.protocol import COMPLETED, Executor
from adanet_spark.baselines.nets import NetBaselineResult, Trial, finish_tuning, net_tasks, run_trials
from adanet_spark.baselines.search_space import INTEGER, PARAMS, NetParams
from adanet_spark.config import JobConfig, SearchSpaceConfig

log = logging.getLogger(__name__)

MODEL = "tpe_search_nn"
# Trains one batch of proposals, returns one Trial per proposal (in order).
RunBatch = Callable[[list[NetParams], int], list[Trial]]


def startup_trials(budget: int, batch: int) -> int:
    """Random trials before TPE models the results: Optuna's default 10, fewer on a
    small budget (half of it), never fewer than one batch."""
    return max(batch, min(10, budget // 2))


def suggest(trial: Any, space: SearchSpaceConfig) -> NetParams:
    """One point of the space from an Optuna trial (the same dimensions as the random search)."""
    values = {}
    for name in PARAMS:
        dim = getattr(space, name)
        if name in INTEGER:
            values[name] = trial.suggest_int(name, int(dim.low), int(dim.high), log=dim.log)
        else:
            values[name] = trial.suggest_float(name, float(dim.low), float(dim.high), log=dim.log)
    return NetParams(**values)


def tpe_trials(space: SearchSpaceConfig, budget: int, batch: int, seed: int, run_batch: RunBatch) -> list[Trial]:
    """The TPE loop: ask ``batch`` proposals, ``run_batch`` them, tell their valid AUCs (a
    failed or unscored trial is told as failed), until ``budget`` trials have run."""
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with warnings.catch_warnings():  # constant_liar is marked experimental in some versions
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup_trials(budget, batch),
                                             constant_liar=True)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    done: list[Trial] = []
    while len(done) < budget:
        asked = [study.ask() for _ in range(min(batch, budget - len(done)))]
        results = run_batch([suggest(t, space) for t in asked], len(done))
        for asked_trial, result in zip(asked, results):
            if result.status == COMPLETED and not math.isnan(result.valid_auc):
                study.tell(asked_trial, result.valid_auc)
            else:
                study.tell(asked_trial, state=optuna.trial.TrialState.FAIL)
        done.extend(results)
    return done


def tune_tpe(cfg: JobConfig, spec: Any, refs: Mapping[str, Any], executor: Executor,
             seed: Optional[int] = None) -> NetBaselineResult:
    """Tune with TPE (``baselines.random_trials`` trials, ``training.workers`` at a time, seeded
    by ``seed``, default ``baselines.seed`` else ``run.seed``) from the train and valid
    references; the best by valid AUC. Score it with :meth:`NetBaselineResult.score`."""
    b = cfg.baselines
    if seed is None:
        seed = b.seed if b.seed is not None else cfg.run.seed

    def run_batch(params: Sequence[NetParams], first: int) -> list[Trial]:
        tasks = net_tasks(MODEL, params, spec, cfg, seed=seed, first=first)
        return run_trials(executor, tasks, params, refs)

    batch = max(1, cfg.training.workers)
    log.info("%s: %d trial(s), %d at a time, on %s", MODEL, b.random_trials, batch, type(executor).__name__)
    t0 = time.perf_counter()
    done = tpe_trials(b.search_space, b.random_trials, batch, seed, run_batch)
    return finish_tuning(MODEL, done, time.perf_counter() - t0, f"{cfg.run.id}/{MODEL}")
