"""The AdaNet objective F(w) = loss + sum_j (lambda * r(h_j) + beta) * |w_j|.

``loss`` is the mean binary cross-entropy of the ensemble's logits (a convex
surrogate of the 0/1 loss, as in Cortes et al. 2017); ``w_j`` the mixture weights
and ``r(h_j)`` each subnetwork's complexity. The search selects on F computed on
the validation split (AdaNet.HoldOut) and records it on the training split too.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F


def bce(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, labels)


def penalty_coefficients(complexities: Sequence[float], lambda_: float, beta: float) -> torch.Tensor:
    """Per-subnetwork l1 coefficient lambda * r(h_j) + beta."""
    return torch.tensor([lambda_ * r + beta for r in complexities], dtype=torch.float32)


def penalty(mixture: torch.Tensor, coefficients: torch.Tensor) -> torch.Tensor:
    return (coefficients * mixture.abs()).sum()


def objective(loss: float, mixture: torch.Tensor, complexities: Sequence[float],
              lambda_: float, beta: float) -> float:
    return float(loss) + float(penalty(mixture.detach(), penalty_coefficients(complexities, lambda_, beta)))
