"""Pool bookkeeping without starting Horovod: workers joining and leaving, the environment."""
from __future__ import annotations

import os
import threading

from adanet_spark.execution.horovod.pool import (SHUTDOWN_EVENTS, PoolKeeper, PoolSettings, WorkerPool,
                                                 install_shutdown_event_patch, worker_env)
from adanet_spark.paths import REPO_ROOT


def keeper(workers=2, groups=([0], [1])):
    stats = {"pool_starts": 0, "pool_start_s": [], "iterations": []}
    k = PoolKeeper(None, PoolSettings(workers, [list(g) for g in groups]), threading.RLock(), stats,
                   on_message=lambda cid, msg: None, on_close=lambda cid: None)
    k.pool = WorkerPool(1, k.settings)
    return k


def hello(rank, group, pool=1):
    return {"rank": rank, "pid": 100 + rank, "host": "h", "group": group, "pool": pool}


def test_pool_is_ready_when_every_worker_said_hello():
    k = keeper()
    k.register(10, hello(0, 0))
    assert not k.pool.ready.is_set()
    k.register(11, hello(1, 1, pool=0))  # a late worker of an earlier pool: ignored
    assert not k.pool.ready.is_set()
    k.register(12, hello(1, 1))
    assert k.pool.ready.is_set() and k.is_ready()
    assert [w.name for w in k.pool.members(1)] == ["horovod-rank1/pid101"]


def test_a_lost_connection_marks_its_worker_and_group_dead():
    k = keeper(groups=([0, 1],))
    k.register(10, hello(0, 0))
    k.register(11, hello(1, 0))
    assert k.pool.group_alive(0) and k.pool.usable()
    assert k.lost(99) is None  # not a worker's connection
    gone = k.lost(11)
    assert gone.rank == 1 and not gone.alive
    assert not k.pool.group_alive(0) and not k.pool.usable() and k.pool.alive_count() == 1
    assert k.lost(11) is None  # reported once


def test_worker_env_makes_the_repository_importable():
    env = worker_env(threads=3)
    assert env["PYTHONPATH"].split(os.pathsep)[0] == REPO_ROOT and env["OMP_NUM_THREADS"] == "3"


def test_each_pool_thread_gets_its_own_shutdown_event():
    import horovod.runner.gloo_run as gloo_run
    install_shutdown_event_patch()
    install_shutdown_event_patch()  # idempotent
    mine = threading.Event()
    seen = []

    def pool_thread():
        SHUTDOWN_EVENTS[threading.get_ident()] = mine
        try:
            seen.append(gloo_run.register_shutdown_event())
        finally:
            SHUTDOWN_EVENTS.pop(threading.get_ident(), None)

    t = threading.Thread(target=pool_thread)
    t.start()
    t.join()
    assert seen == [mine]
