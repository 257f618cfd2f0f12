"""The one place that turns a job config into an executor (``training.backend``).

AdaNet's search and the baselines both get their executor here, so a backend is
configured the same way for both: ``training.workers`` / ``mode`` /
``group_size`` / ``threads_per_worker``, retries from ``straggler.max_retries``,
faults from ``testing`` (refused unless ``testing.enabled``).
"""
from __future__ import annotations

from typing import Callable, Dict, Optional

from adanet_spark.adanet.protocol import Executor
from adanet_spark.config import JobConfig
from adanet_spark.execution.faults import FaultPlan
from adanet_spark.execution.policy import policy_from_config
from adanet_spark.execution.stragglers import NeverDrop, StragglerPolicy

Builder = Callable[..., Executor]


def _local(cfg: JobConfig, spark, policy: StragglerPolicy, faults: Optional[FaultPlan]) -> Executor:
    from adanet_spark.execution.local import LocalExecutor
    # One candidate after another: no slot to free, so no dropping (retries and faults apply).
    return LocalExecutor(policy=NeverDrop(), max_retries=cfg.straggler.max_retries, faults=faults,
                         threads_per_worker=cfg.training.threads_per_worker)


def _spark(cfg: JobConfig, spark, policy: StragglerPolicy, faults: Optional[FaultPlan]) -> Executor:
    from adanet_spark.execution.spark import SparkExecutor
    t = cfg.training
    return SparkExecutor(spark, workers=t.workers, mode=t.mode, policy=policy,
                         max_retries=cfg.straggler.max_retries, faults=faults,
                         threads_per_worker=t.threads_per_worker)


def _horovod(cfg: JobConfig, spark, policy: StragglerPolicy, faults: Optional[FaultPlan]) -> Executor:
    from adanet_spark.execution.horovod import HorovodExecutor
    t = cfg.training
    return HorovodExecutor(spark, workers=t.workers, group_size=t.group_size, mode=t.mode, policy=policy,
                           max_retries=cfg.straggler.max_retries, faults=faults,
                           threads_per_worker=t.threads_per_worker)


def _torch_distributor(cfg: JobConfig, spark, policy: StragglerPolicy, faults: Optional[FaultPlan]) -> Executor:
    from adanet_spark.execution.torch_distributor import TorchDistributorExecutor
    t = cfg.training
    return TorchDistributorExecutor(spark, workers=t.workers, group_size=t.group_size, use_gpu=t.use_gpu,
                                    mode=t.mode, policy=policy, max_retries=cfg.straggler.max_retries,
                                    faults=faults, threads_per_worker=t.threads_per_worker)


# Keyed by the values of config.training.Backend (a test checks they are the same).
# The builders import their backend lazily: a local run never imports pyspark or horovod.
BUILDERS: Dict[str, Builder] = {"local": _local, "spark": _spark, "horovod": _horovod,
                                "torch_distributor": _torch_distributor}


def make_executor(cfg: JobConfig, spark=None, *, drop_stragglers: Optional[bool] = None,
                  inject_faults: bool = True) -> Executor:
    """The executor ``cfg.training.backend`` asks for.

    ``spark`` (a SparkSession or SparkContext) is used by the spark, horovod and
    torch_distributor backends (the active session when None). Straggler dropping and pruning
    (the policy ``straggler`` configures) apply in async mode, unless
    ``drop_stragglers=False``: the baselines turn it off, since a search's budget is
    its trials, and dropping the slow ones (deep nets, small batches) would bias
    which configurations it sees. Sync mode never drops; the local backend, one
    candidate after another, neither. ``inject_faults=False`` leaves
    ``testing.faults`` out (the baselines: faults are aimed at AdaNet's candidates).
    A fault plan without ``testing.enabled`` is a BadInputError naming ``testing.faults``.
    """
    t = cfg.training
    faults = FaultPlan.from_config(cfg.testing) or None
    drop = t.mode == "async" and drop_stragglers is not False
    policy = policy_from_config(cfg.straggler) if drop else NeverDrop()
    try:
        build = BUILDERS[t.backend]
    except KeyError:
        raise ValueError(f"unknown training.backend {t.backend!r}") from None
    return build(cfg, spark, policy, faults if inject_faults else None)
