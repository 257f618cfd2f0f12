"""Pruning: stop a candidate that learns clearly worse than the others at equal progress.

The median stopping rule (Golovin et al., "Google Vizier", 2017), on training
progress instead of steps: candidates of one iteration share the step schedule's
shape, so their validation losses compare at the same fraction of their budgets,
whatever their size or speed. A candidate that is slower in wall time but learns
as well is therefore never pruned; one whose loss has stalled while the others'
went on falling is. Its status is ``pruned``, not ``dropped_straggler``: nothing
is wrong with its worker.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

from adanet_spark.adanet.protocol import PRUNED
from adanet_spark.execution.stragglers import AttemptProgress, Check, StragglerPolicy, Stop

EPS = 1e-9


def best_until(checks: Sequence[Check], at: float) -> Optional[float]:
    """The lowest validation loss of the checks up to progress ``at`` (a non-finite loss
    counts as infinitely bad); None when no check is that early."""
    losses = [loss if math.isfinite(loss) else math.inf for f, loss in checks if f <= at + EPS]
    return min(losses) if losses else None


@dataclass(frozen=True)
class MedianStopping(StragglerPolicy):
    """Prune at a check when the best loss so far is clearly worse than the others' median.

    At its latest check (progress ``p`` >= ``min_progress``) the candidate's best
    validation loss so far is compared with the median of the other candidates'
    best losses up to ``p``. Another candidate counts once it got to ``p`` (within
    ``tolerance``, which only ever favours the candidate judged) or completed (early
    stopping kept its best state: its best loss is final). With at least
    ``min_peers`` of them, the candidate is pruned when its loss exceeds the median
    by more than ``margin`` (relative), unless it is catching up: when the gap
    closed over the last ``window`` of progress fast enough that, at that pace, it
    would be within the margin by the end of its budget.
    """

    min_progress: float = 0.5
    margin: float = 0.02
    min_peers: int = 2
    tolerance: float = 0.05
    window: float = 0.2

    def standing(self, p: AttemptProgress, at: float) -> Optional[Tuple[float, float, int]]:
        """(its best loss, the others' median, how many others) at progress ``at``;
        None when it has no check that early or too few others compare."""
        mine = best_until(p.checks, at)
        others = []
        for peer in p.peers:
            if peer.checks and (peer.completed or max(f for f, _ in peer.checks) >= at - self.tolerance):
                best = best_until(peer.checks, at)
                if best is not None and math.isfinite(best):
                    others.append(best)
        if mine is None or len(others) < self.min_peers:
            return None
        return mine, statistics.median(others), len(others)

    def verdict(self, p: AttemptProgress) -> Optional[Stop]:
        if not p.checks:
            return None
        at = max(f for f, _ in p.checks)
        now = self.standing(p, at) if at >= self.min_progress else None
        if now is None:
            return None
        mine, median, n = now
        allowed = self.margin * abs(median)
        if mine - median <= allowed or self._catching_up(p, at, mine - median, allowed):
            return None
        return Stop(PRUNED, f"pruned: validation loss {mine:.4f} at {at:.0%} of its budget, more than "
                            f"{self.margin:.0%} above the median {median:.4f} of {n} other candidates")

    def should_stop(self, progress: AttemptProgress) -> bool:
        return self.verdict(progress) is not None

    def _catching_up(self, p: AttemptProgress, at: float, gap: float, allowed: float) -> bool:
        before = max(0.0, at - self.window)
        then = self.standing(p, before) if before < at else None
        if then is None:
            return False
        closed = (then[0] - then[1]) - gap  # how much of the gap it closed over the window
        if not math.isfinite(closed) or closed <= 0:
            return False
        return gap - closed * (1.0 - at) / (at - before) <= allowed
