"""Inside a Spark task: one attempt of one candidate, and its link to the driver's hub.

Shipped to the executor's Python worker by :class:`~adanet_spark.execution.spark.SparkExecutor`.
Errors of ``train_fn`` are caught and returned as values, so only a dead
process fails the Spark job (and the driver can tell the two apart).
"""
from __future__ import annotations

import os
import threading
import time
import traceback
from typing import Optional

from adanet_spark.adanet.protocol import TrainContext
from adanet_spark.execution import split_cache
from adanet_spark.execution.attempt import format_error, run_attempt
from adanet_spark.execution.channel import Link, progress_info

PROGRESS_EVERY_S = 0.2  # at most this often: the policy needs a rate, not every step


def make_task(spec: dict):
    """The ``mapPartitions`` function of the attempt's one-partition job."""
    def task_fn(rows):
        for _ in rows:  # drain the input, or PySpark will not reuse this Python worker
            pass
        yield run_in_task(spec)
    return task_fn


def run_in_task(spec: dict) -> dict:
    """One attempt: ``{"ok", "result" | "error", "pid", "elapsed"}``."""
    from pyspark import TaskContext as SparkTaskContext  # only on an executor

    link = TaskLink(spec)
    spark_ctx = SparkTaskContext.get()
    # A Spark-level task retry (clusters allow several) counts as a later attempt.
    attempt = spec["attempt"] + (spark_ctx.attemptNumber() if spark_ctx is not None else 0)
    ctx = TrainContext(report_progress=link.report_progress, should_stop=link.stop.is_set)
    t0 = time.perf_counter()
    try:
        try:  # a reused Python worker keeps its loaded splits; the clock starts after loading
            data = split_cache.preload(split_cache.cached(spec["data"]))
        finally:
            link.mark_loaded()
        result = run_attempt(spec["train_fn"], spec["payload"], data, ctx, spec["task"], attempt,
                             spec["slot"], spec["faults"], threads=spec["threads"])
        return {"ok": True, "result": result, "pid": os.getpid(), "elapsed": time.perf_counter() - t0}
    except Exception as exc:
        return {"ok": False, "error": format_error(exc), "trace": traceback.format_exc(limit=8),
                "pid": os.getpid(), "elapsed": time.perf_counter() - t0}
    finally:
        link.close()


class TaskLink:
    """Best-effort connection of one task to the hub: "started" once the splits are
    loaded, throttled progress, and the driver's cancel (``stop``). Without a hub,
    or when the driver cannot be reached, the task trains all the same."""

    def __init__(self, spec: dict):
        self.key = spec["key"]
        slot_name = spec.get("slot_name") or f"spark-slot{spec['slot']}"
        self.worker = f"{slot_name}/pid{os.getpid()}"
        self.stop = threading.Event()
        self._loaded = threading.Event()
        self._loaded_at = time.perf_counter()
        self._link: Optional[Link] = None  # set once "started" is out: progress may follow
        self._last = 0.0
        if spec.get("hub"):
            threading.Thread(target=self._connect, args=(spec["hub"], spec["authkey"]), daemon=True).start()

    def mark_loaded(self) -> None:
        self._loaded_at = time.perf_counter()
        self._loaded.set()

    def report_progress(self, fraction: float, valid_loss: Optional[float] = None) -> None:
        now = time.monotonic()
        link = self._link
        # Validation checks always go out: a policy compares candidates on them.
        if link is not None and (now - self._last >= PROGRESS_EVERY_S or fraction >= 1.0
                                 or valid_loss is not None):
            self._last = now
            link.send(("progress", self.key, progress_info(fraction, valid_loss)))

    def close(self) -> None:
        if self._link is not None:
            self._link.close()

    def _connect(self, address, authkey: bytes) -> None:
        try:
            link = Link(address, authkey, timeout_s=5.0)
        except Exception:  # no hub: the driver judges from launch times instead
            return
        link.send(("hello", self.key, {"pid": os.getpid()}))
        self._loaded.wait()
        link.send(("started", self.key, {"worker": self.worker, "ago": time.perf_counter() - self._loaded_at}))
        self._link = link
        self._listen(link)

    def _listen(self, link: Link) -> None:
        try:
            while True:
                kind, key, _ = link.recv()
                if kind == "cancel" and key == self.key:
                    self.stop.set()
        except Exception:  # connection closed: the attempt is over either way
            return
