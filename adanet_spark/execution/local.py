"""In-process executor: tasks run one after another in this process (tests, laptops).

Retries, faults and the straggler policy go through the same code as the
distributed backends (:mod:`tracker`, :mod:`stragglers`, :mod:`faults`). Being
sequential, it drops a straggler cooperatively: ``ctx.should_stop()`` turns true
once the running candidate is a straggler, and ``train_fn`` is expected to
return early. A ``kill`` fault is simulated by raising (killing this process
would kill the driver). Split references go through the process's split cache,
so a search on Parquet splits reads them once, not once per candidate.
"""
from __future__ import annotations

import logging
import traceback
from typing import Any, Iterator, Mapping, Optional, Sequence

from adanet_spark.adanet.protocol import CandidateTask, Executor, TaskOutcome, TrainContext, TrainFn
from adanet_spark.execution import split_cache
from adanet_spark.execution.attempt import format_error, run_attempt
from adanet_spark.execution.driver import log_outcome
from adanet_spark.execution.faults import FaultPlan
from adanet_spark.execution.stragglers import NeverDrop, StragglerPolicy
from adanet_spark.execution.tracker import Attempt, IterationTracker

log = logging.getLogger(__name__)

WORKER = "local"


class LocalExecutor(Executor):
    """``policy``: when to stop a running candidate (default: never); ``max_retries``:
    how often a failed candidate is tried again."""

    def __init__(self, policy: Optional[StragglerPolicy] = None, max_retries: int = 0,
                 faults: Optional[FaultPlan] = None, threads_per_worker: Optional[int] = None):
        self.policy = policy if policy is not None else NeverDrop()
        self.max_retries = max_retries
        self.faults = faults
        self.threads = threads_per_worker

    def run(self, tasks: Sequence[CandidateTask], train_fn: TrainFn,
            data: Mapping[str, Any]) -> Iterator[TaskOutcome]:
        tracker = IterationTracker(tasks, self.policy, max_retries=self.max_retries)
        data = split_cache.cached(data)
        saved_threads = _torch_threads() if self.threads else None
        try:
            while not tracker.done():
                outcome = self._run_one(tracker, tracker.next_attempt(), train_fn, data)
                if outcome is not None:
                    log_outcome(outcome)
                    yield outcome
        finally:
            if saved_threads:  # run_attempt set this process's torch threads: give the driver its own back
                import torch
                torch.set_num_threads(saved_threads)

    def _run_one(self, tracker: IterationTracker, att: Attempt, train_fn: TrainFn,
                 data: Mapping[str, Any]) -> Optional[TaskOutcome]:
        task, key = att.task, att.key
        tracker.started(key, WORKER)
        log.info("start iteration %d candidate %s attempt %d on %s", task.iteration, task.name, att.number, WORKER)
        stop_seen = []

        def should_stop() -> bool:
            if tracker.should_drop(key):
                stop_seen.append(True)
                return True
            return False

        ctx = TrainContext(report_progress=lambda f, valid_loss=None: tracker.progress(key, f, valid_loss),
                           should_stop=should_stop)
        try:
            result = run_attempt(train_fn, task.payload, data, ctx, task, att.number, 0, self.faults,
                                 in_process=True, threads=self.threads)
        except Exception as exc:  # a failed candidate must not fail the search
            if stop_seen:  # train_fn gave up by raising once told to stop: still a drop
                return tracker.dropped(key)
            error = format_error(exc)
            log.warning("candidate %s attempt %d failed: %s\n%s", task.name, att.number, error,
                        traceback.format_exc(limit=3))
            return tracker.failed(key, error, worker=WORKER)
        if stop_seen or tracker.should_drop(key):
            return tracker.dropped(key)
        return tracker.completed(key, result, worker=WORKER)


def _torch_threads() -> int:
    import torch  # only when threads_per_worker is set: torch is heavy to import
    return torch.get_num_threads()
