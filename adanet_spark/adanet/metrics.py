"""Evaluation metrics shared by AdaNet, the baselines and the reports (numpy only).

Kept free of scikit-learn so workers need nothing beyond numpy/torch; the tests
check these against scikit-learn.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np


def _as_numpy(values: Any) -> np.ndarray:
    if hasattr(values, "detach"):  # a torch tensor, without importing torch here
        values = values.detach().cpu().numpy()
    return np.asarray(values).reshape(-1)


def average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks with ties given the mean of the ranks they span (O(n log n))."""
    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    # Start of each run of equal values, and one past the end of the last run.
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], len(values)]
    run_rank = (starts + ends + 1) / 2.0  # mean of starts+1 .. ends
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[order] = np.repeat(run_rank, ends - starts)
    return ranks


def roc_auc(y_true: Any, y_score: Any) -> float:
    """Exact area under the ROC curve (Mann-Whitney U), ties counted as one half.

    Labels are 0/1 (any value > 0.5 counts as positive). Returns NaN when only one
    class is present, because selection code compares numbers and must not crash
    on a tiny shard; raises ValueError on NaN scores, which would silently rank.
    """
    y = _as_numpy(y_true) > 0.5
    s = _as_numpy(y_score).astype(np.float64)
    if y.shape != s.shape:
        raise ValueError(f"roc_auc: {y.shape[0]} labels but {s.shape[0]} scores")
    if np.isnan(s).any():
        raise ValueError("roc_auc: scores contain NaN")
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return math.nan
    rank_sum = average_ranks(s)[y].sum()
    return float((rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def log_loss(y_true: Any, prob: Any, eps: float = 1e-7) -> float:
    """Mean binary cross-entropy of probabilities (clipped away from 0 and 1)."""
    y = _as_numpy(y_true).astype(np.float64)
    p = np.clip(_as_numpy(prob).astype(np.float64), eps, 1.0 - eps)
    if len(y) == 0:
        return math.nan
    return float(-np.mean(y * np.log(p) + (1.0 - y) * np.log1p(-p)))
