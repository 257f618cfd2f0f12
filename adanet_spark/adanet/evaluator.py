"""The Evaluator: picks the iteration's winner on the validation split (AdaNet.HoldOut).

The incumbent always competes: a candidate wins only if it learned something (its best
check is past step 0) and its grown ensemble lowers the validation objective by at
least ``min_improvement``.
"""
from __future__ import annotations

import math
from typing import Mapping, Optional

from adanet_spark.adanet.protocol import CandidateResult
from adanet_spark.adanet.strategy import Standing


def learned(result: CandidateResult) -> bool:
    """Did the candidate learn anything? Early stopping restores the best check; when that
    is step 0 its head is still zero and it adds nothing, and any gain of its ensemble is
    the mixture refit recalibrating the subnetworks already there: not growth."""
    return result.best_step > 0 or not result.total_steps


class Evaluator:
    def __init__(self, min_improvement: float = 1e-4):
        self.min_improvement = min_improvement

    def select(self, results: Mapping[str, CandidateResult], standing: Standing) -> Optional[str]:
        """The best candidate by validation objective (the name breaks ties, so arrival
        order never matters), or None when it does not beat the incumbent."""
        scored = sorted((r.valid["objective"], name) for name, r in results.items()
                        if not math.isnan(r.valid["objective"]) and learned(r))
        if not scored:
            return None
        best, name = scored[0]
        return name if best < standing.objective - self.min_improvement else None
