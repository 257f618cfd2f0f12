"""After training: the grown ensemble, its validation-gated mixture refit, and what the result
reports (metrics, steps and passes, the time breakdown)."""
from dataclasses import replace

import pytest
import torch

from adanet_spark.adanet.architecture import CandidateSpec, InputSpec, build_subnetwork_arch
from adanet_spark.adanet.batches import MemoryRows
from adanet_spark.adanet.budget import StepPlan, TrainBudget
from adanet_spark.adanet.ensemble import Ensemble
from adanet_spark.adanet.loop import GrownModel
from adanet_spark.adanet.measure import grow
from adanet_spark.adanet.objective import bce
from adanet_spark.adanet.protocol import TrainContext
from adanet_spark.adanet.subnetwork import Subnetwork
from adanet_spark.adanet.tensor_data import TensorData
from adanet_spark.adanet.train import train_candidate
from tests.adanet.adanet_data import linear_data

INPUTS = InputSpec(5, (4,), 16)
BUDGET = TrainBudget(batch_size=256, min_steps=30, max_steps=30, checks=10, patience=0, mixture_epochs=10,
                     mixture_learning_rate=0.05)


def spec(name="same-d1-w16", depth=1):
    return CandidateSpec(name, depth, 16, 1e-2, INPUTS)


@pytest.fixture(scope="module")
def data():
    return {"train": linear_data(2000, 0), "valid": linear_data(600, 1)}


@pytest.fixture(scope="module")
def previous(data):
    return train_candidate(spec(), data, BUDGET, seed=1).ensemble()


def flipped(d: TensorData) -> TensorData:
    return TensorData(d.numeric, d.categorical, 1.0 - d.label)


def grown_on(previous, train, valid, budget=BUDGET, seed=5):
    """A new candidate (random head: it contributes) grown onto ``previous`` without training."""
    gen = torch.Generator().manual_seed(5)
    candidate = Subnetwork(build_subnetwork_arch(spec("same-d1-w16-b"), previous.architecture), generator=gen)
    torch.nn.init.normal_(candidate.head.weight, std=0.5, generator=gen)
    model = GrownModel(candidate, float(previous.bias.detach()), initial_weight=0.5)
    rows = {k: MemoryRows(d, previous, candidate, 5) for k, d in (("train", train), ("valid", valid))}
    plan = StepPlan.make(len(train), budget)
    return grow(model, previous, rows["train"], rows["valid"], budget, plan, TrainContext(), seed, len(train))


def valid_objective(grown):
    z, y = grown.valid
    return float(bce(grown.ensemble.bias.detach() + z @ grown.ensemble.mixture.detach(), y))


def train_loss(grown, rows_of):
    z, y = rows_of.train
    return float(bce(grown.ensemble.bias.detach() + z @ grown.ensemble.mixture.detach(), y))


def test_the_first_candidate_is_never_refit(data):
    grown = grown_on(Ensemble(bias=0.2), data["train"], data["valid"])
    assert not grown.refit and len(grown.ensemble) == 1
    assert grown.ensemble.mixture.tolist() == [0.5] and float(grown.ensemble.bias.detach()) == pytest.approx(0.2)
    assert grown.train[0].shape == (2000, 1) and grown.valid[0].shape == (600, 1)  # every row of each


def test_a_refit_is_kept_when_validation_agrees(data, previous):
    grown = grown_on(previous, data["train"], data["valid"])
    unrefit = grown_on(previous, data["train"], data["valid"], replace(BUDGET, refit_mixture_weights=False))
    assert grown.refit and not unrefit.refit
    assert unrefit.ensemble.mixture.tolist() == previous.mixture.tolist() + [0.5]
    assert valid_objective(grown) < valid_objective(unrefit)
    assert grown.ensemble.mixture.tolist() != unrefit.ensemble.mixture.tolist()


def test_a_refit_is_judged_on_validation_rows_not_training_rows(data, previous):
    """Validation labels flipped: the refit fit on training rows lowers the training loss and
    raises the validation one, so the grown ensemble keeps its mixture and bias."""
    grown = grown_on(previous, data["train"], flipped(data["valid"]))
    assert not grown.refit
    assert grown.ensemble.mixture.tolist() == previous.mixture.tolist() + [0.5]
    assert float(grown.ensemble.bias.detach()) == float(previous.bias.detach())
    # the refit it rejected is the one kept above: better on training rows
    kept = grown_on(previous, data["train"], data["train"])
    assert kept.refit and train_loss(kept, kept) < train_loss(grown, kept)


def test_the_refit_shuffles_with_its_own_generator_seeded_from_the_candidates_seed(data, previous):
    """Not the training's generator: the refit is the same however many draws came before it."""
    once = grown_on(previous, data["train"], data["valid"], seed=5)
    torch.randperm(1000)  # draws elsewhere (as training makes) change nothing
    torch.randperm(1000, generator=torch.Generator().manual_seed(5))
    again = grown_on(previous, data["train"], data["valid"], seed=5)
    other = grown_on(previous, data["train"], data["valid"], seed=6)
    assert once.refit and again.refit and other.refit
    assert once.ensemble.mixture.tolist() == again.ensemble.mixture.tolist()
    assert float(once.ensemble.bias.detach()) == float(again.ensemble.bias.detach())
    assert once.ensemble.mixture.tolist() != other.ensemble.mixture.tolist()  # the seed orders its batches


def test_the_result_reports_steps_passes_and_checks(data):
    res = train_candidate(spec(), data, BUDGET, seed=2)
    assert (res.steps_run, res.total_steps, res.n_train) == (30, 30, 2000)
    assert res.epochs_run == pytest.approx(30 * 256 / 2000)  # passes over the training rows, a float
    assert res.best_epoch == pytest.approx(res.best_step * 256 / 2000)
    assert [s for s, _ in res.checks] == list(range(0, 31, 3))
    assert res.rows_per_s > 0 and res.train_seconds > 0


def test_the_timing_breakdown_sums_to_the_loop_time(data):
    t = train_candidate(spec(), data, BUDGET, seed=2).timings
    parts = ("data_s", "forward_backward_s", "optimizer_s", "validation_s", "other_s")
    assert set(t) == set(parts) | {"loop_s", "total_s"}
    assert all(t[k] >= 0 for k in t) and t["forward_backward_s"] > 0 and t["validation_s"] > 0
    assert sum(t[k] for k in parts) == pytest.approx(t["loop_s"], rel=1e-6)
    assert t["loop_s"] <= t["total_s"]
