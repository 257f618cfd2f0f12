"""What keeps the replicas of a data-parallel group identical.

Each helper is a no-op for a group of one (``ctx.size == 1``) or when the
executor gives no allreduce, so the training loop calls them unconditionally.
"""
from __future__ import annotations

import torch
from torch import nn

from adanet_spark.adanet.protocol import TrainContext


def synced(ctx: TrainContext) -> bool:
    return ctx.size > 1 and ctx.allreduce_ is not None


def allreduce_grads(params: list[nn.Parameter], ctx: TrainContext) -> None:
    """Average the gradients over the group in one grouped collective per step: a
    round trip per parameter made data-parallel training several times slower."""
    for p in params:
        if p.grad is None:  # every rank must join every allreduce
            p.grad = torch.zeros_like(p)
    ctx.allreduce_([p.grad for p in params])


def sync_buffers(model: nn.Module, ctx: TrainContext) -> None:
    """Average batch-norm running statistics over the group: every rank must see the same
    validation loss, or their early-stopping decisions (and allreduce calls) diverge."""
    if not synced(ctx):
        return
    for buf in model.buffers():
        if buf.is_floating_point():
            ctx.allreduce_(buf)


def mean_over_group(value: float, ctx: TrainContext) -> float:
    if not synced(ctx):
        return value
    t = torch.tensor([value], dtype=torch.float64)
    ctx.allreduce_(t)
    return float(t[0])


def min_over_group(value: float, ctx: TrainContext) -> float:
    """The smallest ``value`` of the group (the mean of ``-value`` s cannot give it, so
    each rank contributes its value at its own slot of a zero vector that is summed)."""
    if not synced(ctx):
        return value
    slots = torch.zeros(ctx.size, dtype=torch.float64)
    slots[ctx.rank] = value
    ctx.allreduce_(slots)  # an average: every slot is value / size
    return float(slots.min()) * ctx.size
