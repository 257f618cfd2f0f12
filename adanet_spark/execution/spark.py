"""Spark backend: every candidate is its own one-task Spark job in its own job group.

The driver submits each attempt from its own thread (PySpark pins Python
threads to JVM threads, so the job group set in that thread tags only that
job) without waiting for the others, at most ``workers`` at a time. The single
task calls ``train_fn(payload, data, ctx)``: ``data`` holds lazy ParquetSplit
references that the task loads itself, and the result comes back as the
task's (pickled) return value. Dropping a straggler is
``sc.cancelJobGroup(group)``, which kills the task and frees its slot.

Tasks open a best-effort connection to a small hub on the driver to say when
they really start and how far they are (the straggler policy projects from
it); a task that cannot reach the hub trains all the same.

``mode="sync"`` (the baseline): the same jobs, no straggler dropping, and the
outcomes are yielded only once the last candidate has ended.
"""
from __future__ import annotations

import dataclasses
import itertools
import logging
import os
import queue
import threading
import time
import traceback
import uuid
from typing import Any, Iterator, Mapping, Optional, Sequence

from adanet_spark.execution.base import (CandidateTask, Executor, SlotBackend, TaskOutcome, TrainContext,
                                         TrainFn, drive, format_error, run_attempt)
from adanet_spark.execution.channel import Hub, Link
from adanet_spark.execution.stragglers import IterationTracker, StragglerPolicy

log = logging.getLogger(__name__)

PROGRESS_EVERY_S = 0.2


class SparkExecutor(Executor):
    """Candidates as concurrent one-task Spark jobs.

    ``spark``: a SparkSession or SparkContext (the active one when None);
    ``workers``: how many candidates run at once (executor slots to use).
    """

    def __init__(self, spark=None, workers: int = 2, mode: str = "async",
                 policy: Optional[StragglerPolicy] = None, faults=None, threads_per_worker: int = 1,
                 progress: bool = True, poll_s: float = 0.05):
        if mode not in ("async", "sync"):
            raise ValueError(f"mode must be async or sync, got {mode!r}")
        self.sc = _spark_context(spark)
        self.workers = int(workers)
        self.mode = mode
        policy = policy or StragglerPolicy()
        self.policy = policy if mode == "async" else dataclasses.replace(policy, drop=False)
        self.faults = faults
        self.threads = threads_per_worker
        self.poll_s = poll_s
        self.executor_id = uuid.uuid4().hex[:8]
        self._backend: Optional[_SparkSlots] = None
        self._hub: Optional[Hub] = None
        if progress:
            try:
                host = self.sc.getConf().get("spark.driver.host", None)
                self._hub = Hub(self._on_message, advertise_host=host)
            except OSError as exc:
                log.warning("spark executor: no progress channel (%s); deadlines still apply", exc)

    def run(self, tasks: Sequence[CandidateTask], train_fn: TrainFn,
            data: Mapping[str, Any]) -> Iterator[TaskOutcome]:
        backend = _SparkSlots(self, train_fn, dict(data))
        self._backend = backend
        tracker = IterationTracker(tasks, self.policy, expect_started=self._hub is not None)
        label = f"[spark {self.mode}] "
        try:
            yield from drive(tracker, backend, hold=(self.mode == "sync"), poll_s=self.poll_s, label=label)
        finally:
            backend.wait_idle(timeout_s=30.0)
            self._backend = None

    def close(self) -> None:
        if self._hub is not None:
            self._hub.close()
            self._hub = None

    # Progress channel: messages are (kind, attempt_key, info).
    def _on_message(self, cid: int, msg: Any) -> None:
        backend = self._backend
        if backend is None:
            return
        kind, key, info = msg
        if kind == "hello":
            backend.attach(key, cid)
        elif kind in ("started", "progress"):
            backend.events.put((kind, key, info))


class _SparkSlots(SlotBackend):
    def __init__(self, owner: SparkExecutor, train_fn: TrainFn, data: dict):
        self.owner = owner
        self.sc = owner.sc
        self.train_fn = train_fn
        self.data = data
        self.events: "queue.Queue" = queue.Queue()
        self._free = list(range(owner.workers))
        self._groups: dict = {}  # attempt key -> job group
        self._conns: dict = {}  # attempt key -> hub connection id
        self._cancelled: set = set()
        self._threads: dict = {}
        self._lock = threading.Lock()
        self._seq = itertools.count()

    def free_slots(self) -> list:
        with self._lock:
            return list(self._free)

    def slot_name(self, slot) -> str:
        return f"spark-slot{slot}"

    def attach(self, key: str, cid: int) -> None:
        with self._lock:
            self._conns[key] = cid
            cancelled = key in self._cancelled
        if cancelled and self.owner._hub is not None:
            self.owner._hub.send(cid, ("cancel", key, {}))

    def launch(self, att, slot) -> None:
        from pyspark import InheritableThread
        with self._lock:
            self._free.remove(slot)
        task = att.task
        group = f"adanet-{self.owner.executor_id}-{next(self._seq)}"
        description = f"iteration {task.iteration} / candidate {task.name}" + (
            f" (attempt {att.number})" if att.number > 1 else "")
        hub = self.owner._hub
        spec = {
            "train_fn": self.train_fn, "payload": task.payload, "data": self.data, "task": task,
            "attempt": att.number, "slot": slot, "key": att.key, "faults": self.owner.faults,
            "threads": self.owner.threads,
            "hub": hub.address if hub else None, "authkey": hub.authkey if hub else None,
        }
        with self._lock:
            self._groups[att.key] = group
        th = InheritableThread(target=self._job, args=(att, slot, group, description, spec),
                               name=f"adanet-spark-{att.key}")
        th.daemon = True
        with self._lock:
            self._threads[att.key] = th
        th.start()

    def _job(self, att, slot, group: str, description: str, spec: dict) -> None:
        worker = f"spark-slot{slot}"
        event = None
        try:
            self.sc.setJobGroup(group, description, interruptOnCancel=True)
            rdd = self.sc.parallelize([0], 1).mapPartitions(_make_task(spec))
            rdd.setName(description)
            out = rdd.collect()[0]
            worker = f"spark-slot{slot}/pid{out.get('pid')}"
            with self._lock:
                cancelled = att.key in self._cancelled
            if cancelled:  # stopped cooperatively (or finished just as we cancelled)
                event = ("cancelled", att.key, {})
            elif out["ok"]:
                event = ("done", att.key, {"result": out["result"], "worker": worker,
                                           "extra": {"train_s": out["elapsed"], "job_group": group}})
            else:
                event = ("error", att.key, {"error": out["error"], "worker": worker,
                                            "extra": {"trace": out.get("trace")}})
        except Exception as exc:  # job failed: the task's process died, or we cancelled it
            with self._lock:
                cancelled = att.key in self._cancelled
            if cancelled:
                event = ("cancelled", att.key, {})
            else:
                event = ("error", att.key, {"error": "Spark job failed (worker process lost?): "
                                            + _short_java_error(exc), "worker": worker})
        finally:
            with self._lock:
                self._free.append(slot)
                self._free.sort()
                self._groups.pop(att.key, None)
                self._conns.pop(att.key, None)
                self._threads.pop(att.key, None)
            if event is not None:
                self.events.put(event)

    def cancel(self, att) -> None:
        with self._lock:
            self._cancelled.add(att.key)
            group = self._groups.get(att.key)
            cid = self._conns.get(att.key)
        if cid is not None and self.owner._hub is not None:
            self.owner._hub.send(cid, ("cancel", att.key, {}))
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


# Loaded splits kept by a (reused) Spark Python worker between candidates, keyed by
# their file references; a new set of references replaces the old ones.
_SPLIT_CACHE: dict = {}


def _make_task(spec: dict):
    def task_fn(rows):
        for _ in rows:  # drain the input, or PySpark will not reuse this Python worker
            pass
        yield _run_in_task(spec)
    return task_fn


def _run_in_task(spec: dict) -> dict:
    """Inside the Spark task: one attempt, errors caught and returned (only a dead process fails the job)."""
    from pyspark import TaskContext as SparkTaskContext

    key = spec["key"]
    stop = threading.Event()
    loaded = threading.Event()  # "started" goes out once the splits are loaded
    t_start = [time.perf_counter()]
    link_box: list = []
    last = [0.0]

    def listen(link: Link) -> None:
        try:
            while True:
                kind, k, _ = link.recv()
                if kind == "cancel" and k == key:
                    stop.set()
        except Exception:
            return

    def connect() -> None:
        try:
            link = Link(spec["hub"], spec["authkey"], timeout_s=5.0)
        except Exception:
            return
        link.send(("hello", key, {"pid": os.getpid()}))
        loaded.wait()
        link.send(("started", key, {"worker": f"spark-slot{spec['slot']}/pid{os.getpid()}",
                                    "ago": time.perf_counter() - t_start[0]}))
        link_box.append(link)
        listen(link)

    if spec.get("hub"):
        threading.Thread(target=connect, daemon=True).start()

    def report_progress(fraction: float) -> None:
        now = time.monotonic()
        if link_box and (now - last[0] >= PROGRESS_EVERY_S or fraction >= 1.0):
            last[0] = now
            link_box[0].send(("progress", key, {"fraction": float(fraction)}))

    spark_ctx = SparkTaskContext.get()
    # A Spark-level task retry (clusters allow several) counts as a later attempt.
    attempt = spec["attempt"] + (spark_ctx.attemptNumber() if spark_ctx is not None else 0)
    ctx = TrainContext(report_progress=report_progress, should_stop=stop.is_set)
    t0 = time.perf_counter()
    try:
        from adanet_spark.execution.horovod import _cached, _preload
        try:  # a reused Python worker keeps its loaded splits; the clock starts after loading
            data = _preload(_cached(spec["data"], _SPLIT_CACHE))
        finally:
            t_start[0] = time.perf_counter()
            loaded.set()
        result = run_attempt(spec["train_fn"], spec["payload"], data, ctx, spec["task"], attempt,
                             spec["slot"], spec["faults"], threads=spec["threads"])
        return {"ok": True, "result": result, "pid": os.getpid(), "elapsed": time.perf_counter() - t0}
    except Exception as exc:
        return {"ok": False, "error": format_error(exc), "trace": traceback.format_exc(limit=8),
                "pid": os.getpid(), "elapsed": time.perf_counter() - t0}
    finally:
        if link_box:
            link_box[0].close()


def _spark_context(spark):
    from pyspark import SparkContext
    if spark is None:
        sc = SparkContext._active_spark_context
        if sc is None:
            from adanet_spark.session import get_session
            sc = get_session().sparkContext
        return sc
    return getattr(spark, "sparkContext", spark)


def _short_java_error(exc: BaseException) -> str:
    text = str(exc)
    for marker in ("Python worker exited unexpectedly", "crashed", "SparkException:", "Exception:"):
        i = text.find(marker)
        if i >= 0:
            return text[i:i + 300].splitlines()[0]
    return text.splitlines()[0][:300] if text else type(exc).__name__
