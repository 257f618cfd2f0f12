"""One attempt of one task, worker side: the same steps on every backend."""
from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence

from adanet_spark.adanet.protocol import CandidateTask, TrainContext, TrainFn
from adanet_spark.execution.faults import FaultPlan, apply_faults


def run_attempt(train_fn: TrainFn, payload: dict, data: Mapping[str, Any], ctx: TrainContext,
                task: CandidateTask, attempt: int, worker: Optional[int],
                faults: Optional[FaultPlan] = None, in_process: bool = False,
                threads: Optional[int] = None, group_workers: Optional[Sequence[int]] = None) -> Any:
    """Set the thread count, carry out the faults aimed at this attempt, call ``train_fn``.

    ``worker`` is the slot or rank index faults match on; ``in_process`` makes a
    ``kill`` fault raise instead (the process is the driver); ``group_workers``
    are the ranks of the attempt's data-parallel group.
    """
    if threads:
        import torch  # only here: a train_fn that never touches torch must not pay for it
        torch.set_num_threads(int(threads))
    if faults:
        ctx = apply_faults(faults, task, attempt, worker, ctx, in_process=in_process,
                           group_workers=group_workers)
    return train_fn(payload, data, ctx)


def format_error(exc: BaseException) -> str:
    """The one-line form of an error that outcomes and logs carry."""
    return f"{type(exc).__name__}: {exc}"
