"""The candidate's training loop: steps, progress, cancel, slow workers, early stopping."""
import pytest
import torch

from adanet_spark.adanet import loop
from adanet_spark.adanet.architecture import CandidateSpec, EnsembleArch, InputSpec, build_subnetwork_arch
from adanet_spark.adanet.ensemble import Ensemble
from adanet_spark.adanet.loop import CandidateCancelled, GrownModel, StepPlan, fit_candidate
from adanet_spark.adanet.objective import bce
from adanet_spark.adanet.protocol import TrainContext
from adanet_spark.adanet.rows import frozen_rows
from adanet_spark.adanet.subnetwork import Subnetwork
from adanet_spark.adanet.train import TrainBudget, train_candidate
from adanet_spark.adanet.tensor_data import TensorData
from tests.adanet.adanet_data import parity_data

INPUTS = InputSpec(6, (4, 6), 16)
BUDGET = TrainBudget(epochs=3, batch_size=256, patience=0)


def spec(width=16, **kw):
    return CandidateSpec(name="same-d2-w16", depth=2, width=width, learning_rate=3e-3, inputs=INPUTS, **kw)


@pytest.fixture(scope="module")
def data():
    return {"train": parity_data(2000, 0), "valid": parity_data(500, 1)}


def test_context_hooks_progress_and_cancel(data):
    progress = []
    train_candidate(spec(), data, BUDGET, TrainContext(report_progress=progress.append), seed=1)
    assert len(progress) >= BUDGET.epochs * 2 and progress == sorted(progress) and progress[-1] == 1.0
    calls = []
    stopping = TrainContext(should_stop=lambda: calls.append(1) or len(calls) > 3)
    with pytest.raises(CandidateCancelled):
        train_candidate(spec(), data, BUDGET, stopping, seed=1)
    assert len(calls) == 4  # checked every batch, stopped at once


def test_slow_factor_sleeps_after_each_step(data, monkeypatch):
    sleeps = []
    monkeypatch.setattr(loop.time, "sleep", sleeps.append)
    budget = TrainBudget(epochs=1, batch_size=500, patience=0, refit_mixture_weights=False)
    train_candidate(spec(), data, budget, TrainContext(slow_factor=3.0), seed=1)
    assert len(sleeps) == 4 and all(s >= 0 for s in sleeps)


def test_step_plan_covers_the_rows_and_keeps_ranks_in_step():
    plan = StepPlan.make(1001, 1001, 100, 3, TrainContext(), batch_norm=False)
    assert (plan.rows, plan.steps, plan.total_steps, plan.report_every) == (1001, 11, 33, 2)
    # batch norm cannot train on a last batch of one row: that row is left out
    assert StepPlan.make(1001, 1001, 100, 3, TrainContext(), batch_norm=True).rows == 1000
    # a group of two: each rank takes floor(1001 / 2) rows, whatever its own shard holds
    pair = [StepPlan.make(n, 1001, 100, 1, TrainContext(rank=r, size=2), False) for r, n in ((0, 501), (1, 500))]
    assert pair[0] == pair[1] and pair[0].rows == 500 and pair[0].steps == 5


def test_grown_model_adds_the_weighted_candidate_to_the_frozen_ensemble():
    d = parity_data(64, 0)
    gen = torch.Generator().manual_seed(0)
    candidate = Subnetwork(build_subnetwork_arch(spec(), EnsembleArch()), generator=gen)
    torch.nn.init.normal_(candidate.head.weight, generator=gen)  # a fresh head is zero: h(x) = 0
    rows = frozen_rows(Ensemble(bias=0.3), d, candidate)
    assert rows.base is None and rows.z.shape == (64, 0)
    model = GrownModel(candidate, bias=0.3)
    with torch.no_grad():
        model.weight.fill_(2.0)
        h = candidate(d.numeric, d.categorical)
        assert h.abs().sum() > 0
        torch.testing.assert_close(model(rows, slice(None)), 0.3 + 2.0 * h)
        model.coef = 0.5
        torch.testing.assert_close(model.loss(rows, slice(None)), bce(0.3 + 2.0 * h, d.label) + 0.5 * 2.0)


def test_early_stopping_waits_patience_epochs_and_restores_the_best(monkeypatch):
    """Random labels: the candidate can only overfit, so validation loss soon rises."""
    gen = torch.Generator().manual_seed(0)
    noise = {k: TensorData(d.numeric, d.categorical, torch.randint(0, 2, (len(d),), generator=gen).float())
             for k, d in (("train", parity_data(1000, 0)), ("valid", parity_data(500, 1)))}
    candidate = Subnetwork(build_subnetwork_arch(spec(width=64), EnsembleArch()), generator=gen)
    train, valid = (frozen_rows(Ensemble(), noise[k], candidate) for k in ("train", "valid"))
    model = GrownModel(candidate, bias=0.0)
    budget = TrainBudget(epochs=30, batch_size=50, patience=2)
    plan = StepPlan.make(len(train), len(train), budget.batch_size, budget.epochs, TrainContext(), False)
    losses, eval_logits = [], loop.eval_logits

    def recording(model, rows):
        out = eval_logits(model, rows)
        losses.append(float(bce(out, rows.label)))
        return out

    monkeypatch.setattr(loop, "eval_logits", recording)
    epochs_run, best = fit_candidate(model, train, valid, 0.02, budget, plan, TrainContext(), gen, len(train))
    assert epochs_run < budget.epochs and epochs_run == best + 1 + budget.patience == len(losses)
    assert losses[best] == min(losses)
    assert float(bce(eval_logits(model, valid), valid.label)) == pytest.approx(losses[best], abs=1e-6)
