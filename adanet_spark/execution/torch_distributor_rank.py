"""Inside a TorchDistributor run: the Spark task that starts torchrun, and each rank it starts.

:func:`launch_ranks` runs in the barrier Spark task (the executor's Python
worker) in place of TorchDistributor's own launcher. It hands torchrun's
processes this worker's import path: Spark puts the ``--py-files`` zip on the
worker's ``sys.path`` (relative to the executor's working directory), not on
``PYTHONPATH``, and torchrun runs its script from a temporary folder, so the
ranks would not find the package otherwise. (Spark never retries a failed
barrier result stage: the job fails, and the driver's tracker retries the
attempt.)

:func:`run_rank` is what each rank process runs: it joins the group's gloo
process group (``group_size`` > 1; TorchDistributor sets ``MASTER_ADDR`` /
``RANK`` / ``WORLD_SIZE``), loads the splits through the process's split cache,
and calls ``train_fn`` with ``TrainContext(rank, size, allreduce_)``. Rank 0
talks to the driver's hub (``started``, progress, the cancel) like a spark
backend task; the group agrees on the cancel so every rank stops after the
same step. Errors of ``train_fn`` come back as values; only a dead process fails
the Spark job.
"""
from __future__ import annotations

import os
import sys
import time
import traceback
from typing import Any, Callable, List, Optional

from adanet_spark.adanet.protocol import TrainContext
from adanet_spark.execution import split_cache
from adanet_spark.execution.attempt import format_error, run_attempt
from adanet_spark.execution.faults import InjectedFault
from adanet_spark.execution.spark_task import TaskLink

def launch_ranks(input_params: dict, train_path: str, *args: Any, **kwargs: Any) -> None:
    """TorchDistributor's ``run_pytorch_file_fn``, in the Spark task: torchrun with this
    worker's import path in its environment."""
    from pyspark.ml.torch.distributor import TorchDistributor

    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = worker_pythonpath()  # TorchDistributor starts torchrun with os.environ
    try:
        TorchDistributor._run_training_on_pytorch_file(input_params, train_path, *args, **kwargs)
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved


def worker_pythonpath() -> str:
    """This process's import path as absolute folders and archives, for child processes:
    the entries the child's interpreter finds by itself (the standard library, the
    environment's site-packages) are left out."""
    own = tuple(os.path.join(p, "") for p in {sys.prefix, sys.base_prefix, sys.exec_prefix})
    entries = []
    for p in sys.path:
        full = os.path.abspath(p or os.curdir)
        if os.path.exists(full) and not os.path.join(full, "").startswith(own):
            entries.append(full)
    entries += [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return os.pathsep.join(dict.fromkeys(entries))


def run_rank(spec: dict) -> dict:
    """One rank of one attempt: ``{"ok", "result" | "error", "pid", "elapsed"}`` (TorchDistributor
    returns rank 0's)."""
    rank, size = int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))
    if size > 1:
        join_group()
    link = TaskLink(spec) if rank == 0 else None
    stopped: List[bool] = []
    t0 = time.perf_counter()
    try:
        try:  # the candidate's clock starts after the splits are loaded
            data = split_cache.preload(split_cache.cached(spec["data"]))
        finally:
            if link is not None:
                link.mark_loaded()
        ctx = rank_context(rank, size, link, stopped)
        first = spec["slot"] * size  # workers are numbered like Horovod ranks: group g holds g*size..
        result = run_attempt(spec["train_fn"], spec["payload"], data, ctx, spec["task"], spec["attempt"], first + rank,
                             spec["faults"], threads=spec["threads"],
                             group_workers=list(range(first, first + size)) if size > 1 else None)
        return {"ok": True, "result": result, "pid": os.getpid(), "elapsed": time.perf_counter() - t0}
    except Exception as exc:
        if size > 1 and not stopped and not isinstance(exc, InjectedFault):
            # The other ranks may wait for this one in a collective: leave, so torchrun
            # ends the group and the job fails (the attempt is retried).
            traceback.print_exc()
            os._exit(3)
        return {"ok": False, "error": format_error(exc), "trace": traceback.format_exc(limit=8),
                "pid": os.getpid(), "elapsed": time.perf_counter() - t0}
    finally:
        if link is not None:
            link.close()
        if size > 1:
            leave_group()


def join_group() -> None:
    import torch.distributed as dist
    if not dist.is_initialized():
        dist.init_process_group(backend="gloo")


def leave_group() -> None:
    import torch.distributed as dist
    if dist.is_initialized():
        dist.destroy_process_group()


def rank_context(rank: int, size: int, link: Optional[TaskLink], stopped: List[bool]) -> TrainContext:
    """Rank/size of the group, its allreduce, rank 0's progress, and a cancel the group agrees on."""
    def should_stop() -> bool:
        mine = link is not None and link.stop.is_set()
        stop = group_agrees(mine) if size > 1 else mine
        if stop:
            stopped.append(True)
        return stop

    report: Callable[..., None] = link.report_progress if link is not None else (lambda *a, **k: None)
    return TrainContext(rank=rank, size=size, allreduce_=average_in_place(size) if size > 1 else None,
                        report_progress=report, should_stop=should_stop)


def average_in_place(size: int) -> Callable[[Any], None]:
    """``ctx.allreduce_``: the group's average, in place; a list of tensors goes in one
    flattened operation (one round trip per step, not one per parameter)."""
    import torch
    import torch.distributed as dist

    def allreduce_(tensor: Any) -> None:
        tensors = list(tensor) if isinstance(tensor, (list, tuple)) else [tensor]
        with torch.no_grad():
            if len(tensors) == 1:
                dist.all_reduce(tensors[0])
                tensors[0].div_(size)
                return
            flat = torch.cat([t.reshape(-1).to(tensors[0].dtype) for t in tensors])
            dist.all_reduce(flat)
            flat.div_(size)
            offset = 0
            for t in tensors:
                t.copy_(flat[offset:offset + t.numel()].view_as(t))
                offset += t.numel()
    return allreduce_


def group_agrees(flag: bool) -> bool:
    """True on every rank if it is true on any."""
    import torch
    import torch.distributed as dist
    t = torch.tensor([1.0 if flag else 0.0])
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)
