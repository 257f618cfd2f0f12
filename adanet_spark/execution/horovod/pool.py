"""The Horovod worker pool of one executor: start it, stop it, restart it when broken.

A pool is one ``horovod.spark.run`` (Gloo controller) running in a background
driver thread, its ``workers`` processes each holding one Spark task slot and
one connection to the executor's hub. It is started once per executor, i.e.
once per search; :class:`PoolKeeper` starts a new one when the old one has
ended (a worker died and took the Horovod job with it) or, between
iterations, when it is short of workers.
"""
from __future__ import annotations

import itertools
import logging
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

from adanet_spark.execution.attempt import format_error
from adanet_spark.execution.channel import Hub
from adanet_spark.execution.horovod.worker import worker_main
from adanet_spark.paths import REPO_ROOT

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PoolSettings:
    """What every pool of one executor is started with."""

    workers: int
    groups: List[List[int]]  # ranks of each worker group
    threads: int = 1  # torch / OpenMP threads per worker
    start_timeout_s: float = 180.0
    verbose: int = 0


@dataclass
class PoolWorker:
    rank: int
    cid: int  # its hub connection
    pid: int
    host: str
    group: int
    alive: bool = True
    runs: set = field(default_factory=set)  # run ids whose train_fn/data it holds

    @property
    def name(self) -> str:
        return f"horovod-rank{self.rank}/pid{self.pid}"


class WorkerPool:
    """One run of the workers. ``busy`` maps each group to the attempt key it trains (or None)."""

    def __init__(self, number: int, settings: PoolSettings):
        self.number = number
        self.settings = settings
        self.workers: Dict[int, PoolWorker] = {}  # rank -> worker
        self.busy: Dict[int, Optional[str]] = {g: None for g in range(len(settings.groups))}
        self.ready = threading.Event()  # every worker said hello
        self.ended = threading.Event()  # horovod.spark.run returned
        self.stop_event = threading.Event()  # set: Horovod terminates the processes
        self.error: Optional[str] = None
        self.started_s = 0.0
        self.shutting_down = False
        self.spark_group: Optional[str] = None  # the Spark job group of its tasks
        self.thread: Optional[threading.Thread] = None

    def group_alive(self, g: int) -> bool:
        return all(r in self.workers and self.workers[r].alive for r in self.settings.groups[g])

    def alive_count(self) -> int:
        return sum(1 for w in self.workers.values() if w.alive)

    def usable(self) -> bool:
        return not self.ended.is_set() and any(self.group_alive(g) for g in range(len(self.settings.groups)))

    def members(self, g: int) -> List[PoolWorker]:
        return [self.workers[r] for r in self.settings.groups[g]]


class PoolKeeper:
    """Starts, stops and restarts the pool; owns the hub the workers connect to.

    ``lock`` is the executor's: pool state is read and written by the hub's reader
    threads, the driver loop and the pool thread alike.
    """

    def __init__(self, sc, settings: PoolSettings, lock: threading.RLock, stats: Dict[str, Any],
                 on_message: Callable[[int, Any], None], on_close: Callable[[int], None],
                 max_pool_starts: int = 5):
        self.sc = sc
        self.settings = settings
        self.lock = lock
        self.stats = stats
        self.max_pool_starts = max_pool_starts
        self.pool: Optional[WorkerPool] = None
        self.hub: Optional[Hub] = None
        self._callbacks = (on_message, on_close)
        self._numbers = itertools.count(1)
        self._cid_rank: Dict[int, int] = {}

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Start a new pool and wait until every worker has connected (RuntimeError if not)."""
        if self.stats["pool_starts"] >= self.max_pool_starts:
            raise RuntimeError(f"horovod: gave up after {self.max_pool_starts} worker pool starts")
        if self.hub is None:  # opened on first use: an executor refused by its checks holds no socket
            self.hub = Hub(*self._callbacks, advertise_host=self.sc.getConf().get("spark.driver.host", None))
        pool = WorkerPool(next(self._numbers), self.settings)
        with self.lock:
            self.pool = pool
        self.stats["pool_starts"] += 1
        t0 = time.perf_counter()
        log.info("horovod: starting worker pool %d (%d workers, groups %s)", pool.number, self.settings.workers,
                 self.settings.groups)
        pool.thread = threading.Thread(target=self._main, args=(pool,), name=f"adanet-horovod-pool{pool.number}",
                                       daemon=True)
        pool.thread.start()
        self._wait_ready(pool)
        pool.started_s = time.perf_counter() - t0
        pool.spark_group = _horovod_job_group()
        self.stats["pool_start_s"].append(round(pool.started_s, 3))
        log.info("horovod: worker pool %d ready in %.1fs (pids %s)", pool.number, pool.started_s,
                 sorted(w.pid for w in pool.workers.values()))

    def _wait_ready(self, pool: WorkerPool) -> None:
        deadline = time.monotonic() + self.settings.start_timeout_s
        while not pool.ready.wait(0.2):
            if pool.ended.is_set() or time.monotonic() > deadline:
                why = pool.error or f"workers did not all connect within {self.settings.start_timeout_s:.0f}s"
                self.stop(pool, wait_s=10.0)
                raise RuntimeError(f"horovod: worker pool {pool.number} failed to start: {why}")

    def _main(self, pool: WorkerPool) -> None:
        """The pool thread: ``horovod.spark.run`` returns when every worker has exited."""
        import horovod.spark
        install_shutdown_event_patch()
        s = self.settings
        conf = {"hub": self.hub.address, "authkey": self.hub.authkey, "groups": s.groups, "workers": s.workers,
                "threads": s.threads, "pool": pool.number}
        SHUTDOWN_EVENTS[threading.get_ident()] = pool.stop_event
        try:
            horovod.spark.run(worker_main, args=(conf,), num_proc=s.workers, env=worker_env(s.threads, self.sc),
                              verbose=s.verbose, start_timeout=int(s.start_timeout_s), use_gloo=True)
            log.info("horovod: worker pool %d ended", pool.number)
        except BaseException as exc:  # a worker died, or we stopped the pool
            pool.error = format_error(exc)
            level = logging.INFO if pool.shutting_down else logging.WARNING
            log.log(level, "horovod: worker pool %d ended: %s", pool.number, pool.error.splitlines()[0])
        finally:
            SHUTDOWN_EVENTS.pop(threading.get_ident(), None)
            with self.lock:
                for w in pool.workers.values():
                    w.alive = False
            pool.ended.set()

    def stop(self, pool: WorkerPool, wait_s: float = 30.0) -> None:
        """Ask the workers to leave; terminate them, then cancel their Spark job, if they do not."""
        pool.shutting_down = True
        with self.lock:
            workers = [w for w in pool.workers.values() if w.alive]
        for w in workers:
            self.hub.send(w.cid, ("shutdown", None, {}))
        if not pool.ended.wait(wait_s):
            log.warning("horovod: pool %d did not stop in %.0fs; terminating its processes", pool.number, wait_s)
            pool.stop_event.set()
            if not pool.ended.wait(15.0) and pool.spark_group:
                log.warning("horovod: cancelling the pool's Spark job %s", pool.spark_group)
                self.sc.cancelJobGroup(pool.spark_group)
        if pool.thread is not None:
            pool.thread.join(5.0)

    def ensure(self, restart_if_degraded: bool) -> None:
        """A running pool: a new one if it has ended, or (asked to) if it is short of workers."""
        with self.lock:
            pool = self.pool
        if pool is None or pool.ended.is_set():
            if pool is not None:
                self.stop(pool, wait_s=5.0)
            self.start()
            return
        if restart_if_degraded and pool.alive_count() < self.settings.workers:
            log.warning("horovod: pool %d has %d of %d workers; restarting it", pool.number, pool.alive_count(),
                        self.settings.workers)
            self.stop(pool)
            self.start()

    def is_ready(self) -> bool:
        pool = self.pool
        return pool is not None and not pool.ended.is_set() and pool.ready.is_set()

    def close(self) -> None:
        with self.lock:
            pool = self.pool
        if pool is not None and not pool.ended.is_set():
            self.stop(pool)
        if self.hub is not None:
            self.hub.close()
            self.hub = None

    # ------------------------------------------------------------------ connections
    def register(self, cid: int, info: dict) -> None:
        """A worker's hello: it belongs to the current pool unless it is a late one of an old pool."""
        with self.lock:
            pool = self.pool
            if pool is None or info.get("pool") != pool.number:
                return
            rank = info["rank"]
            pool.workers[rank] = PoolWorker(rank, cid, info["pid"], info["host"], info["group"])
            self._cid_rank[cid] = rank
            if len(pool.workers) == self.settings.workers:
                pool.ready.set()

    def lost(self, cid: int) -> Optional[PoolWorker]:
        """A connection closed: the current pool's worker that is gone, if it was one."""
        with self.lock:
            rank = self._cid_rank.pop(cid, None)
            pool = self.pool
            worker = pool.workers.get(rank) if pool is not None and rank is not None else None
            if worker is None or worker.cid != cid:
                return None
            worker.alive = False
        if not pool.shutting_down:
            log.warning("horovod: worker rank %d (pid %d) is gone", rank, worker.pid)
        return worker


def worker_env(threads: int, sc=None) -> dict:
    """The workers' environment: the package importable, one OpenMP pool of ``threads``.

    On a local master the workers import it as this process does (the repository). On
    a cluster they import the ``--py-files`` that Spark placed in their executor's working
    directory, where Horovod starts them (relative names, made absolute by their Python),
    never the driver's copies or the repository."""
    env = dict(os.environ)
    shipped = shipped_py_files(sc)
    if shipped:
        env["PYTHONPATH"] = os.pathsep.join(shipped)
    else:
        paths = [REPO_ROOT] + [p for p in sys.path if p and os.path.isdir(p)]
        env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths + env.get("PYTHONPATH", "").split(os.pathsep)))
    env.setdefault("HOROVOD_LOG_LEVEL", "warning")
    env["OMP_NUM_THREADS"] = str(threads or 1)
    return env


def shipped_py_files(sc) -> List[str]:
    """The file names of ``spark.submit.pyFiles`` on a non-local master (none on local[N])."""
    if sc is None or (sc.master or "").startswith("local"):
        return []
    files = sc.getConf().get("spark.submit.pyFiles", "") or ""
    return [os.path.basename(f) for f in files.split(",") if f.strip()]


def _horovod_job_group() -> Optional[str]:
    """The Spark job group horovod.spark.run gave the pool's tasks (for a last-resort cancel)."""
    try:
        from horovod.spark.driver import job_id
        return f"horovod.spark.run.{job_id.JOB_ID}"
    except Exception:  # an internal of Horovod: without it, stop() only has the shutdown event
        return None


# ---------------------------------------------------------------------- shutdown events
# horovod.runner.gloo_run installs SIGINT/SIGTERM handlers to make its shutdown
# event, which only works in the main thread; our pool runs in a background
# thread. Give each pool thread its own event instead (setting it terminates
# that pool's worker processes).
SHUTDOWN_EVENTS: Dict[int, threading.Event] = {}


def install_shutdown_event_patch() -> None:
    # Also: horovod.spark.run asks gloo_built(), which forks this driver to try the extension; the
    # child's exit shuts the driver's Py4J sockets (a ConnectionResetError traceback in the log).
    import horovod.runner.launch as launch, horovod.spark.runner as runner, horovod.torch  # noqa: E401
    built = bool(horovod.torch.gloo_built())
    runner.gloo_built = launch.gloo_built = lambda verbose=False: built
    import horovod.runner.gloo_run as gloo_run
    if getattr(gloo_run.register_shutdown_event, "_adanet", False):
        return
    original = gloo_run.register_shutdown_event

    def register_shutdown_event():
        event = SHUTDOWN_EVENTS.get(threading.get_ident())
        if event is not None:
            return event
        if threading.current_thread() is threading.main_thread():
            return original()
        return threading.Event()

    register_shutdown_event._adanet = True
    gloo_run.register_shutdown_event = register_shutdown_event
