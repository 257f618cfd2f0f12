"""TorchDistributor backend: every candidate is its own ``TorchDistributor`` run.

Databricks Runtime 16+ ML ships no Horovod; its distributed PyTorch is pyspark's
own ``pyspark.ml.torch.distributor.TorchDistributor``. Each attempt here is one
``TorchDistributor(num_processes=group_size, local_mode=False, use_gpu).run(...)``:
a barrier Spark job of ``group_size`` tasks, each starting torchrun for one rank
(:mod:`.torch_distributor_rank`). With ``group_size`` > 1 the ranks train the
candidate data-parallel, torch DDP-style over gloo.

The asynchronous semantics are the spark backend's (the same
:class:`~adanet_spark.execution.spark.SparkSlots` and driver loop): each attempt
is launched from its own driver thread in its own Spark job group ("iteration 3 /
candidate deeper-d3-w64"), candidates never wait for each other, the quorum and
deadline apply, and a dropped candidate is told to stop through the driver's hub
and its job group is cancelled. ``training.workers // group_size`` candidates run
at once.
"""
from __future__ import annotations

import logging
from typing import Optional

from pyspark.ml.torch.distributor import TorchDistributor

from adanet_spark.adanet.protocol import TrainFn
from adanet_spark.errors import BadInputError
from adanet_spark.execution.faults import FaultPlan
from adanet_spark.execution.spark import SparkExecutor, SparkSlots
from adanet_spark.execution.stragglers import StragglerPolicy
from adanet_spark.execution.torch_distributor_rank import launch_ranks, run_rank

log = logging.getLogger(__name__)


class TorchDistributorExecutor(SparkExecutor):
    """Candidates as concurrent TorchDistributor runs of ``group_size`` ranks each.

    ``workers``: Spark task slots to train on (``workers // group_size`` candidates at
    once); ``use_gpu``: TorchDistributor's GPU scheduling (``spark.task.resource.gpu.amount``
    must be set on the cluster).
    """

    name = "torch_distributor"

    def __init__(self, spark=None, workers: int = 2, group_size: int = 1, use_gpu: bool = False,
                 mode: str = "async", policy: Optional[StragglerPolicy] = None, max_retries: int = 1,
                 faults: Optional[FaultPlan] = None, threads_per_worker: int = 1, progress: bool = True,
                 poll_s: float = 0.05):
        size = max(1, min(int(group_size), int(workers)))
        super().__init__(spark, workers=int(workers) // size, mode=mode, policy=policy, max_retries=max_retries,
                         faults=faults, threads_per_worker=threads_per_worker, progress=progress, poll_s=poll_s)
        self.group_size = size
        self.use_gpu = bool(use_gpu)
        check_group_fits(self.sc, size)

    def slots(self, train_fn: TrainFn, data: dict) -> "DistributorSlots":
        return DistributorSlots(self, train_fn, data)


class DistributorSlots(SparkSlots):
    """The spark backend's slots, each attempt a TorchDistributor run instead of a one-task job."""

    def slot_name(self, slot) -> str:
        return f"torch-slot{slot}"

    def run_job(self, spec: dict, description: str) -> dict:
        distributor = ShippedTorchDistributor(num_processes=self.owner.group_size, local_mode=False,
                                              use_gpu=self.owner.use_gpu)
        return distributor.run(run_rank, spec)


class ShippedTorchDistributor(TorchDistributor):
    """TorchDistributor whose ranks import this package as the Spark task does (from the
    ``--py-files`` zip on a cluster): its launcher is :func:`launch_ranks`, passed the way
    pyspark's own DeepspeedTorchDistributor passes its launcher."""

    def run(self, train_object, *args, **kwargs):
        return self._run(train_object, launch_ranks, *args, **kwargs)


def check_group_fits(sc, group_size: int) -> None:
    """A barrier job needs all its tasks at once: on ``local[N]`` a group larger than N would
    wait forever, so it is refused (naming ``training.group_size``); other masters pass."""
    master = sc.master or ""
    if master.startswith("local") and group_size > sc.defaultParallelism:
        raise BadInputError(f"config key 'training.group_size' is {group_size}, but Spark master {master} "
                            f"has {sc.defaultParallelism} task slots (a TorchDistributor run holds "
                            f"group_size of them at once)")
