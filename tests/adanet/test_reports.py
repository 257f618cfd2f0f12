"""Report records: a candidate's record carries its settings as it trained with them."""
import json

from adanet_spark.adanet.architecture import CandidateSpec, InputSpec
from adanet_spark.adanet.budget import TrainBudget
from adanet_spark.adanet.ensemble import Ensemble
from adanet_spark.adanet.protocol import FAILED, CandidateTask, TaskOutcome
from adanet_spark.adanet.reports import ReportMaterializer

INPUTS = InputSpec(3, (5,), 16)
BUDGET = TrainBudget(epochs=4.0, min_steps=300, max_steps=3000, weight_decay=1e-5)


def hyperparameters(spec: CandidateSpec) -> dict:
    """The hyperparameters JSON of ``spec``'s record (a failed outcome: no result needed)."""
    outcome = TaskOutcome(CandidateTask(2, spec.name, {}), FAILED, error="x")
    rec = ReportMaterializer(BUDGET.to_dict()).candidate(outcome, spec, Ensemble(), None, False, seed=11)
    return json.loads(rec.hyperparameters_json)


def test_the_record_holds_the_budget_as_the_candidate_got_it():
    longer = CandidateSpec("same-d2-w16-plain", 2, 16, 1e-3, INPUTS, weight_decay=4e-4, steps_scale=2.0,
                           rationale="it still improved")
    h = hyperparameters(longer)
    assert (h["epochs"], h["min_steps"], h["max_steps"], h["weight_decay"]) == (8.0, 600, 6000, 4e-4)
    assert (h["steps_scale"], h["learning_rate"], h["rationale"], h["seed"]) == (2.0, 1e-3, "it still improved", 11)
    assert TrainBudget.from_dict(h) == BUDGET.for_candidate(longer)  # what train_candidate trains with
    assert "best_step" not in h and "inputs" not in h  # no result: where it peaked is unknown


def test_a_candidate_without_its_own_decay_records_the_searchs():
    h = hyperparameters(CandidateSpec("same-d1-w16-plain", 1, 16, 1e-3, INPUTS))
    assert (h["weight_decay"], h["min_steps"], h["max_steps"], h["epochs"]) == (1e-5, 300, 3000, 4.0)
