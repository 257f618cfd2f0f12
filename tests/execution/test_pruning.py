"""The median stopping rule on plain check curves: no tracker, no clock."""
from __future__ import annotations

import math

import pytest

from adanet_spark.adanet.protocol import PRUNED
from adanet_spark.execution.pruning import MedianStopping, best_until
from adanet_spark.execution.stragglers import AttemptProgress, Peer

FRACTIONS = [i / 20 for i in range(21)]  # a check every 5% of the budget, step 0 included


def curve(start=0.69, end=0.45, until=1.0, fractions=FRACTIONS):
    """A falling validation loss (exponential approach to ``end``), checked up to ``until``."""
    return tuple((f, end + (start - end) * math.exp(-4 * f)) for f in fractions if f <= until + 1e-9)


def peers(*curves, completed=False):
    return tuple(Peer(checks=c, total_s=10.0 if completed else None) for c in curves)


OTHERS = peers(curve(end=0.44), curve(end=0.45), curve(end=0.46))


def judged(checks, others=OTHERS):
    return AttemptProgress(5.0, progress=max(f for f, _ in checks), checks=checks, peers=others)


def test_best_until():
    checks = ((0.0, 0.7), (0.1, 0.5), (0.2, 0.6), (0.3, float("nan")))
    assert best_until(checks, 0.15) == 0.5 and best_until(checks, 0.05) == 0.7
    assert best_until(checks[3:], 0.5) == math.inf  # a NaN loss is the worst there is
    assert best_until(checks[1:], 0.05) is None


def test_a_stalled_candidate_is_pruned():
    """Its loss stopped falling at 0.55 while the others went on down to ~0.46."""
    stalled = tuple((f, max(loss, 0.55)) for f, loss in curve(until=0.5))
    stop = MedianStopping().verdict(judged(stalled))
    assert stop.status == PRUNED
    assert MedianStopping().verdict(judged(stalled[:10])) is None  # 45%: too early to tell
    assert "0.5500 at 50% of its budget" in stop.reason and "median" in stop.reason and "3 other" in stop.reason


def test_a_slower_but_improving_candidate_is_kept():
    """Behind the others (a lower learning rate, say), but closing the gap: it ends the best of all."""
    slow = tuple((f, 0.40 + 0.29 * math.exp(-2 * f)) for f in FRACTIONS)
    p = MedianStopping()
    assert slow[10][1] > 1.04 * p.standing(judged(slow[:11]), 0.5)[1]  # clearly behind at 50% ...
    assert all(p.verdict(judged(slow[:k + 1])) is None for k in range(10, 21))  # ... but never pruned
    assert slow[-1][1] < min(c[-1][1] for c in (o.checks for o in OTHERS))
    flat = slow[:8] + tuple((f, slow[7][1] - 0.001 * i) for i, f in enumerate(FRACTIONS[8:11], 1))
    assert p.verdict(judged(flat)).status == PRUNED  # behind as much, and no longer closing the gap


def test_a_candidate_slow_in_wall_time_is_compared_at_equal_progress():
    """Four times as many seconds for the same curve: progress, not time, is what counts."""
    same = curve(end=0.45, until=0.6)
    slow = AttemptProgress(400.0, progress=0.6, first_progress=0.0, report_elapsed_s=400.0, report_span_s=390.0,
                           checks=same, peers=OTHERS)
    assert MedianStopping().verdict(slow) is None


def test_no_verdict_before_min_progress_or_without_enough_others():
    bad = tuple((f, 0.69) for f in FRACTIONS)
    p = MedianStopping(min_progress=0.3, min_peers=2)
    assert p.verdict(judged(bad[:6])) is None  # 25% of its budget
    assert p.verdict(judged(bad[:7])).status == PRUNED  # 30%
    assert p.verdict(judged(bad[:7], OTHERS[:1])) is None  # one other only
    behind = peers(curve(until=0.15), curve(until=0.2), curve(until=0.25))
    assert p.verdict(judged(bad[:11], behind)) is None  # the others have not got that far
    assert p.verdict(judged(bad[:11], behind + OTHERS[:2])).status == PRUNED
    assert p.verdict(AttemptProgress(5.0, progress=0.5)) is None  # no checks reported


def test_within_the_margin_is_not_pruned():
    close = tuple((f, loss * 1.015) for f, loss in curve(end=0.45))
    assert MedianStopping(margin=0.02).verdict(judged(close)) is None
    assert MedianStopping(margin=0.01).verdict(judged(close)).status == PRUNED


def test_an_early_stopped_other_counts_with_its_final_best():
    """Completed at 40% of its budget (early stopping): its best loss holds beyond."""
    stopped = peers(curve(end=0.44, until=0.4), curve(end=0.45, until=0.4), completed=True)
    bad = tuple((f, 0.6) for f in FRACTIONS if f <= 0.7)
    assert MedianStopping().verdict(judged(bad, stopped)).status == PRUNED
    running_short = peers(curve(end=0.44, until=0.4), curve(end=0.45, until=0.4))
    assert MedianStopping().verdict(judged(bad, running_short)) is None  # still running, not that far yet


def test_tolerance_lets_others_slightly_behind_count():
    bad = tuple((f, 0.6) for f in FRACTIONS if f <= 0.5)
    near = peers(curve(until=0.45), curve(until=0.45))
    assert MedianStopping(tolerance=0.05).verdict(judged(bad, near)).status == PRUNED
    assert MedianStopping(tolerance=0.0).verdict(judged(bad, near)) is None


@pytest.mark.parametrize("loss", [float("nan"), float("inf")])
def test_a_non_finite_loss_is_the_worst(loss):
    worst = tuple((f, 0.69) for f in FRACTIONS if f <= 0.5)
    assert MedianStopping().verdict(judged(worst[:-1] + ((0.5, loss),))).status == PRUNED
    leading = curve(end=0.40, until=0.5)
    assert MedianStopping().verdict(judged(leading[:-1] + ((0.5, loss),))) is None  # its best so far counts
    others_bad = peers(((0.0, 0.69), (0.5, loss)), ((0.0, 0.69), (0.5, loss)))
    assert MedianStopping().standing(judged(worst, others_bad), 0.5)[1] == pytest.approx(0.69)
