"""The candidate's training loop: steps on a schedule, checks, early stopping, the best state,
AdamW's groups, clipping, divergence, progress, cancel and slow workers."""
import math

import pytest
import torch

from adanet_spark.adanet import loop
from adanet_spark.adanet.architecture import CandidateSpec, EnsembleArch, InputSpec, build_subnetwork_arch
from adanet_spark.adanet.batches import MemoryRows
from adanet_spark.adanet.budget import StepPlan, TrainBudget
from adanet_spark.adanet.ensemble import Ensemble
from adanet_spark.adanet.loop import (CandidateCancelled, CandidateDiverged, GrownModel, fit_candidate,
                                      make_optimizer, validation_loss)
from adanet_spark.adanet.objective import bce
from adanet_spark.adanet.protocol import TrainContext
from adanet_spark.adanet.rows import frozen_rows
from adanet_spark.adanet.subnetwork import Subnetwork
from adanet_spark.adanet.tensor_data import TensorData
from adanet_spark.adanet.train import train_candidate
from tests.adanet.adanet_data import parity_data

INPUTS = InputSpec(6, (4, 6), 16)
# 2000 rows in batches of 256: 7 steps per epoch; 40 steps, a check every 2 steps.
BUDGET = TrainBudget(batch_size=256, min_steps=40, max_steps=40, checks=20, patience=0)


def spec(width=16, learning_rate=3e-3, **kw):
    return CandidateSpec(name="same-d2-w16", depth=2, width=width, learning_rate=learning_rate, inputs=INPUTS,
                         **kw)


@pytest.fixture(scope="module")
def data():
    return {"train": parity_data(2000, 0), "valid": parity_data(500, 1)}


def setup_fit(data, width=16, seed=0, bias=0.0):
    """A fresh candidate on a bias-only ensemble and both splits in memory."""
    gen = torch.Generator().manual_seed(seed)
    candidate = Subnetwork(build_subnetwork_arch(spec(width), EnsembleArch()), generator=gen)
    train, valid = (MemoryRows(data[k], Ensemble(), candidate, seed) for k in ("train", "valid"))
    return GrownModel(candidate, bias=bias), train, valid


def test_checks_start_at_step_zero_and_cover_the_whole_budget(data):
    res = train_candidate(spec(), data, BUDGET, seed=1)
    steps = [s for s, _ in res.checks]
    assert steps == list(range(0, 41, 2)) and len(steps) >= BUDGET.checks + 1
    assert res.steps_run == res.total_steps == 40  # patience 0: never stops early
    assert res.best_step in steps and res.checks[steps.index(res.best_step)][1] == min(l for _, l in res.checks)
    assert res.epochs_run == pytest.approx(40 * 256 / 2000) and res.best_epoch == pytest.approx(
        res.best_step * 256 / 2000)


def test_context_hooks_progress_and_cancel(data):
    progress = []
    res = train_candidate(spec(), data, BUDGET,
                          TrainContext(report_progress=lambda f, valid_loss=None: progress.append((f, valid_loss))),
                          seed=1)
    fractions = [f for f, _ in progress]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    # every check reports its validation loss, at its own fraction of the budget
    assert [(round(f * 40, 6), v) for f, v in progress if v is not None] == [(s, v) for s, v in res.checks]
    calls = []
    stopping = TrainContext(should_stop=lambda: calls.append(1) or len(calls) > 3)
    with pytest.raises(CandidateCancelled):
        train_candidate(spec(), data, BUDGET, stopping, seed=1)
    assert len(calls) == 4  # checked after every step, stopped at once


def test_slow_factor_sleeps_after_each_step_and_each_check(data, monkeypatch):
    sleeps = []
    monkeypatch.setattr(loop.time, "sleep", sleeps.append)
    res = train_candidate(spec(), data, BUDGET, TrainContext(slow_factor=3.0), seed=1)
    assert len(res.checks) == 21 and len(sleeps) == 40 + 21 and all(s >= 0 for s in sleeps)
    monkeypatch.setattr(loop.time, "sleep", lambda s: pytest.fail("a worker at full speed slept"))
    train_candidate(spec(), data, BUDGET, TrainContext(slow_factor=1.0), seed=1)


def test_grown_model_adds_the_weighted_candidate_to_the_frozen_ensemble():
    d = parity_data(64, 0)
    gen = torch.Generator().manual_seed(0)
    candidate = Subnetwork(build_subnetwork_arch(spec(), EnsembleArch()), generator=gen)
    torch.nn.init.normal_(candidate.head.weight, generator=gen)  # a fresh head is zero: h(x) = 0
    rows = frozen_rows(Ensemble(bias=0.3), d, candidate)
    assert rows.base is None and rows.z.shape == (64, 0)
    assert float(GrownModel(candidate, bias=0.3).weight.detach()) == 1.0
    model = GrownModel(candidate, bias=0.3, initial_weight=0.25)  # shrinkage: a smaller first weight
    assert float(model.weight.detach()) == 0.25 and model.weight.requires_grad
    with torch.no_grad():
        h = candidate(d.numeric, d.categorical)
        assert h.abs().sum() > 0
        torch.testing.assert_close(model(rows), 0.3 + 0.25 * h)
        model.coef = 0.5
        torch.testing.assert_close(model.loss(rows), bce(0.3 + 0.25 * h, d.label) + 0.5 * 0.25)


def test_early_stopping_counts_patience_in_checks_and_restores_the_best():
    """Labels drawn at a base rate of 0.8, independent of the features: the candidate first
    learns the base rate (the ensemble's bias is left at 0), then can only overfit."""
    gen = torch.Generator().manual_seed(0)
    noise = {k: TensorData(d.numeric, d.categorical, (torch.rand(len(d), generator=gen) < 0.8).float())
             for k, d in (("train", parity_data(1000, 0)), ("valid", parity_data(500, 1)))}
    model, train, valid = setup_fit(noise, width=64)
    budget = TrainBudget(batch_size=50, min_steps=1000, max_steps=1000, checks=100, patience=3, warmup=0.0)
    plan = StepPlan.make(len(train), budget)
    report = fit_candidate(model, train, valid, 0.02, budget, plan, TrainContext(), len(train))
    steps, losses = [s for s, _ in report.checks], [v for _, v in report.checks]
    best = losses.index(min(losses))
    assert steps == [i * plan.check_every for i in range(len(steps))]
    assert 0 < best and len(steps) == best + 1 + budget.patience  # stopped after 3 checks without a better loss
    assert report.steps == steps[-1] < plan.total_steps
    assert (report.best_step, report.best_loss) == (steps[best], losses[best])
    assert losses[-1] > losses[best]
    # the restored weights are the best check's: they give its validation loss again
    assert validation_loss(model, valid.sample(budget.check_rows)) == pytest.approx(losses[best], abs=1e-6)


def test_patience_zero_never_stops_early_but_still_restores_the_best(data):
    model, train, valid = setup_fit(data)
    plan = StepPlan.make(len(train), BUDGET)
    report = fit_candidate(model, train, valid, 0.5, BUDGET, plan, TrainContext(), len(train))
    assert report.steps == plan.total_steps
    assert validation_loss(model, valid.sample(BUDGET.check_rows)) == pytest.approx(report.best_loss, abs=1e-6)


def test_the_schedule_sets_each_steps_learning_rate(data, monkeypatch):
    seen = []
    real = loop.make_optimizer

    def recording(model, lr, budget):
        opt = real(model, lr, budget)
        step = opt.step
        opt.step = lambda *a, **k: (seen.append([g["lr"] for g in opt.param_groups]), step(*a, **k))[1]
        return opt

    monkeypatch.setattr(loop, "make_optimizer", recording)
    budget = TrainBudget(batch_size=256, min_steps=40, max_steps=40, warmup=0.1, min_lr=0.1, patience=0)
    model, train, valid = setup_fit(data)
    plan = StepPlan.make(len(train), budget)
    fit_candidate(model, train, valid, 0.01, budget, plan, TrainContext(), len(train))
    assert len(seen) == 40
    for s, rates in enumerate(seen):
        assert rates == [pytest.approx(0.01 * plan.lr_factor(s))] * 2
    assert seen[0][0] == pytest.approx(0.01 / 4) and seen[-1][0] < 0.01 * 0.11


def test_adamw_decays_matrices_and_embeddings_but_not_biases_or_the_mixture_weight():
    gen = torch.Generator().manual_seed(0)
    candidate = Subnetwork(build_subnetwork_arch(spec(), EnsembleArch()), generator=gen)
    torch.nn.init.normal_(candidate.head.weight, generator=gen)
    torch.nn.init.normal_(candidate.head.bias, generator=gen)
    model = GrownModel(candidate, bias=0.0, initial_weight=0.7)
    opt = make_optimizer(model, 0.1, TrainBudget(weight_decay=0.5))
    decayed, plain = ({id(p) for p in g["params"]} for g in opt.param_groups)
    named = dict(candidate.named_parameters())
    assert decayed == {id(named[n]) for n in ("inputs.table.weight", "layers.0.weight", "layers.1.weight",
                                              "head.weight")}
    assert plain == {id(p) for n, p in named.items() if n.endswith("bias")} | {id(model.weight)}
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    for p in model.parameters():  # no gradient: Adam moves nothing, only the decay acts
        p.grad = torch.zeros_like(p)
    opt.step()
    for n, p in model.named_parameters():
        factor = 1 - 0.1 * 0.5 if id(p) in decayed else 1.0
        torch.testing.assert_close(p.detach(), before[n] * factor, msg=n)


@pytest.mark.parametrize("clip_norm", [1e-3, 0.0])
def test_gradients_are_clipped_to_clip_norm(data, monkeypatch, clip_norm):
    norms = []
    real = loop.make_optimizer

    def recording(model, lr, budget):
        opt = real(model, lr, budget)
        step = opt.step

        def checked(*a, **k):
            grads = [p.grad for g in opt.param_groups for p in g["params"] if p.grad is not None]
            norms.append(float(torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))))
            return step(*a, **k)
        opt.step = checked
        return opt

    monkeypatch.setattr(loop, "make_optimizer", recording)
    budget = TrainBudget(batch_size=256, min_steps=10, max_steps=10, patience=0, clip_norm=clip_norm)
    model, train, valid = setup_fit(data)
    fit_candidate(model, train, valid, 3e-3, budget, StepPlan.make(len(train), budget), TrainContext(), len(train))
    assert len(norms) == 10
    if clip_norm:
        assert max(norms) <= clip_norm * (1 + 1e-4)
    else:
        assert max(norms) > 1e-2  # unclipped, the same steps have far larger gradients


def test_a_nan_loss_raises_candidate_diverged_with_the_step(data):
    with pytest.raises(CandidateDiverged, match=r"training loss became nan at step \d+") as err:
        train_candidate(spec(learning_rate=1e30), data, BUDGET, seed=1)
    step = int(str(err.value).split("at step ")[1].split()[0])
    assert 0 < step <= 40 and step % 2 == 0  # found at a check
    bad = TensorData(data["train"].numeric.clone(), data["train"].categorical, data["train"].label)
    bad.numeric[5, 0] = math.nan  # a feature pipeline that let a NaN through
    with pytest.raises(CandidateDiverged, match="at step"):
        train_candidate(spec(), {"train": bad, "valid": data["valid"]}, BUDGET, seed=1)


def test_validation_loss_in_chunks_is_the_mean_over_every_row(data, monkeypatch):
    model, _, valid = setup_fit(data)
    with torch.no_grad():
        model.candidate.head.weight.normal_(0.0, 1.0)  # a non-zero head: the rows differ
    rows = valid.sample(10 ** 6)
    with torch.no_grad():
        whole = float(bce(model(rows), rows.label))
    monkeypatch.setattr(loop, "FORWARD_CHUNK", 7)  # 500 rows: 72 chunks, the last one short
    assert validation_loss(model, rows) == pytest.approx(whole, rel=1e-6)
    assert model.training  # back in training mode after the check
