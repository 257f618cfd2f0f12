"""The candidate's training loop: AdamW steps on a schedule, validation checks, early stopping.

The loop runs the :class:`~.budget.StepPlan`: batches from a row source
(:mod:`.batches`), AdamW with decoupled weight decay, gradient clipping, linear
warmup then cosine decay. At each validation check (step 0 included) the loss on
a fixed validation sample decides early stopping (patience counted in checks)
and is reported to the executor, whose straggler policy compares candidates at
equal progress; the best state is restored at the end. A loss that turns NaN or
infinite ends the candidate with :class:`CandidateDiverged`.

Data-parallel groups (``ctx.size > 1``): gradients are averaged with
``ctx.allreduce_`` after every backward, and every rank takes the same number of
steps and sees the same validation loss, so the replicas stay identical.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from adanet_spark.adanet.budget import StepPlan, TrainBudget
from adanet_spark.adanet.collectives import allreduce_grads, mean_over_group, sync_buffers, synced
from adanet_spark.adanet.ensemble import FORWARD_CHUNK
from adanet_spark.adanet.objective import bce
from adanet_spark.adanet.protocol import TrainContext
from adanet_spark.adanet.rows import Rows
from adanet_spark.adanet.subnetwork import Subnetwork, complexity

PROGRESS_EVERY = 8  # steps between progress reports that are not checks


class CandidateCancelled(RuntimeError):
    """The executor asked this candidate to stop (``ctx.should_stop()`` turned true)."""


class CandidateDiverged(RuntimeError):
    """The training loss became NaN or infinite: the candidate failed, and says where."""


class GrownModel(nn.Module):
    """logit = b + sum_j w_j h_j(x) [frozen, precomputed] + w * h(x) [trained].

    The ensemble bias ``b`` stays fixed here: the candidate's own output bias can
    absorb any shift; the mixture refit re-fits ``b`` afterwards. ``weight`` starts at
    ``initial_weight``: below 1 for a candidate joining an ensemble (shrinkage).
    """

    def __init__(self, candidate: Subnetwork, bias: float, initial_weight: float = 1.0):
        super().__init__()
        self.candidate = candidate
        self.offset = bias
        self.weight = nn.Parameter(torch.tensor(float(initial_weight)))
        self.coef = 0.0  # lambda * r(candidate) + beta, refreshed at every check

    def forward(self, rows: Rows) -> torch.Tensor:
        extra = rows.extra if rows.connected else None
        out = self.weight * self.candidate(rows.numeric, rows.categorical, extra) + self.offset
        return out if rows.base is None else out + rows.base

    def loss(self, rows: Rows) -> torch.Tensor:
        loss = bce(self(rows), rows.label)
        return loss + self.coef * self.weight.abs() if self.coef else loss


@dataclass
class FitReport:
    steps: int = 0
    best_step: int = 0
    best_loss: float = math.inf
    checks: list = field(default_factory=list)  # (step, validation loss)
    timings: dict = field(default_factory=lambda: dict.fromkeys(
        ("data_s", "forward_backward_s", "optimizer_s", "validation_s"), 0.0))


def make_optimizer(model: GrownModel, lr: float, budget: TrainBudget) -> torch.optim.Optimizer:
    """AdamW: matrices and embeddings decay, biases and the mixture weight do not (decaying
    them only pulls the ensemble's output towards zero). fused: one kernel per group."""
    decay = [p for n, p in model.candidate.named_parameters() if p.ndim > 1]
    plain = [p for n, p in model.candidate.named_parameters() if p.ndim <= 1] + [model.weight]
    groups = [{"params": decay, "weight_decay": budget.weight_decay}, {"params": plain, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=lr, fused=True)


@torch.no_grad()
def validation_loss(model: GrownModel, rows: Rows) -> float:
    """Mean BCE over ``rows``, run ``FORWARD_CHUNK`` rows at a time (see there: about 2x faster)."""
    model.eval()
    total = 0.0
    for i in range(0, len(rows), FORWARD_CHUNK):
        part = rows.slice(i, i + FORWARD_CHUNK)
        total += float(bce(model(part), part.label)) * len(part)  # a mean per chunk, weighted
    model.train()
    return total / max(len(rows), 1)


def fit_candidate(model: GrownModel, train: Any, valid: Any, lr: float, budget: TrainBudget, plan: StepPlan,
                  ctx: TrainContext, n_total: int) -> FitReport:
    """Train ``model`` on ``train``'s batches for ``plan``; restore the best checked state."""
    params = [p for p in model.parameters() if p.requires_grad]
    opt = make_optimizer(model, lr, budget)
    check_rows = valid.sample(budget.check_rows)
    report = FitReport()
    best = _snapshot(model) if _check(model, check_rows, report, 0, budget, ctx, plan, n_total) else None
    stale, step, epoch = 0, 0, 0
    while step < plan.total_steps and not (budget.patience and stale >= budget.patience):
        for batch, data_s in _timed(train.epoch(plan, epoch)):
            report.timings["data_s"] += data_s
            loss, step_s = _step(model, opt, params, batch, lr * plan.lr_factor(step), budget, ctx, report)
            step += 1
            _between_steps(ctx, step, plan, step_s)
            if plan.is_check(step):
                _finite_or_raise(loss, step, lr, ctx)
                improved = _check(model, check_rows, report, step, budget, ctx, plan, n_total)
                best, stale = (_snapshot(model), 0) if improved else (best, stale + 1)
            if step >= plan.total_steps or (budget.patience and stale >= budget.patience):
                break
        epoch += 1
    report.steps = step
    if best is not None:
        model.load_state_dict(best)
    return report


def _step(model: GrownModel, opt: torch.optim.Optimizer, params: list, batch: Rows, lr: float,
          budget: TrainBudget, ctx: TrainContext, report: FitReport) -> tuple[torch.Tensor, float]:
    t0 = time.perf_counter()
    for group in opt.param_groups:
        group["lr"] = lr
    loss = model.loss(batch)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    t1 = time.perf_counter()
    if synced(ctx):
        allreduce_grads(params, ctx)
    if budget.clip_norm:
        nn.utils.clip_grad_norm_(params, budget.clip_norm, foreach=True)
    opt.step()
    t2 = time.perf_counter()
    report.timings["forward_backward_s"] += t1 - t0
    report.timings["optimizer_s"] += t2 - t1
    return loss.detach(), t2 - t0


def _between_steps(ctx: TrainContext, step: int, plan: StepPlan, step_s: float) -> None:
    if ctx.should_stop():
        raise CandidateCancelled("the executor cancelled this candidate")
    if ctx.slow_factor > 1.0:  # fault injection: stretch the step as a slow worker would
        time.sleep((ctx.slow_factor - 1.0) * step_s)
    if step % PROGRESS_EVERY == 0 and not plan.is_check(step):
        ctx.report_progress(step / plan.total_steps)


def _check(model: GrownModel, rows: Rows, report: FitReport, step: int, budget: TrainBudget,
           ctx: TrainContext, plan: StepPlan, n_total: int) -> bool:
    """One validation check; True when it is the best so far (the caller snapshots)."""
    t0 = time.perf_counter()
    model.coef = budget.lambda_ * complexity(model.candidate, budget.complexity, n_total) + budget.beta
    sync_buffers(model, ctx)
    loss = validation_loss(model, rows) + model.coef * float(model.weight.detach().abs())
    report.checks.append((step, loss))
    ctx.report_progress(step / plan.total_steps, valid_loss=loss)
    if ctx.slow_factor > 1.0:  # fault injection: a slow worker is slow at its checks too
        time.sleep((ctx.slow_factor - 1.0) * (time.perf_counter() - t0))
    report.timings["validation_s"] += time.perf_counter() - t0
    if loss < report.best_loss:
        report.best_loss, report.best_step = loss, step
        return True
    return False


def _snapshot(model: nn.Module) -> dict:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _finite_or_raise(loss: torch.Tensor, step: int, lr: float, ctx: TrainContext) -> None:
    """Agreed across a data-parallel group: a rank that stopped alone would leave the
    others waiting in their next allreduce."""
    value = float(loss)
    if mean_over_group(0.0 if math.isfinite(value) else 1.0, ctx) > 0.0:
        raise CandidateDiverged(f"training loss became {value} at step {step} (peak learning rate {lr:g})")


def _timed(iterator):
    """Yield ``(item, seconds spent producing it)``: the data part of the time breakdown."""
    it = iter(iterator)
    while True:
        t0 = time.perf_counter()
        try:
            item = next(it)
        except StopIteration:
            return
        yield item, time.perf_counter() - t0
