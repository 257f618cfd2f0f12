"""The one check that Horovod workers fit the task slots of a local Spark master.

Each Horovod worker holds one Spark task slot for the whole search. On a
cluster Spark waits for slots to free up, but on ``local[N]`` a pool that asks
for more slots than there are never starts, and one that takes them all leaves
none for the driver's own jobs (result writes between iterations), which then
wait forever. Callers say how many slots must stay free: the executor itself
needs none (``reserve=0``), a pipeline that writes between iterations needs one.
"""
from __future__ import annotations

from adanet_spark.errors import BadInputError


def check_local_slots(sc, workers: int, reserve: int) -> None:
    """Raise :class:`BadInputError` (naming ``training.workers``) unless ``workers``
    plus ``reserve`` slots fit the local master of ``sc``; other masters pass."""
    master = sc.master or ""
    slots = sc.defaultParallelism
    if not master.startswith("local") or workers + reserve <= slots:
        return
    if reserve == 0:
        raise BadInputError(f"config key 'training.workers' is {workers}, but Spark master {master} "
                            f"has {slots} task slots (each Horovod worker holds one)")
    raise BadInputError(
        f"config key 'training.workers' is {workers}, but Spark master {master} has "
        f"{slots} task slots: the Horovod workers must leave {_slots(reserve)} for the "
        f"driver's result writes (use local[{workers + reserve}] or more, or fewer workers)")


def _slots(n: int) -> str:
    return "one" if n == 1 else f"{n}"
