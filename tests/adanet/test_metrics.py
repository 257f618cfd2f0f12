import math

import numpy as np
import pytest
import torch
from sklearn.metrics import log_loss as sk_log_loss
from sklearn.metrics import roc_auc_score

from adanet_spark.adanet.metrics import average_ranks, log_loss, roc_auc


@pytest.mark.parametrize("n,levels", [(10, 3), (1000, 5), (5000, 0)])
def test_auc_matches_sklearn_with_and_without_ties(n, levels):
    rng = np.random.default_rng(n)
    y = rng.integers(0, 2, n)
    s = rng.normal(size=n) + y
    if levels:  # few distinct scores: many ties across the classes
        s = np.round(s * levels / 4)
    assert roc_auc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)


def test_auc_accepts_tensors_and_extremes():
    y = torch.tensor([0.0, 0.0, 1.0, 1.0])
    assert roc_auc(y, torch.tensor([0.1, 0.2, 0.3, 0.4])) == 1.0
    assert roc_auc(y, torch.tensor([0.4, 0.3, 0.2, 0.1])) == 0.0
    assert roc_auc(y, torch.zeros(4)) == 0.5  # all tied: a coin flip


def test_auc_single_class_is_nan_and_nan_scores_raise():
    assert math.isnan(roc_auc([1, 1, 1], [0.1, 0.2, 0.3]))
    with pytest.raises(ValueError, match="NaN"):
        roc_auc([0, 1], [0.1, float("nan")])
    with pytest.raises(ValueError):
        roc_auc([0, 1, 1], [0.1, 0.2])


def test_average_ranks_share_ties():
    np.testing.assert_allclose(average_ranks(np.array([3.0, 1.0, 3.0, 2.0])), [3.5, 1.0, 3.5, 2.0])


def test_log_loss_matches_sklearn():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    p = rng.uniform(0.01, 0.99, 200)
    assert log_loss(y, p) == pytest.approx(sk_log_loss(y, p), rel=1e-9)
