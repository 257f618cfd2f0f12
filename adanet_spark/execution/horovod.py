"""Horovod-on-Spark backend (the default): long-lived workers pulling candidates.

The pool of Horovod workers (``training.workers`` processes, Gloo controller)
is started ONCE per executor, i.e. once per search, by ``horovod.spark.run`` in
a background driver thread. Each worker runs :func:`_worker_main`, which
connects to a small hub on the driver (:mod:`channel`) and loops: receive a
candidate, train it, send the result back, until told to shut down. An
iteration therefore costs messages, not a Horovod start.

Workers form groups of ``group_size`` consecutive ranks. A group trains one
candidate at a time; with ``group_size`` > 1 it trains data-parallel, each
member on its shard (``TrainContext(rank, size, allreduce_)``, the allreduce
on the group's own Horovod process set), so groups never wait for each other.
``mode="sync"`` (the baseline) makes one group of all workers that trains the
candidates one after another and yields the outcomes at the end.

Dropping a straggler sends a cancel: ``ctx.should_stop()`` turns true on the
group's workers (agreed across the group by an allreduce, so all members stop
at the same step) and the group takes the next candidate. A worker process
that dies is noticed at once (its connection drops): its attempt is reported
failed and retried elsewhere, and the pool is restarted when no usable group
is left, or before the next iteration when it is short of workers.

``horovod.spark.run`` is used, not ``run_elastic``: an elastic reset is global
(every worker re-rendezvouses and ``state.commit`` is a collective over all
ranks), which contradicts independent groups, and on ``local[N]`` masters a
failed Horovod task fails the whole Spark job anyway (no task retries), so the
elastic driver cannot respawn it. Recovery is done here instead, the same way
on any master. ``TrainContext.commit`` is a no-op.
"""
from __future__ import annotations

import dataclasses
import itertools
import logging
import os
import queue
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence

from adanet_spark.execution.base import (CandidateTask, Executor, SlotBackend, TaskOutcome, TrainContext,
                                         TrainFn, drive, format_error, run_attempt)
from adanet_spark.execution.channel import Hub, Link, dumps
from adanet_spark.execution.stragglers import IterationTracker, StragglerPolicy

log = logging.getLogger(__name__)

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROGRESS_EVERY_S = 0.2


def group_layout(workers: int, group_size: int, mode: str) -> List[List[int]]:
    """Ranks of each group: consecutive ranks, ``workers // group_size`` groups (async),
    or one group of everyone (sync). Ranks left over (workers not a multiple) stay idle."""
    if mode == "sync":
        return [list(range(workers))]
    g = max(1, min(group_size, workers))
    return [list(range(i * g, (i + 1) * g)) for i in range(workers // g)]


@dataclass
class _Worker:
    rank: int
    cid: int
    pid: int
    host: str
    group: int
    alive: bool = True
    runs: set = field(default_factory=set)  # run ids whose train_fn/data it holds


@dataclass
class _Pool:
    number: int
    groups: List[List[int]]
    thread: Optional[threading.Thread] = None
    stop_event: threading.Event = field(default_factory=threading.Event)
    workers: Dict[int, _Worker] = field(default_factory=dict)  # rank -> worker
    ready: threading.Event = field(default_factory=threading.Event)
    ended: threading.Event = field(default_factory=threading.Event)
    error: Optional[str] = None
    started_s: float = 0.0
    shutting_down: bool = False
    spark_group: Optional[str] = None

    def group_alive(self, g: int) -> bool:
        return all(r in self.workers and self.workers[r].alive for r in self.groups[g])

    def alive_count(self) -> int:
        return sum(1 for w in self.workers.values() if w.alive)


class HorovodExecutor(Executor):
    """Candidates on a pool of Horovod-on-Spark workers started once per executor."""

    def __init__(self, spark=None, workers: int = 2, group_size: int = 1, mode: str = "async",
                 policy: Optional[StragglerPolicy] = None, faults=None, threads_per_worker: int = 1,
                 start_timeout_s: float = 180.0, max_pool_starts: int = 5, poll_s: float = 0.05,
                 verbose: int = 0):
        if mode not in ("async", "sync"):
            raise ValueError(f"mode must be async or sync, got {mode!r}")
        from adanet_spark.execution.spark import _spark_context
        self.sc = _spark_context(spark)
        self.workers = int(workers)
        self.group_size = int(group_size)
        self.mode = mode
        policy = policy or StragglerPolicy()
        self.policy = policy if mode == "async" else dataclasses.replace(policy, drop=False)
        self.faults = faults
        self.threads = threads_per_worker
        self.start_timeout_s = start_timeout_s
        self.max_pool_starts = max_pool_starts
        self.poll_s = poll_s
        self.verbose = verbose
        master = self.sc.master or ""
        if master.startswith("local") and self.workers > self.sc.defaultParallelism:
            from adanet_spark.errors import BadInputError
            raise BadInputError(f"config key 'training.workers' is {self.workers}, but Spark master {master} "
                                f"has {self.sc.defaultParallelism} task slots (each Horovod worker holds one)")
        self.groups = group_layout(self.workers, self.group_size, mode)
        if sum(len(g) for g in self.groups) < self.workers:
            log.warning("horovod: %d workers in groups of %d leave %d idle", self.workers, self.group_size,
                        self.workers - sum(len(g) for g in self.groups))
        self.stats: Dict[str, Any] = {"pool_starts": 0, "pool_start_s": [], "iterations": []}
        self._lock = threading.RLock()
        self._hub: Optional[Hub] = None
        self._pool: Optional[_Pool] = None
        self._pool_seq = itertools.count(1)
        self._run_seq = itertools.count(1)
        self._cid_rank: Dict[int, int] = {}
        self._busy: Dict[int, Optional[str]] = {}  # group -> attempt key
        self._backend: Optional["_HorovodSlots"] = None
        self._closed = False

    # ------------------------------------------------------------------ pool lifecycle
    def start(self) -> None:
        """Start the worker pool now (``run`` starts it on first use)."""
        with self._lock:
            if self._closed:
                raise RuntimeError("executor is closed")
            if self._pool is not None and not self._pool.ended.is_set() and self._pool.ready.is_set():
                return
        self._start_pool()

    def _start_pool(self) -> None:
        if self.stats["pool_starts"] >= self.max_pool_starts:
            raise RuntimeError(f"horovod: gave up after {self.max_pool_starts} worker pool starts")
        if self._hub is None:
            host = self.sc.getConf().get("spark.driver.host", None)
            self._hub = Hub(self._on_message, self._on_close, advertise_host=host)
        pool = _Pool(next(self._pool_seq), self.groups)
        with self._lock:
            self._pool = pool
            self._busy = {g: None for g in range(len(self.groups))}
        self.stats["pool_starts"] += 1
        t0 = time.perf_counter()
        log.info("horovod: starting worker pool %d (%d workers, groups %s)", pool.number, self.workers,
                 self.groups)
        conf = {"hub": self._hub.address, "authkey": self._hub.authkey, "groups": self.groups,
                "workers": self.workers,
                "threads": self.threads, "pool": pool.number}
        pool.thread = threading.Thread(target=self._pool_main, args=(pool, conf),
                                       name=f"adanet-horovod-pool{pool.number}", daemon=True)
        pool.thread.start()
        deadline = time.monotonic() + self.start_timeout_s
        while not pool.ready.wait(0.2):
            if pool.ended.is_set() or time.monotonic() > deadline:
                why = pool.error or f"workers did not all connect within {self.start_timeout_s:.0f}s"
                self._stop_pool(pool, wait_s=10.0)
                raise RuntimeError(f"horovod: worker pool {pool.number} failed to start: {why}")
        pool.started_s = time.perf_counter() - t0
        try:  # the Spark job group horovod.spark.run gave the pool's tasks (for a last-resort cancel)
            from horovod.spark.driver import job_id
            pool.spark_group = f"horovod.spark.run.{job_id.JOB_ID}"
        except Exception:
            pass
        self.stats["pool_start_s"].append(round(pool.started_s, 3))
        log.info("horovod: worker pool %d ready in %.1fs (pids %s)", pool.number, pool.started_s,
                 sorted(w.pid for w in pool.workers.values()))

    def _pool_main(self, pool: _Pool, conf: dict) -> None:
        import horovod.spark
        _install_shutdown_event_patch()
        env = dict(os.environ)
        paths = [REPO_ROOT] + [p for p in sys.path if p and os.path.isdir(p)]
        env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths + env.get("PYTHONPATH", "").split(os.pathsep)))
        env.setdefault("HOROVOD_LOG_LEVEL", "warning")
        env["OMP_NUM_THREADS"] = str(self.threads or 1)
        _SHUTDOWN_EVENTS[threading.get_ident()] = pool.stop_event
        try:
            horovod.spark.run(_worker_main, args=(conf,), num_proc=self.workers, env=env,
                              verbose=self.verbose, start_timeout=int(self.start_timeout_s),
                              use_gloo=True)
            log.info("horovod: worker pool %d ended", pool.number)
        except BaseException as exc:  # a worker died, or we stopped the pool
            pool.error = format_error(exc)
            level = logging.INFO if pool.shutting_down else logging.WARNING
            log.log(level, "horovod: worker pool %d ended: %s", pool.number, pool.error.splitlines()[0])
        finally:
            _SHUTDOWN_EVENTS.pop(threading.get_ident(), None)
            with self._lock:
                for w in pool.workers.values():
                    w.alive = False
            pool.ended.set()

    def _stop_pool(self, pool: _Pool, wait_s: float = 30.0) -> None:
        pool.shutting_down = True
        with self._lock:
            workers = [w for w in pool.workers.values() if w.alive]
        for w in workers:
            self._hub.send(w.cid, ("shutdown", None, {}))
        if not pool.ended.wait(wait_s):
            log.warning("horovod: pool %d did not stop in %.0fs; terminating its processes", pool.number, wait_s)
            pool.stop_event.set()
            if not pool.ended.wait(15.0) and pool.spark_group:
                log.warning("horovod: cancelling the pool's Spark job %s", pool.spark_group)
                self.sc.cancelJobGroup(pool.spark_group)
        if pool.thread is not None:
            pool.thread.join(5.0)

    def _ensure_pool(self, restart_if_degraded: bool) -> None:
        with self._lock:
            pool = self._pool
        if pool is None or pool.ended.is_set():
            if pool is not None:
                self._stop_pool(pool, wait_s=5.0)
            self._start_pool()
            return
        if restart_if_degraded and pool.alive_count() < self.workers:
            log.warning("horovod: pool %d has %d of %d workers; restarting it", pool.number,
                        pool.alive_count(), self.workers)
            self._stop_pool(pool)
            self._start_pool()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with self._lock:
            pool = self._pool
        if pool is not None and not pool.ended.is_set():
            self._stop_pool(pool)
        if self._hub is not None:
            self._hub.close()
            self._hub = None

    def worker_pids(self) -> List[int]:
        with self._lock:
            pool = self._pool
            return sorted(w.pid for w in pool.workers.values() if w.alive) if pool else []

    # ------------------------------------------------------------------ hub callbacks
    def _on_message(self, cid: int, msg: Any) -> None:
        kind, key, info = msg
        if kind == "hello":
            with self._lock:
                pool = self._pool
                if pool is None or info.get("pool") != pool.number:
                    return
                rank = info["rank"]
                pool.workers[rank] = _Worker(rank, cid, info["pid"], info["host"], info["group"])
                self._cid_rank[cid] = rank
                if len(pool.workers) == self.workers:
                    pool.ready.set()
            return
        backend = self._backend
        if backend is not None:
            backend.on_worker_message(cid, kind, key, info)

    def _on_close(self, cid: int) -> None:
        with self._lock:
            rank = self._cid_rank.pop(cid, None)
            pool = self._pool
            if rank is None or pool is None or pool.workers.get(rank) is None or pool.workers[rank].cid != cid:
                return
            worker = pool.workers[rank]
            worker.alive = False
            quiet = pool.shutting_down
        if not quiet:
            log.warning("horovod: worker rank %d (pid %d) is gone", rank, worker.pid)
        backend = self._backend
        if backend is not None:
            backend.on_worker_lost(worker)

    # ------------------------------------------------------------------ run
    def run(self, tasks: Sequence[CandidateTask], train_fn: TrainFn,
            data: Mapping[str, Any]) -> Iterator[TaskOutcome]:
        if self._closed:
            raise RuntimeError("executor is closed")
        t0 = time.perf_counter()
        self._ensure_pool(restart_if_degraded=True)
        run_id = f"{uuid.uuid4().hex[:6]}-{next(self._run_seq)}"
        blob = dumps(("run", run_id, {"train_fn": train_fn, "data": dict(data), "faults": self.faults}))
        backend = _HorovodSlots(self, run_id, blob)
        self._backend = backend
        tracker = IterationTracker(tasks, self.policy, expect_started=True)
        label = f"[horovod {self.mode}] "
        stat = {"tasks": len(tasks), "blob_bytes": len(blob), "ensure_pool_s": round(time.perf_counter() - t0, 3)}
        try:
            yield from drive(tracker, backend, hold=(self.mode == "sync"), poll_s=self.poll_s, label=label)
        finally:
            backend.wait_idle(timeout_s=30.0)
            self._backend = None
            stat["wall_s"] = round(time.perf_counter() - t0, 3)
            stat["first_start_latency_s"] = backend.first_start_latency
            self.stats["iterations"].append(stat)


class _HorovodSlots(SlotBackend):
    """One iteration's view of the pool: slots are the worker groups."""

    def __init__(self, owner: HorovodExecutor, run_id: str, blob: bytes):
        self.owner = owner
        self.run_id = run_id
        self.blob = blob
        self.events: "queue.Queue" = queue.Queue()
        self._running: Dict[str, int] = {}  # attempt key -> group
        self._cancelled: set = set()
        self._t0 = time.perf_counter()
        self.first_start_latency: Optional[float] = None

    def _pool(self) -> _Pool:
        return self.owner._pool

    def free_slots(self) -> list:
        o = self.owner
        with o._lock:
            pool = o._pool
            if pool is None or pool.ended.is_set():
                return []
            return [g for g in range(len(o.groups)) if o._busy.get(g) is None and pool.group_alive(g)]

    def slot_name(self, slot) -> str:
        ranks = self.owner.groups[slot]
        return f"horovod-rank{ranks[0]}" if len(ranks) == 1 else f"horovod group {slot} (ranks {ranks})"

    def poll(self) -> None:
        o = self.owner
        with o._lock:
            pool = o._pool
            usable = pool is not None and not pool.ended.is_set() and any(
                pool.group_alive(g) for g in range(len(o.groups)))
            idle = all(v is None for v in o._busy.values())
        if not usable and idle:
            log.warning("horovod: no usable worker group left; restarting the pool")
            o._ensure_pool(restart_if_degraded=True)

    def launch(self, att, slot) -> None:
        o = self.owner
        with o._lock:
            pool = o._pool
            o._busy[slot] = att.key
            self._running[att.key] = slot
            members = [pool.workers[r] for r in o.groups[slot]]
        info = {"run_id": self.run_id, "task": att.task, "attempt": att.number, "group": slot,
                "ranks": o.groups[slot]}
        for w in members:
            if self.run_id not in w.runs:
                if o._hub.send(w.cid, self.blob):
                    w.runs.add(self.run_id)
            if not o._hub.send(w.cid, ("task", att.key, info)):
                self._terminal(att.key, ("error", att.key, {"error": f"worker rank {w.rank} unreachable",
                                                            "worker": _wname(w), "charge": False}))
                return

    def cancel(self, att) -> None:
        o = self.owner
        with o._lock:
            self._cancelled.add(att.key)
            group = self._running.get(att.key)
            members = [o._pool.workers[r] for r in o.groups[group]] if group is not None else []
        for w in members:
            o._hub.send(w.cid, ("cancel", att.key, {}))

    def _terminal(self, key: str, event: tuple) -> None:
        o = self.owner
        with o._lock:
            group = self._running.pop(key, None)
            if group is None:
                return
            if o._busy.get(group) == key:
                o._busy[group] = None
        self.events.put(event)

    def on_worker_message(self, cid: int, kind: str, key: Optional[str], info: dict) -> None:
        if key is None or key not in self._running:
            return
        if kind == "started":
            if self.first_start_latency is None:
                self.first_start_latency = round(time.perf_counter() - self._t0, 3)
            self.events.put(("started", key, info))
        elif kind == "progress":
            self.events.put(("progress", key, info))
        elif kind in ("done", "error", "cancelled"):
            if key in self._cancelled:  # whatever the worker made of it, we had given up on it
                kind = "cancelled"
            self._terminal(key, (kind, key, info))

    def on_worker_lost(self, worker: _Worker) -> None:
        o = self.owner
        with o._lock:
            key = o._busy.get(worker.group)
        if key is not None and key in self._running:
            if key in self._cancelled:
                self._terminal(key, ("cancelled", key, {}))
            else:
                self._terminal(key, ("error", key, {"error": f"worker process died (rank {worker.rank}, "
                                                             f"pid {worker.pid})", "worker": _wname(worker)}))

    def wait_idle(self, timeout_s: float) -> None:
        """Wait for cancelled candidates to wind down (cooperative), so the next iteration
        starts with every group free; a group still busy after that is left to finish."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self.owner._lock:
                if not self._running:
                    return
            time.sleep(0.02)
        log.warning("horovod: %d cancelled candidate(s) still running after %.0fs", len(self._running),
                    timeout_s)


def _wname(w: _Worker) -> str:
    return f"horovod-rank{w.rank}/pid{w.pid}"


# ---------------------------------------------------------------------- shutdown events
# horovod.runner.gloo_run installs SIGINT/SIGTERM handlers to make its shutdown
# event, which only works in the main thread; our pool runs in a background
# thread. Give each pool thread its own event instead (setting it terminates
# that pool's worker processes).
_SHUTDOWN_EVENTS: Dict[int, threading.Event] = {}


def _install_shutdown_event_patch() -> None:
    import horovod.runner.gloo_run as gloo_run
    if getattr(gloo_run.register_shutdown_event, "_adanet", False):
        return
    original = gloo_run.register_shutdown_event

    def register_shutdown_event():
        event = _SHUTDOWN_EVENTS.get(threading.get_ident())
        if event is not None:
            return event
        if threading.current_thread() is threading.main_thread():
            return original()
        return threading.Event()

    register_shutdown_event._adanet = True
    gloo_run.register_shutdown_event = register_shutdown_event


# ---------------------------------------------------------------------- worker side
def _worker_main(conf: dict) -> int:
    """Runs in every Horovod process for the life of the pool."""
    import socket as _socket

    import horovod.torch as hvd
    import torch

    groups: List[List[int]] = conf["groups"]
    # Static process sets for the data-parallel groups (identical list on every rank).
    # A group of every rank uses the global set (Horovod refuses a duplicate of it).
    process_sets = {tuple(g): hvd.ProcessSet(g) for g in groups if 1 < len(g) < conf["workers"]}
    hvd.init(process_sets=list(process_sets.values()) or None)
    rank, size_all = hvd.rank(), hvd.size()
    if conf.get("threads"):
        torch.set_num_threads(int(conf["threads"]))
    group = next((i for i, g in enumerate(groups) if rank in g), -1)
    members = groups[group] if group >= 0 else [rank]
    if tuple(members) in process_sets and len(members) < size_all:
        pset = process_sets[tuple(members)]
    else:
        pset = hvd.global_process_set
    grank, gsize = members.index(rank), len(members)
    worker = f"horovod-rank{rank}/pid{os.getpid()}"

    link = Link(conf["hub"], conf["authkey"], timeout_s=30.0)
    link.send(("hello", None, {"rank": rank, "pid": os.getpid(), "host": _socket.gethostname(),
                               "group": group, "pool": conf["pool"]}))
    inbox: "queue.Queue" = queue.Queue()
    cancelled: set = set()

    def reader() -> None:
        try:
            while True:
                msg = link.recv()
                kind, key, info = msg
                if kind == "cancel":
                    cancelled.add(key)
                else:
                    inbox.put(msg)
                    if kind == "shutdown":
                        break
        except Exception:  # the driver is gone
            inbox.put(("shutdown", None, {}))
        # Leave even if the main thread is stuck (e.g. in a collective with a dead peer).
        time.sleep(float(conf.get("exit_grace_s", 5.0)))
        os._exit(0)

    threading.Thread(target=reader, name="adanet-link", daemon=True).start()
    runs: Dict[str, dict] = {}
    cache: Dict[Any, Any] = {}

    while True:
        kind, key, info = inbox.get()
        if kind == "shutdown":
            break
        if kind == "run":
            runs.clear()  # one iteration at a time: drop the previous train_fn
            runs[key] = info
            continue
        if kind != "task":
            continue
        run = runs.get(info["run_id"])
        task: CandidateTask = info["task"]
        if run is None:
            link.send(("error", key, {"error": "worker has no train_fn for this run", "worker": worker,
                                      "charge": False}))
            continue
        try:  # load (or reuse) the splits first: the candidate's clock starts with its training
            data = _preload(_cached(run["data"], cache))
        except Exception as exc:
            link.send(("error", key, {"error": f"loading data: {format_error(exc)}", "worker": worker,
                                      "trace": traceback.format_exc(limit=8)}))
            continue
        link.send(("started", key, {"worker": worker}))
        last = [0.0]

        def report_progress(fraction: float, _key=key) -> None:
            now = time.monotonic()
            if grank == 0 and (now - last[0] >= PROGRESS_EVERY_S or fraction >= 1.0):
                last[0] = now
                link.send(("progress", _key, {"fraction": float(fraction)}))

        stopped = []  # set once should_stop() said yes: what follows is the cancel, not a failure
        if gsize > 1:
            def allreduce_(tensor, _ps=pset):
                # One tensor, or a list of tensors averaged in one grouped operation
                # (far fewer round trips than one allreduce per parameter).
                if isinstance(tensor, (list, tuple)):
                    hvd.grouped_allreduce_(list(tensor), op=hvd.Average, process_set=_ps)
                else:
                    hvd.allreduce_(tensor, op=hvd.Average, process_set=_ps)

            def should_stop(_key=key, _ps=pset, _stopped=stopped) -> bool:
                # Agreed across the group, so every member stops after the same step.
                flag = torch.tensor([1.0 if _key in cancelled else 0.0])
                stop = bool(hvd.allreduce(flag, op=hvd.Max, process_set=_ps).item() > 0)
                if stop:
                    _stopped.append(True)
                return stop
        else:
            allreduce_ = None

            def should_stop(_key=key, _stopped=stopped) -> bool:
                if _key in cancelled:
                    _stopped.append(True)
                    return True
                return False

        ctx = TrainContext(rank=grank, size=gsize, allreduce_=allreduce_, report_progress=report_progress,
                           should_stop=should_stop)
        t0 = time.perf_counter()
        try:
            result = run_attempt(run["train_fn"], task.payload, data, ctx, task,
                                 info["attempt"], rank, run["faults"], threads=conf.get("threads"),
                                 group_workers=info["ranks"])
        except Exception as exc:
            from adanet_spark.execution.faults import InjectedFault
            if stopped:  # train_fn gave up by raising once told to stop
                if grank == 0:
                    link.send(("cancelled", key, {"worker": worker}))
                continue
            internal = type(exc).__name__ == "HorovodInternalError"
            link.send(("error", key, {"error": format_error(exc), "trace": traceback.format_exc(limit=8),
                                      "worker": worker, "charge": not internal}))
            if gsize > 1 and not isinstance(exc, InjectedFault):
                # The other members may be waiting in a collective for us: leave, so the
                # driver sees the group is broken and restarts the pool.
                link.close()
                os._exit(3)
            continue
        if grank == 0:
            if key in cancelled:
                link.send(("cancelled", key, {"worker": worker}))
            else:
                link.send(("done", key, {"result": result, "worker": worker,
                                         "extra": {"train_s": round(time.perf_counter() - t0, 3)}}))
    link.send(("bye", None, {"rank": rank}))
    link.close()
    hvd.shutdown()
    return rank


class _CachedRef:
    """A data reference whose ``load()`` is remembered by the worker across candidates."""

    def __init__(self, ref: Any, cache: dict):
        self._ref = ref
        self._cache = cache

    def load(self):
        try:
            hash(self._ref)
        except TypeError:
            return self._ref.load()
        if self._ref not in self._cache:
            if len(self._cache) >= 4:  # another search's data: forget the old splits
                self._cache.clear()
            self._cache[self._ref] = self._ref.load()
        return self._cache[self._ref]

    def __getattr__(self, name):
        return getattr(self._ref, name)


def _preload(data: Dict[str, Any]) -> Dict[str, Any]:
    for v in data.values():
        if isinstance(v, _CachedRef):
            v.load()
    return data


def _cached(data: Mapping[str, Any], cache: dict) -> Dict[str, Any]:
    from adanet_spark.data.tensors import TensorData
    return {k: (v if isinstance(v, TensorData) or not hasattr(v, "load") else _CachedRef(v, cache))
            for k, v in data.items()}

