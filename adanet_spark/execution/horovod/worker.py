"""The Horovod worker: one process of the pool, training candidates until told to stop.

Each worker joins Horovod (with a process set per data-parallel group),
connects to the executor's hub, and loops: take a ``run`` (the iteration's
``train_fn``, data references and faults), then its ``task``\\ s, one at a time,
sending ``started``, ``progress`` and the result (``done`` / ``error`` /
``cancelled``) back. A reader thread takes the cancels as they come, so a
running candidate sees them through ``ctx.should_stop()``.
"""
from __future__ import annotations

import os
import queue
import socket
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from adanet_spark.adanet.protocol import CandidateTask, TrainContext
from adanet_spark.execution import split_cache
from adanet_spark.execution.attempt import format_error, run_attempt
from adanet_spark.execution.channel import Link, progress_info
from adanet_spark.execution.faults import InjectedFault

PROGRESS_EVERY_S = 0.2  # at most this often: the policy needs a rate, not every step


@dataclass
class Membership:
    """Where this worker stands: its global rank, its group and the group's process set."""

    rank: int
    group: int  # -1: a rank left over by the layout (idle)
    members: List[int]
    process_set: Any  # a horovod ProcessSet
    cancelled: set = field(default_factory=set)  # attempt keys the driver gave up on

    @property
    def group_rank(self) -> int:
        return self.members.index(self.rank)

    @property
    def group_size(self) -> int:
        return len(self.members)

    @property
    def name(self) -> str:
        return f"horovod-rank{self.rank}/pid{os.getpid()}"


def worker_main(conf: dict) -> int:
    """Runs in every Horovod process for the life of the pool."""
    import horovod.torch as hvd
    me = join_horovod(conf)
    link = connect(conf, me)
    inbox: "queue.Queue" = queue.Queue()
    start_reader(link, inbox, me.cancelled, float(conf.get("exit_grace_s", 5.0)))
    runs: Dict[str, dict] = {}
    while True:
        kind, key, info = inbox.get()
        if kind == "shutdown":
            break
        if kind == "run":
            runs.clear()  # one iteration at a time: drop the previous train_fn
            runs[key] = info
        elif kind == "task":
            run_task(me, link, runs.get(info["run_id"]), key, info, conf.get("threads"))
    link.send(("bye", None, {"rank": me.rank}))
    link.close()
    hvd.shutdown()
    return me.rank


def join_horovod(conf: dict) -> Membership:
    """``hvd.init`` with static process sets for the data-parallel groups (the same list on
    every rank); a group of every rank uses the global set (Horovod refuses a duplicate)."""
    import horovod.torch as hvd
    import torch
    groups: List[List[int]] = conf["groups"]
    process_sets = {tuple(g): hvd.ProcessSet(g) for g in groups if 1 < len(g) < conf["workers"]}
    hvd.init(process_sets=list(process_sets.values()) or None)
    rank = hvd.rank()
    if conf.get("threads"):
        torch.set_num_threads(int(conf["threads"]))
    group = next((i for i, g in enumerate(groups) if rank in g), -1)
    members = groups[group] if group >= 0 else [rank]
    own = tuple(members) in process_sets and len(members) < hvd.size()
    return Membership(rank, group, members, process_sets[tuple(members)] if own else hvd.global_process_set)


def connect(conf: dict, me: Membership) -> Link:
    link = Link(conf["hub"], conf["authkey"], timeout_s=30.0)
    link.send(("hello", None, {"rank": me.rank, "pid": os.getpid(), "host": socket.gethostname(),
                               "group": me.group, "pool": conf["pool"]}))
    return link


def start_reader(link: Link, inbox: "queue.Queue", cancelled: set, exit_grace_s: float) -> None:
    """Cancels go straight to ``cancelled`` (read while a candidate trains); the rest to ``inbox``."""
    def reader() -> None:
        try:
            while True:
                msg = link.recv()
                if msg[0] == "cancel":
                    cancelled.add(msg[1])
                    continue
                inbox.put(msg)
                if msg[0] == "shutdown":
                    break
        except Exception:  # the driver is gone
            inbox.put(("shutdown", None, {}))
        # Leave even if the main thread is stuck (e.g. in a collective with a dead peer).
        time.sleep(exit_grace_s)
        os._exit(0)

    threading.Thread(target=reader, name="adanet-link", daemon=True).start()


def run_task(me: Membership, link: Link, run: Optional[dict], key: str, info: dict,
             threads: Optional[int]) -> None:
    """One attempt: load the splits, train, report. Never raises (except to leave the process)."""
    if run is None:
        link.send(("error", key, {"error": "worker has no train_fn for this run", "worker": me.name,
                                  "charge": False}))
        return
    try:  # load (or reuse) the splits first: the candidate's clock starts with its training
        data = split_cache.preload(split_cache.cached(run["data"]))
    except Exception as exc:
        link.send(("error", key, {"error": f"loading data: {format_error(exc)}", "worker": me.name,
                                  "trace": traceback.format_exc(limit=8)}))
        return
    link.send(("started", key, {"worker": me.name}))
    stopped: list = []  # set once should_stop() said yes: what follows is the cancel, not a failure
    ctx = build_context(me, link, key, stopped)
    task: CandidateTask = info["task"]
    t0 = time.perf_counter()
    try:
        result = run_attempt(run["train_fn"], task.payload, data, ctx, task, info["attempt"], me.rank,
                             run["faults"], threads=threads, group_workers=info["ranks"])
    except Exception as exc:
        report_failure(me, link, key, exc, stopped)
        return
    if me.group_rank == 0:  # one answer per group
        if key in me.cancelled:
            link.send(("cancelled", key, {"worker": me.name}))
        else:
            link.send(("done", key, {"result": result, "worker": me.name,
                                     "extra": {"train_s": round(time.perf_counter() - t0, 3)}}))


def report_failure(me: Membership, link: Link, key: str, exc: Exception, stopped: list) -> None:
    if stopped:  # train_fn gave up by raising once told to stop
        if me.group_rank == 0:
            link.send(("cancelled", key, {"worker": me.name}))
        return
    # A Horovod internal error is the group's collective breaking under us (a peer
    # died): the candidate was a bystander, so the attempt is not charged.
    internal = type(exc).__name__ == "HorovodInternalError"
    link.send(("error", key, {"error": format_error(exc), "trace": traceback.format_exc(limit=8),
                              "worker": me.name, "charge": not internal}))
    if me.group_size > 1 and not isinstance(exc, InjectedFault):
        # The other members may be waiting in a collective for us: leave, so the
        # driver sees the group is broken and restarts the pool.
        link.close()
        os._exit(3)


def build_context(me: Membership, link: Link, key: str, stopped: list) -> TrainContext:
    """The candidate's TrainContext: group rank/size, allreduce on the group's process set,
    throttled progress (group rank 0 only) and a cancel flag agreed across the group."""
    last = [0.0]

    def report_progress(fraction: float, valid_loss: Optional[float] = None) -> None:
        now = time.monotonic()
        due = now - last[0] >= PROGRESS_EVERY_S or fraction >= 1.0 or valid_loss is not None
        if me.group_rank == 0 and due:
            last[0] = now
            link.send(("progress", key, progress_info(fraction, valid_loss)))

    def should_stop() -> bool:
        stop = group_agrees(me, key in me.cancelled) if me.group_size > 1 else key in me.cancelled
        if stop:
            stopped.append(True)
        return stop

    allreduce_ = group_allreduce(me.process_set) if me.group_size > 1 else None
    return TrainContext(rank=me.group_rank, size=me.group_size, allreduce_=allreduce_,
                        report_progress=report_progress, should_stop=should_stop)


def group_allreduce(process_set):
    """Average in place over the group: one tensor, or a list in one grouped operation
    (far fewer round trips than one allreduce per parameter)."""
    import horovod.torch as hvd

    def allreduce_(tensor) -> None:
        if isinstance(tensor, (list, tuple)):
            hvd.grouped_allreduce_(list(tensor), op=hvd.Average, process_set=process_set)
        else:
            hvd.allreduce_(tensor, op=hvd.Average, process_set=process_set)
    return allreduce_


def group_agrees(me: Membership, flag: bool) -> bool:
    """True on every member if it is true on any: all members stop after the same step."""
    import horovod.torch as hvd
    import torch
    mine = torch.tensor([1.0 if flag else 0.0])
    return bool(hvd.allreduce(mine, op=hvd.Max, process_set=me.process_set).item() > 0)
