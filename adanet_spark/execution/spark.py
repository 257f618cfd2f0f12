"""Spark backend: every candidate is its own one-task Spark job in its own job group.

The driver submits each attempt from its own thread (PySpark pins Python
threads to JVM threads, so the job group set in that thread tags only that
job) without waiting for the others, at most ``workers`` at a time. The single
task calls ``train_fn(payload, data, ctx)``: ``data`` holds lazy split
references that the task loads itself (kept by a reused Python worker in its
split cache), and the result comes back as the task's (pickled) return value.
Dropping a straggler is ``sc.cancelJobGroup(group)``, which kills the task and
frees its slot.

Tasks open a best-effort connection to a small hub on the driver to say when
they really start and how far they are (the straggler policy projects from
it); a task that cannot reach the hub trains all the same.

``mode="sync"`` (the baseline): the same jobs, no straggler dropping, and the
outcomes are yielded only once the last candidate has ended.
"""
from __future__ import annotations

import itertools
import logging
import threading
import time
import uuid
from typing import Any, Iterator, Mapping, Optional, Sequence

from adanet_spark.adanet.protocol import CandidateTask, TaskOutcome, TrainFn
from adanet_spark.execution.channel import Hub
from adanet_spark.execution.driver import SlotBackend, SlotExecutor
from adanet_spark.execution.faults import FaultPlan
from adanet_spark.execution.spark_task import make_task
from adanet_spark.execution.stragglers import StragglerPolicy
from adanet_spark.execution.tracker import Attempt

log = logging.getLogger(__name__)


class SparkExecutor(SlotExecutor):
    """Candidates as concurrent one-task Spark jobs.

    ``spark``: a SparkSession or SparkContext (the active one when None);
    ``workers``: how many candidates run at once (executor slots to use);
    ``max_retries``: how often a failed candidate is tried again.
    """

    name = "spark"  # the backend, in log lines

    def __init__(self, spark=None, workers: int = 2, mode: str = "async",
                 policy: Optional[StragglerPolicy] = None, max_retries: int = 1,
                 faults: Optional[FaultPlan] = None, threads_per_worker: int = 1,
                 progress: bool = True, poll_s: float = 0.05):
        super().__init__(spark, workers, mode, policy, max_retries, faults, poll_s)
        self.threads = threads_per_worker
        self.executor_id = uuid.uuid4().hex[:8]
        self.hub: Optional[Hub] = None
        if progress:
            try:
                self.hub = Hub(self._on_message, advertise_host=self.sc.getConf().get("spark.driver.host", None))
            except OSError as exc:  # progress is an optimisation: deadlines still work without it
                log.warning("spark executor: no progress channel (%s); deadlines still apply", exc)

    def run(self, tasks: Sequence[CandidateTask], train_fn: TrainFn,
            data: Mapping[str, Any]) -> Iterator[TaskOutcome]:
        backend = self.slots(train_fn, dict(data))
        yield from self.drive_iteration(tasks, backend, self.name, expect_started=self.hub is not None)

    def slots(self, train_fn: TrainFn, data: dict) -> "SparkSlots":
        """One iteration's backend (a subclass runs its attempts its own way)."""
        return SparkSlots(self, train_fn, data)

    def close(self) -> None:
        if self.hub is not None:
            self.hub.close()
            self.hub = None

    def _on_message(self, cid: int, msg: Any) -> None:
        """Hub callback; messages are ``(kind, attempt_key, info)``."""
        backend = self._backend
        if backend is None:
            return
        kind, key, info = msg
        if kind == "hello":
            backend.attach(key, cid)
        elif kind in ("started", "progress"):
            backend.events.put((kind, key, info))


class SparkSlots(SlotBackend):
    """One iteration's view of the executor: slots are numbered Spark task slots, each
    attempt one Spark job (:meth:`run_job`) in its own job group."""

    def __init__(self, owner: SparkExecutor, train_fn: TrainFn, data: dict):
        super().__init__(owner)
        self.sc = owner.sc
        self.train_fn = train_fn
        self.data = data
        self._free = list(range(owner.workers))
        self._groups: dict = {}  # attempt key -> job group
        self._conns: dict = {}  # attempt key -> hub connection id
        self._threads: dict = {}
        self._lock = threading.Lock()
        self._seq = itertools.count()

    def free_slots(self) -> list:
        with self._lock:
            return list(self._free)

    def slot_name(self, slot) -> str:
        return f"spark-slot{slot}"

    def attach(self, key: str, cid: int) -> None:
        """A task connected: remember its connection, and tell it at once if it is already cancelled."""
        with self._lock:
            self._conns[key] = cid
            cancelled = key in self.cancelled
        if cancelled and self.owner.hub is not None:
            self.owner.hub.send(cid, ("cancel", key, {}))

    def launch(self, att: Attempt, slot) -> None:
        from pyspark import InheritableThread  # pins the job group to this thread's JVM thread
        task = att.task
        group = f"adanet-{self.owner.executor_id}-{next(self._seq)}"
        description = f"iteration {task.iteration} / candidate {task.name}" + (
            f" (attempt {att.number})" if att.number > 1 else "")
        hub = self.owner.hub
        spec = {
            "train_fn": self.train_fn, "payload": task.payload, "data": self.data, "task": task,
            "attempt": att.number, "slot": slot, "slot_name": self.slot_name(slot), "key": att.key,
            "faults": self.owner.faults,
            "threads": self.owner.threads,
            "hub": hub.address if hub else None, "authkey": hub.authkey if hub else None,
        }
        th = InheritableThread(target=self._job, args=(att, slot, group, description, spec),
                               name=f"adanet-spark-{att.key}")
        th.daemon = True
        with self._lock:
            self._free.remove(slot)
            self._groups[att.key] = group
            self._threads[att.key] = th
        th.start()

    def _job(self, att: Attempt, slot, group: str, description: str, spec: dict) -> None:
        event = None
        try:
            event = self._collect(att, slot, group, description, spec)
        except Exception as exc:  # job failed: the task's process died, or we cancelled it
            if self._is_cancelled(att.key):
                event = ("cancelled", att.key, {})
            else:
                event = ("error", att.key, {"error": "Spark job failed (worker process lost?): "
                                            + short_java_error(exc), "worker": self.slot_name(slot)})
        finally:
            with self._lock:
                self._free.append(slot)
                self._free.sort()
                for running in (self._groups, self._conns, self._threads):
                    running.pop(att.key, None)
            if event is not None:
                self.events.put(event)

    def _collect(self, att: Attempt, slot, group: str, description: str, spec: dict) -> tuple:
        """Run the attempt's one-task job; its event (errors inside train_fn come back as values)."""
        self.sc.setJobGroup(group, description, interruptOnCancel=True)
        out = self.run_job(spec, description)
        worker = f"{self.slot_name(slot)}/pid{out.get('pid')}"
        if self._is_cancelled(att.key):  # stopped cooperatively (or finished just as we cancelled)
            return ("cancelled", att.key, {})
        if out["ok"]:
            return ("done", att.key, {"result": out["result"], "worker": worker,
                                      "extra": {"train_s": out["elapsed"], "job_group": group}})
        return ("error", att.key, {"error": out["error"], "worker": worker, "extra": {"trace": out.get("trace")}})

    def run_job(self, spec: dict, description: str) -> dict:
        """Run one attempt as a Spark job of this thread's job group; what its task returned."""
        rdd = self.sc.parallelize([0], 1).mapPartitions(make_task(spec))
        rdd.setName(description)
        return rdd.collect()[0]

    def _is_cancelled(self, key: str) -> bool:
        with self._lock:
            return key in self.cancelled

    def cancel(self, att: Attempt) -> None:
        with self._lock:
            self.cancelled.add(att.key)
            group = self._groups.get(att.key)
            cid = self._conns.get(att.key)
        if cid is not None and self.owner.hub is not None:
            self.owner.hub.send(cid, ("cancel", att.key, {}))
        if group is not None:
            log.info("cancelling job group %s (iteration %d candidate %s)", group, att.task.iteration,
                     att.task.name)
            self.sc.cancelJobGroup(group)

    def wait_idle(self, timeout_s: float) -> None:
        """Wait for cancelled jobs to wind down, so the next iteration starts with free slots."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                threads = list(self._threads.values())
            if not threads:
                return
            threads[0].join(max(0.0, deadline - time.monotonic()))


def short_java_error(exc: BaseException) -> str:
    """The telling line of a Py4J / Spark error (the full Java trace is pages long)."""
    text = str(exc)
    for marker in ("Python worker exited unexpectedly", "crashed", "SparkException:", "Exception:"):
        i = text.find(marker)
        if i >= 0:
            return text[i:i + 300].splitlines()[0]
    return text.splitlines()[0][:300] if text else type(exc).__name__
