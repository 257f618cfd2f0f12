"""The Strategy: how the ensemble grows (tensorflow/adanet's GrowStrategy).

Each iteration the incumbent ensemble competes with itself grown by one trained
candidate; the grown ensemble of the winner becomes the new incumbent. The
incumbent's metrics come from the workers (the driver never sees the data), so
iteration 0's bias-only ensemble, or a warm start, learns its metrics from the
first results that arrive.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Optional

from adanet_spark.adanet.ensemble import Ensemble
from adanet_spark.adanet.protocol import CandidateResult


@dataclass
class Standing:
    """The incumbent ensemble and its metrics ({"loss", "auc", "objective"}; None if unknown)."""

    ensemble: Ensemble
    train: Optional[dict] = None
    valid: Optional[dict] = None

    @property
    def objective(self) -> float:
        return self.valid["objective"] if self.valid else math.nan


class GrowStrategy:
    """Grow by one subnetwork per iteration: the candidate ensembles are previous + candidate."""

    def initial(self, warm_start: Optional[Ensemble]) -> Standing:
        return Standing(warm_start if warm_start is not None else Ensemble())

    def with_previous_metrics(self, standing: Standing, results: Mapping[str, CandidateResult]) -> Standing:
        """Fill in the incumbent's metrics from the workers when the driver lacks them.
        Workers fit a bias-only ensemble's bias to the base rate, so take that bias too."""
        if standing.valid is not None or not results:
            return standing
        first = results[min(results)]
        ensemble = standing.ensemble
        if not len(ensemble):
            ensemble = Ensemble(bias=first.previous_bias)
        return Standing(ensemble, first.previous_train, first.previous_valid)

    def grow(self, standing: Standing, results: Mapping[str, CandidateResult], winner: Optional[str]) -> Standing:
        """The next incumbent: the winner's grown ensemble, or the incumbent when none won."""
        if winner is None:
            return standing
        r = results[winner]
        return Standing(r.ensemble(), r.train, r.valid)
