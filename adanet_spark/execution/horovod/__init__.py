"""Horovod-on-Spark backend: a pool of long-lived workers training candidates in groups.

:mod:`.executor` drives an iteration on the pool, :mod:`.pool` starts and
restarts the workers, :mod:`.worker` is what each worker process runs.
"""
from adanet_spark.execution.horovod.executor import HorovodExecutor, group_layout

__all__ = ["HorovodExecutor", "group_layout"]
