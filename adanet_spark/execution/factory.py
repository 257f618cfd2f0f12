"""Pick the executor for a job from ``training.backend`` (local | spark | horovod)."""
from __future__ import annotations

import dataclasses

from adanet_spark.config import JobConfig
from adanet_spark.execution.base import Executor
from adanet_spark.execution.faults import FaultPlan
from adanet_spark.execution.stragglers import StragglerPolicy


def make_executor(cfg: JobConfig, spark=None) -> Executor:
    """Build the executor the config asks for.

    ``spark`` (a SparkSession or SparkContext) is needed by the spark and
    horovod backends; the active session is used when it is None. Straggler
    dropping applies to the spark and horovod backends in async mode (sync is
    the baseline; local runs one candidate at a time, so there is no slot to
    free); retries apply everywhere. Faults come from ``testing`` and are refused unless
    ``testing.enabled`` (BadInputError naming ``testing.faults``).
    """
    t = cfg.training
    faults = FaultPlan.from_config(cfg.testing) or None
    policy = StragglerPolicy.from_config(cfg.straggler, drop=(t.mode == "async"))
    if t.backend == "local":
        # One candidate after another: no slot to free, so no dropping (retries and faults apply).
        policy = dataclasses.replace(policy, drop=False)
        from adanet_spark.execution.local import LocalExecutor
        return LocalExecutor(policy=policy, faults=faults, threads_per_worker=t.threads_per_worker)
    if t.backend == "spark":
        from adanet_spark.execution.spark import SparkExecutor
        return SparkExecutor(spark, workers=t.workers, mode=t.mode, policy=policy, faults=faults,
                             threads_per_worker=t.threads_per_worker)
    if t.backend == "horovod":
        from adanet_spark.execution.horovod import HorovodExecutor
        return HorovodExecutor(spark, workers=t.workers, group_size=t.group_size, mode=t.mode, policy=policy,
                               faults=faults, threads_per_worker=t.threads_per_worker)
    raise ValueError(f"unknown training.backend {t.backend!r}")

