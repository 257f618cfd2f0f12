"""Config sections of training: ``training``, ``straggler`` and ``testing`` (faults).

``Backend`` and ``Mode`` are defined here, the one place that owns them; the
execution factory keys its builders on the same Literals.
"""
from __future__ import annotations

import os
from typing import Literal, Optional

from pydantic import Field, model_validator

from adanet_spark.config.base import Section, Text, require

Backend = Literal["local", "spark", "horovod", "torch_distributor"]
Mode = Literal["async", "sync"]
FailMode = Literal["raise", "kill", "always"]


class TrainingConfig(Section):
    backend: Backend = "horovod"
    mode: Mode = "async"
    workers: int = Field(2, ge=1)
    group_size: int = 1
    threads_per_worker: int = 1
    # torch_distributor only: TorchDistributor(use_gpu=...), GPUs scheduled by Spark
    # (spark.task.resource.gpu.amount); the other backends train on CPU.
    use_gpu: bool = False
    # A worker holds a split in memory (once, for all candidates) when it fits this many
    # bytes, and streams it otherwise; None: cache_budget()'s default.
    cache_max_bytes: Optional[int] = Field(None, ge=0)

    def cache_budget(self) -> int:
        """``cache_max_bytes``, or by default a quarter of this machine's memory (its cgroup
        limit when lower) shared by the ``workers``: right for a local master, where the
        workers run beside the driver; on a cluster set it from an executor's memory."""
        if self.cache_max_bytes is not None:
            return self.cache_max_bytes
        return machine_memory_bytes() // (4 * self.workers)

    @model_validator(mode="after")
    def _group_fits_workers(self) -> "TrainingConfig":
        require(1 <= self.group_size <= self.workers, "group_size",
                f"must be between 1 and training.workers ({self.workers}), got {self.group_size}")
        require(not self.use_gpu or self.backend == "torch_distributor", "use_gpu",
                f"needs training.backend torch_distributor (got {self.backend})")
        return self


def machine_memory_bytes() -> int:
    """Physical memory of this machine, or the cgroup (v2) limit of this container if lower."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    try:
        with open("/sys/fs/cgroup/memory.max") as fh:
            limit = fh.read().strip()
    except OSError:
        return total
    return min(total, int(limit)) if limit.isdigit() else total


StragglerPolicyName = Literal["progress", "quorum_deadline"]


class StragglerConfig(Section):
    """Async mode's policy (execution.policy). ``progress`` (default): a candidate is
    dropped as a straggler when its worker runs ``slow_factor`` x slower than its cost
    and the others' measured rates predict, and pruned when its validation loss is more
    than ``prune_margin`` above the others' median at equal progress (from
    ``prune_min_progress`` of its budget on; ``prune: false`` never prunes).
    ``quorum_deadline`` (the earlier rule): dropped past ``deadline_factor`` x the
    completed candidates' median time per unit cost. Either drops nothing before
    ``quorum`` of the iteration's candidates have completed."""

    policy: StragglerPolicyName = "progress"
    quorum: float = Field(0.5, gt=0.0, le=1.0)
    deadline_factor: float = Field(1.5, ge=1.0)  # quorum_deadline only
    slow_factor: float = Field(2.0, gt=1.0)  # progress only
    prune: bool = True  # progress only
    prune_margin: float = Field(0.02, ge=0.0)
    prune_min_progress: float = Field(0.5, ge=0.0, le=1.0)
    max_retries: int = Field(1, ge=0)


class FaultConfig(Section):
    candidate: Optional[Text] = None
    iteration: Optional[int] = None
    worker: Optional[int] = None
    slow_factor: float = Field(1.0, ge=1.0)
    fail: Optional[FailMode] = None


class TestingConfig(Section):
    __test__ = False  # not a pytest test class, despite its name

    enabled: bool = False
    faults: list[FaultConfig] = Field(default_factory=list)

    @model_validator(mode="after")
    def _faults_need_testing(self) -> "TestingConfig":
        require(not self.faults or self.enabled, "faults",
                "needs testing.enabled: true (fault injection is refused in production runs)")
        return self
