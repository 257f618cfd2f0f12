"""The candidate's training loop: minibatch steps, early stopping, the grown model.

Data-parallel groups (``ctx.size > 1``): gradients are averaged with
``ctx.allreduce_`` after every backward, and every rank takes the same number of
steps, so the replicas stay identical.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Callable

import torch
from torch import nn

from adanet_spark.adanet.collectives import allreduce_grads, sync_buffers, synced
from adanet_spark.adanet.ensemble import INFERENCE_CHUNK
from adanet_spark.adanet.objective import bce
from adanet_spark.adanet.protocol import TrainContext
from adanet_spark.adanet.rows import Rows
from adanet_spark.adanet.subnetwork import Subnetwork, complexity

PROGRESS_PER_EPOCH = 4


class CandidateCancelled(RuntimeError):
    """The executor asked this candidate to stop (``ctx.should_stop()`` turned true)."""


class GrownModel(nn.Module):
    """logit = b + sum_j w_j h_j(x) [frozen, precomputed] + w * h(x) [trained].

    The ensemble bias ``b`` stays fixed here: the candidate's own output bias can
    absorb any shift, so a second trainable scalar would only add optimizer work on
    the hot path; the mixture refit re-fits ``b`` afterwards.
    """

    def __init__(self, candidate: Subnetwork, bias: float):
        super().__init__()
        self.candidate = candidate
        self.offset = bias
        self.weight = nn.Parameter(torch.ones(()))
        self.coef = 0.0  # lambda * r(candidate) + beta, refreshed each epoch

    def forward(self, rows: Rows, idx: Any) -> torch.Tensor:
        extra = [None if e is None else e[idx] for e in rows.extra] if rows.connected else None
        out = self.weight * self.candidate(rows.numeric[idx], rows.categorical[idx], extra) + self.offset
        return out if rows.base is None else out + rows.base[idx]

    def loss(self, rows: Rows, idx: Any) -> torch.Tensor:
        loss = bce(self(rows, idx), rows.label[idx])
        return loss + self.coef * self.weight.abs() if self.coef else loss


@dataclass
class StepPlan:
    """Batches per epoch. In a data-parallel group every rank must take the same number
    of steps (or the allreduce deadlocks), so each uses floor(N / size) rows an epoch."""

    rows: int
    batch_size: int
    steps: int
    total_steps: int
    report_every: int

    @classmethod
    def make(cls, n_local: int, n_total: int, batch_size: int, epochs: int, ctx: TrainContext,
             batch_norm: bool) -> "StepPlan":
        rows = n_total // ctx.size if ctx.size > 1 else n_local
        if batch_norm and rows % batch_size == 1:
            rows -= 1  # a batch of one row breaks batch norm
        steps = max(1, math.ceil(rows / batch_size))
        return cls(rows, batch_size, steps, steps * max(epochs, 1), max(1, steps // PROGRESS_PER_EPOCH))


def run_epoch(step_loss: Callable[[torch.Tensor], torch.Tensor], params: list[nn.Parameter],
              opt: torch.optim.Optimizer, n: int, plan: StepPlan, ctx: TrainContext, gen: torch.Generator,
              done: int) -> None:
    """One pass over a random permutation: no DataLoader, no per-step host syncs."""
    perm = torch.randperm(n, generator=gen)[:plan.rows]
    sync = synced(ctx)
    slow = ctx.slow_factor > 1.0
    bs = plan.batch_size
    for s in range(plan.steps):
        start = time.perf_counter() if slow else 0.0
        loss = step_loss(perm[s * bs:(s + 1) * bs])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if sync:
            allreduce_grads(params, ctx)
        opt.step()
        if ctx.should_stop():
            raise CandidateCancelled("the executor cancelled this candidate")
        if slow:  # fault injection: stretch the step as a slow worker would
            time.sleep((ctx.slow_factor - 1.0) * (time.perf_counter() - start))
        if (s + 1) % plan.report_every == 0:
            ctx.report_progress(min(1.0, (done + s + 1) / plan.total_steps))


@torch.no_grad()
def eval_logits(model: GrownModel, rows: Rows) -> torch.Tensor:
    model.eval()
    out = torch.cat([model(rows, slice(i, i + INFERENCE_CHUNK)) for i in range(0, len(rows), INFERENCE_CHUNK)])
    model.train()
    return out


@torch.no_grad()
def candidate_logit(model: GrownModel, rows: Rows) -> torch.Tensor:
    """h(x) of the trained candidate alone, in inference mode."""
    model.candidate.eval()
    parts = []
    for i in range(0, len(rows), INFERENCE_CHUNK):
        idx = slice(i, i + INFERENCE_CHUNK)
        extra = [None if e is None else e[idx] for e in rows.extra]
        parts.append(model.candidate(rows.numeric[idx], rows.categorical[idx], extra))
    return torch.cat(parts)


def fit_candidate(model: GrownModel, train: Rows, valid: Rows, lr: float, budget: Any, plan: StepPlan,
                  ctx: TrainContext, gen: torch.Generator, n_total: int) -> tuple[int, int]:
    """Adam with early stopping on validation loss; restores the best epoch's weights.
    Returns (epochs run, best epoch)."""
    params = list(model.parameters())
    # fused: one kernel per step for all parameters instead of ~10 small ops each; and one
    # parameter group unless weight decay must spare the mixture weight (a group is a kernel).
    groups = [{"params": params}] if not budget.weight_decay else [
        {"params": list(model.candidate.parameters()), "weight_decay": budget.weight_decay},
        {"params": [model.weight], "weight_decay": 0.0}]
    opt = torch.optim.Adam(groups, lr=lr, fused=True)
    best_loss, best_state, best_epoch, stale, epoch = math.inf, None, -1, 0, -1
    for epoch in range(budget.epochs):
        model.coef = budget.lambda_ * complexity(model.candidate, budget.complexity, n_total) + budget.beta
        run_epoch(lambda idx: model.loss(train, idx), params, opt, len(train), plan, ctx, gen,
                  epoch * plan.steps)
        sync_buffers(model, ctx)
        valid_loss = float(bce(eval_logits(model, valid), valid.label))  # one sync per epoch
        if valid_loss < best_loss:
            best_loss, best_epoch, stale = valid_loss, epoch, 0
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            stale += 1
            if budget.patience and stale >= budget.patience:
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    return epoch + 1, best_epoch
