"""The straggler policy an executor applies: the default :class:`ProgressPolicy`, or the
one ``straggler.policy`` names, and none in sync mode."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from adanet_spark.execution.pruning import MedianStopping
from adanet_spark.execution.stragglers import (MODES, AttemptProgress, NeverDrop, QuorumDeadline, SlowWorker,
                                               Stop, StragglerPolicy)


@dataclass(frozen=True)
class ProgressPolicy(StragglerPolicy):
    """Drop a straggler (:class:`SlowWorker`: a worker far slower than the candidate's
    expected rate), else prune a candidate clearly worse than the others at equal
    progress (:class:`MedianStopping`; ``prune=None`` never prunes)."""

    slow: SlowWorker = SlowWorker()
    prune: Optional[MedianStopping] = MedianStopping()

    @classmethod
    def from_config(cls, straggler) -> "ProgressPolicy":
        """From a :class:`~adanet_spark.config.StragglerConfig` (its ``max_retries`` is the tracker's)."""
        slow = SlowWorker(quorum=straggler.quorum, slow_factor=straggler.slow_factor)
        prune = MedianStopping(min_progress=straggler.prune_min_progress, margin=straggler.prune_margin) \
            if straggler.prune else None
        return cls(slow=slow, prune=prune)

    def verdict(self, progress: AttemptProgress) -> Optional[Stop]:
        stop = self.slow.verdict(progress)  # a slow worker first: its loss is not the candidate's fault
        if stop is None and self.prune is not None:
            stop = self.prune.verdict(progress)
        return stop

    def should_stop(self, progress: AttemptProgress) -> bool:
        return self.verdict(progress) is not None

    def deadline_s(self, progress: AttemptProgress) -> Optional[float]:
        return self.slow.deadline_s(progress)


def policy_from_config(straggler) -> StragglerPolicy:
    """The policy ``straggler.policy`` names: ``progress`` (default) or ``quorum_deadline``."""
    if straggler.policy == "quorum_deadline":
        return QuorumDeadline.from_config(straggler)
    return ProgressPolicy.from_config(straggler)


def policy_for_mode(mode: str, policy: Optional[StragglerPolicy]) -> StragglerPolicy:
    """The policy an executor applies: ``policy`` (default :class:`ProgressPolicy`) in async
    mode; :class:`NeverDrop` in sync mode, the baseline that waits for every candidate."""
    if mode not in MODES:
        raise ValueError(f"mode must be async or sync, got {mode!r}")
    if mode == "sync":
        return NeverDrop()
    return policy if policy is not None else ProgressPolicy()
