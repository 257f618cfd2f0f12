"""The Evaluator: the lowest validation objective wins, and only if it beats the incumbent."""
import math
from types import SimpleNamespace

import pytest

from adanet_spark.adanet.ensemble import Ensemble
from adanet_spark.adanet.evaluator import Evaluator
from adanet_spark.adanet.strategy import Standing


def results(best_step=10, **objectives):
    """What the evaluator reads of each CandidateResult: its validation metrics, and
    where early stopping found its best state."""
    return {name: SimpleNamespace(valid={"loss": o, "auc": 0.5, "objective": o}, best_step=best_step,
                                  total_steps=100) for name, o in objectives.items()}


def incumbent(objective):
    return Standing(Ensemble(), valid={"loss": objective, "auc": 0.5, "objective": objective})


def test_best_candidate_wins_when_it_beats_the_incumbent():
    assert Evaluator().select(results(a=0.50, b=0.40, c=0.45), incumbent(0.6)) == "b"


def test_a_winner_must_improve_by_min_improvement():
    assert Evaluator(min_improvement=0.05).select(results(a=0.56), incumbent(0.6)) is None
    assert Evaluator(min_improvement=0.05).select(results(a=0.54), incumbent(0.6)) == "a"
    assert Evaluator(min_improvement=0.0).select(results(a=0.6), incumbent(0.6)) is None  # a tie keeps the incumbent


def test_ties_are_broken_by_name_not_by_arrival_order():
    first = Evaluator().select(results(zeta=0.4, alpha=0.4), incumbent(0.6))
    second = Evaluator().select(results(alpha=0.4, zeta=0.4), incumbent(0.6))
    assert first == second == "alpha"


@pytest.mark.parametrize("objectives", [{}, {"a": math.nan}])
def test_no_usable_result_selects_nothing(objectives):
    assert Evaluator().select(results(**objectives), incumbent(0.6)) is None


def test_nan_objectives_are_ignored_not_selected():
    assert Evaluator().select(results(a=math.nan, b=0.5), incumbent(0.6)) == "b"


def test_an_incumbent_without_metrics_is_never_beaten():
    """With no valid metrics the incumbent's objective is NaN: selecting anything against
    it would be a guess (the strategy fills the metrics in first)."""
    assert math.isnan(Standing(Ensemble()).objective)
    assert Evaluator().select(results(a=0.1), Standing(Ensemble())) is None


def test_a_candidate_restored_to_step_0_learned_nothing_and_never_wins():
    """Its head is still zero: any gain of its ensemble is the mixture refit recalibrating
    the subnetworks already there, not growth."""
    assert Evaluator().select(results(best_step=0, a=0.40), incumbent(0.6)) is None
    assert Evaluator().select(results(best_step=1, a=0.40), incumbent(0.6)) == "a"
