"""In-process executor: tasks run one after another in this process (tests, laptops).

Retries, faults and the straggler rule go through the same code as the
distributed backends (:mod:`stragglers`, :mod:`faults`). Being sequential, it
drops a straggler cooperatively: ``ctx.should_stop()`` turns true once the
running candidate is past the deadline, and ``train_fn`` is expected to return
early. A ``kill`` fault is simulated by raising (killing this process would
kill the driver).
"""
from __future__ import annotations

import logging
import time
import traceback
from typing import Any, Iterator, Mapping, Optional, Sequence

from adanet_spark.execution.base import (CandidateTask, Executor, TaskOutcome, TrainContext, TrainFn,
                                         _log_outcome, format_error, run_attempt)
from adanet_spark.execution.stragglers import IterationTracker, StragglerPolicy

log = logging.getLogger(__name__)


class LocalExecutor(Executor):
    def __init__(self, max_retries: int = 0, policy: Optional[StragglerPolicy] = None, faults=None,
                 threads_per_worker: Optional[int] = None):
        self.policy = policy if policy is not None else StragglerPolicy(max_retries=max_retries, drop=False)
        self.max_retries = self.policy.max_retries
        self.faults = faults
        self.threads = threads_per_worker

    def run(self, tasks: Sequence[CandidateTask], train_fn: TrainFn,
            data: Mapping[str, Any]) -> Iterator[TaskOutcome]:
        tracker = IterationTracker(tasks, self.policy)
        saved_threads = _torch_threads() if self.threads else None
        try:
            while not tracker.done():
                att = tracker.next_attempt()
                outcome = self._run_one(tracker, att, train_fn, data)
                if outcome is not None:
                    _log_outcome(outcome)
                    yield outcome
        finally:
            if saved_threads:
                import torch
                torch.set_num_threads(saved_threads)

    def _run_one(self, tracker: IterationTracker, att, train_fn: TrainFn,
                 data: Mapping[str, Any]) -> Optional[TaskOutcome]:
        task = att.task
        key = att.key
        tracker.started(key, "local")
        log.info("start iteration %d candidate %s attempt %d on local", task.iteration, task.name, att.number)
        stop_seen = []

        def should_stop() -> bool:
            if tracker.should_drop(key):
                stop_seen.append(True)
                return True
            return False

        ctx = TrainContext(report_progress=lambda f: tracker.progress(key, f), should_stop=should_stop)
        try:
            result = run_attempt(train_fn, task.payload, data, ctx, task, att.number, 0, self.faults,
                                 in_process=True, threads=self.threads)
        except Exception as exc:  # a failed candidate must not fail the search
            if stop_seen:  # train_fn gave up by raising once told to stop: still a drop
                return tracker.dropped(key)
            error = format_error(exc)
            log.warning("candidate %s attempt %d failed: %s\n%s", task.name, att.number, error,
                        traceback.format_exc(limit=3))
            return tracker.failed(key, error, worker="local")
        if stop_seen or tracker.should_drop(key):
            return tracker.dropped(key)
        return tracker.completed(key, result, worker="local")


def _torch_threads() -> int:
    import torch
    return torch.get_num_threads()
