"""Horovod-on-Spark backend (the default): long-lived workers pulling candidates.

The pool of Horovod workers (``training.workers`` processes, Gloo controller)
is started ONCE per executor, i.e. once per search (:mod:`.pool`). Each worker
(:mod:`.worker`) connects to a small hub on the driver and trains the
candidates it is sent, so an iteration costs messages, not a Horovod start.

Workers form groups of ``group_size`` consecutive ranks. A group trains one
candidate at a time; with ``group_size`` > 1 it trains data-parallel, each
member on its shard (``TrainContext(rank, size, allreduce_)``, the allreduce
on the group's own Horovod process set), so groups never wait for each other.
``mode="sync"`` (the baseline) makes one group of all workers that trains the
candidates one after another and yields the outcomes at the end.

Dropping a straggler sends a cancel: ``ctx.should_stop()`` turns true on the
group's workers (agreed across the group, so all members stop at the same
step) and the group takes the next candidate. A worker process that dies is
noticed at once (its connection drops): its attempt is reported failed and
retried elsewhere, and the pool is restarted when no usable group is left, or
before the next iteration when it is short of workers.

``horovod.spark.run`` is used, not ``run_elastic``: an elastic reset is global
(every worker re-rendezvouses, ``state.commit`` is a collective over all
ranks), which contradicts independent groups, and on ``local[N]`` masters a
failed Horovod task fails the whole Spark job anyway (no task retries), so the
elastic driver cannot respawn it. Recovery is done here instead, the same way
on any master.
"""
from __future__ import annotations

import itertools
import logging
import threading
import time
import uuid
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence

from adanet_spark.adanet.protocol import CandidateTask, TaskOutcome, TrainFn
from adanet_spark.execution.channel import dumps
from adanet_spark.execution.driver import SlotBackend, SlotExecutor
from adanet_spark.execution.faults import FaultPlan
from adanet_spark.execution.horovod.pool import PoolKeeper, PoolSettings, PoolWorker, WorkerPool
from adanet_spark.execution.slots import check_local_slots
from adanet_spark.execution.stragglers import StragglerPolicy
from adanet_spark.execution.tracker import Attempt

log = logging.getLogger(__name__)


def group_layout(workers: int, group_size: int, mode: str) -> List[List[int]]:
    """Ranks of each group: consecutive ranks, ``workers // group_size`` groups (async),
    or one group of everyone (sync). Ranks left over (workers not a multiple) stay idle."""
    if mode == "sync":
        return [list(range(workers))]
    g = max(1, min(group_size, workers))
    return [list(range(i * g, (i + 1) * g)) for i in range(workers // g)]


class HorovodExecutor(SlotExecutor):
    """Candidates on a pool of Horovod-on-Spark workers started once per executor."""

    def __init__(self, spark=None, workers: int = 2, group_size: int = 1, mode: str = "async",
                 policy: Optional[StragglerPolicy] = None, max_retries: int = 1,
                 faults: Optional[FaultPlan] = None, threads_per_worker: int = 1,
                 start_timeout_s: float = 180.0, max_pool_starts: int = 5, poll_s: float = 0.05,
                 verbose: int = 0):
        super().__init__(spark, workers, mode, policy, max_retries, faults, poll_s)
        check_local_slots(self.sc, self.workers, reserve=0)
        self.groups = group_layout(self.workers, int(group_size), mode)
        idle = self.workers - sum(len(g) for g in self.groups)
        if idle:
            log.warning("horovod: %d workers in groups of %d leave %d idle", self.workers, group_size, idle)
        self.stats: Dict[str, Any] = {"pool_starts": 0, "pool_start_s": [], "iterations": []}
        self.lock = threading.RLock()
        settings = PoolSettings(self.workers, self.groups, threads_per_worker, start_timeout_s, verbose)
        self.pools = PoolKeeper(self.sc, settings, self.lock, self.stats, self._on_message, self._on_close,
                                max_pool_starts=max_pool_starts)
        self._run_seq = itertools.count(1)
        self._closed = False

    @property
    def pool(self) -> Optional[WorkerPool]:
        """The current worker pool (None before the first start)."""
        return self.pools.pool

    def start(self) -> None:
        """Start the worker pool now (``run`` starts it on first use)."""
        with self.lock:
            if self._closed:
                raise RuntimeError("executor is closed")
            if self.pools.is_ready():
                return
        self.pools.start()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.pools.close()

    def worker_pids(self) -> List[int]:
        with self.lock:
            pool = self.pool
            return sorted(w.pid for w in pool.workers.values() if w.alive) if pool else []

    # ------------------------------------------------------------------ hub callbacks
    def _on_message(self, cid: int, msg: Any) -> None:
        kind, key, info = msg
        if kind == "hello":
            self.pools.register(cid, info)
            return
        backend = self._backend
        if backend is not None:
            backend.on_worker_message(kind, key, info)

    def _on_close(self, cid: int) -> None:
        worker = self.pools.lost(cid)
        backend = self._backend
        if worker is not None and backend is not None:
            backend.on_worker_lost(worker)

    # ------------------------------------------------------------------ run
    def run(self, tasks: Sequence[CandidateTask], train_fn: TrainFn,
            data: Mapping[str, Any]) -> Iterator[TaskOutcome]:
        if self._closed:
            raise RuntimeError("executor is closed")
        t0 = time.perf_counter()
        self.pools.ensure(restart_if_degraded=True)
        run_id = f"{uuid.uuid4().hex[:6]}-{next(self._run_seq)}"
        # Sent once per worker and iteration, pickled once here: tasks then only carry payloads.
        blob = dumps(("run", run_id, {"train_fn": train_fn, "data": dict(data), "faults": self.faults}))
        backend = _HorovodSlots(self, run_id, blob)
        stat = {"tasks": len(tasks), "blob_bytes": len(blob), "ensure_pool_s": round(time.perf_counter() - t0, 3)}
        try:
            yield from self.drive_iteration(tasks, backend, "horovod", expect_started=True)
        finally:
            stat["wall_s"] = round(time.perf_counter() - t0, 3)
            stat["first_start_latency_s"] = backend.first_start_latency
            self.stats["iterations"].append(stat)


class _HorovodSlots(SlotBackend):
    """One iteration's view of the pool: slots are the worker groups. The iteration's
    ``train_fn`` and data travel once per worker (``blob``); tasks carry only payloads."""

    def __init__(self, owner: HorovodExecutor, run_id: str, blob: bytes):
        super().__init__(owner)
        self.lock = owner.lock
        self.run_id = run_id
        self.blob = blob
        self._running: Dict[str, int] = {}  # attempt key -> group
        self._t0 = time.perf_counter()
        self.first_start_latency: Optional[float] = None

    def free_slots(self) -> list:
        with self.lock:
            pool = self.owner.pool
            if pool is None or pool.ended.is_set():
                return []
            return [g for g, key in pool.busy.items() if key is None and pool.group_alive(g)]

    def slot_name(self, slot) -> str:
        ranks = self.owner.groups[slot]
        return f"horovod-rank{ranks[0]}" if len(ranks) == 1 else f"horovod group {slot} (ranks {ranks})"

    def poll(self) -> None:
        with self.lock:
            pool = self.owner.pool
            usable = pool is not None and pool.usable()
            idle = pool is None or all(v is None for v in pool.busy.values())
        if not usable and idle:
            log.warning("horovod: no usable worker group left; restarting the pool")
            self.owner.pools.ensure(restart_if_degraded=True)

    def launch(self, att: Attempt, slot) -> None:
        with self.lock:
            pool = self.owner.pool
            pool.busy[slot] = att.key
            self._running[att.key] = slot
            members = pool.members(slot)
        info = {"run_id": self.run_id, "task": att.task, "attempt": att.number, "group": slot,
                "ranks": self.owner.groups[slot]}
        hub = self.owner.pools.hub
        for w in members:
            if self.run_id not in w.runs and hub.send(w.cid, self.blob):
                w.runs.add(self.run_id)
            if not hub.send(w.cid, ("task", att.key, info)):
                self._terminal(att.key, ("error", att.key, {"error": f"worker rank {w.rank} unreachable",
                                                            "worker": w.name, "charge": False}))
                return

    def cancel(self, att: Attempt) -> None:
        with self.lock:
            self.cancelled.add(att.key)
            group = self._running.get(att.key)
            members = self.owner.pool.members(group) if group is not None else []
        for w in members:
            self.owner.pools.hub.send(w.cid, ("cancel", att.key, {}))

    def _terminal(self, key: str, event: tuple) -> None:
        with self.lock:
            group = self._running.pop(key, None)
            if group is None:
                return
            pool = self.owner.pool
            if pool is not None and pool.busy.get(group) == key:
                pool.busy[group] = None
        self.events.put(event)

    def on_worker_message(self, kind: str, key: Optional[str], info: dict) -> None:
        if key is None or key not in self._running:
            return
        if kind == "started":
            if self.first_start_latency is None:
                self.first_start_latency = round(time.perf_counter() - self._t0, 3)
            self.events.put(("started", key, info))
        elif kind == "progress":
            self.events.put(("progress", key, info))
        elif kind in ("done", "error", "cancelled"):
            if key in self.cancelled:  # whatever the worker made of it, we had given up on it
                kind = "cancelled"
            self._terminal(key, (kind, key, info))

    def on_worker_lost(self, worker: PoolWorker) -> None:
        with self.lock:
            pool = self.owner.pool
            key = pool.busy.get(worker.group) if pool is not None else None
        if key is None or key not in self._running:
            return
        if key in self.cancelled:
            self._terminal(key, ("cancelled", key, {}))
        else:
            self._terminal(key, ("error", key, {"error": f"worker process died (rank {worker.rank}, "
                                                         f"pid {worker.pid})", "worker": worker.name}))

    def wait_idle(self, timeout_s: float) -> None:
        """Wait for cancelled candidates to wind down (cooperative), so the next iteration
        starts with every group free; a group still busy after that is left to finish."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self.lock:
                if not self._running:
                    return
            time.sleep(0.02)
        log.warning("horovod: %d cancelled candidate(s) still running after %.0fs", len(self._running), timeout_s)
