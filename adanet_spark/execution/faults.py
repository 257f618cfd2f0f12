"""Fault injection for tests and benchmarks, through the real execution path.

Faults come from ``testing.faults`` in the job config and are refused unless
``testing.enabled`` is true. Each names what it hits (``candidate``: a name or
glob, ``iteration``, ``worker``: the worker or slot index; unset = any) and
what happens:

* ``slow_factor`` > 1: the attempt runs with ``TrainContext.slow_factor`` set,
  which ``train_fn`` honours by stretching each step (in a data-parallel group,
  on the named worker, or on the group's first member when none is named);
* ``fail: raise``: the first attempt raises :class:`InjectedFault`;
* ``fail: kill``: the first attempt kills its own process (SIGKILL) - a Spark
  Python worker or a Horovod worker dies for real. In-process executors (local)
  cannot kill themselves and raise instead;
* ``fail: always``: every attempt raises.

Faults are decided on the worker, where the attempt number and the worker
index are known, by :func:`apply_faults` - called by every executor right
before ``train_fn``.
"""
from __future__ import annotations

import fnmatch
import logging
import os
import signal
from dataclasses import dataclass
from typing import Iterable, Optional, Sequence, Tuple

from adanet_spark.adanet.protocol import CandidateTask, TrainContext
from adanet_spark.errors import BadInputError

log = logging.getLogger(__name__)

FAIL_MODES = ("raise", "kill", "always")


class InjectedFault(RuntimeError):
    """The failure a fault asked for (never raised in production runs)."""


@dataclass(frozen=True)
class Fault:
    candidate: Optional[str] = None
    iteration: Optional[int] = None
    worker: Optional[int] = None
    slow_factor: float = 1.0
    fail: Optional[str] = None

    def matches(self, task: CandidateTask, worker: Optional[int]) -> bool:
        if self.candidate is not None and not fnmatch.fnmatchcase(task.name, self.candidate):
            return False
        if self.iteration is not None and task.iteration != self.iteration:
            return False
        if self.worker is not None and worker != self.worker:
            return False
        return True


@dataclass(frozen=True)
class FaultPlan:
    """The faults of a run: picklable, shipped to the workers with each attempt."""

    faults: Tuple[Fault, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.faults)

    @classmethod
    def from_config(cls, testing) -> "FaultPlan":
        """From a :class:`~adanet_spark.config.TestingConfig`; refuses faults unless enabled."""
        faults = list(getattr(testing, "faults", None) or [])
        if faults and not getattr(testing, "enabled", False):
            raise BadInputError("config key 'testing.faults' needs testing.enabled: true "
                                "(fault injection is refused in production runs)")
        return cls.of(faults)

    @classmethod
    def of(cls, faults: Iterable) -> "FaultPlan":
        out = []
        for i, f in enumerate(faults):
            if isinstance(f, dict):
                f = Fault(**f)
            elif not isinstance(f, Fault):
                f = Fault(candidate=f.candidate, iteration=f.iteration, worker=f.worker,
                          slow_factor=f.slow_factor, fail=f.fail)
            if f.fail not in (None,) + FAIL_MODES:
                raise BadInputError(f"config key 'testing.faults[{i}].fail' must be raise, kill or always")
            if f.slow_factor < 1.0:
                raise BadInputError(f"config key 'testing.faults[{i}].slow_factor' must be at least 1")
            out.append(f)
        return cls(tuple(out))

    def matching(self, task: CandidateTask, workers: Sequence[Optional[int]]) -> list:
        """Faults that hit ``task`` on any of ``workers`` (a group's worker indices)."""
        return [f for f in self.faults if any(f.matches(task, w) for w in workers)]


def apply_faults(plan: Optional[FaultPlan], task: CandidateTask, attempt: int, worker: Optional[int],
                 ctx: TrainContext, in_process: bool = False,
                 group_workers: Optional[Sequence[int]] = None) -> TrainContext:
    """Carry out the faults that hit this attempt; returns ``ctx`` (slow factor set).

    ``group_workers``: the worker indices of the whole data-parallel group, so a
    ``raise`` hits every member alike (a lone member raising would leave the
    others waiting in a collective); ``kill`` still hits only the named worker.
    """
    if not plan:
        return ctx
    mine = plan.matching(task, [worker])
    group = plan.matching(task, list(group_workers) if group_workers else [worker])
    # Slowing: a fault naming a worker slows that worker; one naming none slows the
    # group's first member only. The others wait for it in every allreduce anyway, and
    # slowing them all would feed back (each measures a step that includes the wait).
    leader = not group_workers or worker == group_workers[0]
    slows = [f.slow_factor for f in mine if f.worker is not None or leader]
    slow = max(slows + [ctx.slow_factor])
    ctx.slow_factor = slow
    where = f"candidate {task.name} iteration {task.iteration} attempt {attempt} worker {worker}"
    if slow > 1.0:
        log.warning("fault: slowing %s by %gx", where, slow)
    for f in group:
        if f.fail == "always" or (f.fail == "raise" and attempt == 1):
            raise InjectedFault(f"injected failure ({f.fail}) in {where}")
    for f in mine:
        if f.fail == "kill" and attempt == 1:
            if in_process:
                raise InjectedFault(f"injected kill (simulated in-process) in {where}")
            log.warning("fault: killing process %d (%s)", os.getpid(), where)
            _flush_logs()
            os.kill(os.getpid(), signal.SIGKILL)
    return ctx


def _flush_logs() -> None:
    # SIGKILL skips every flush: without this the fault's own log line would be lost.
    for h in logging.getLogger().handlers:
        try:
            h.flush()
        except Exception:  # a broken handler must not stop the fault
            pass
