"""Toy train functions for the executor tests (shipped to workers by value)."""
from __future__ import annotations

import os
import time


def sleepy(payload, data, ctx):
    """Sleeps ``seconds`` (stretched by ctx.slow_factor) in ``steps`` steps, reporting progress."""
    seconds = float(payload.get("seconds", 0.3))
    steps = int(payload.get("steps", 10))
    for i in range(steps):
        if ctx.should_stop():
            return {"name": payload.get("name"), "stopped_at": i, "pid": os.getpid()}
        time.sleep(seconds / steps * ctx.slow_factor)
        ctx.report_progress((i + 1) / steps)
    rows = len(data["train"].load()) if "train" in data else None
    return {"name": payload.get("name"), "pid": os.getpid(), "rows": rows, "rank": ctx.rank,
            "size": ctx.size, "slow_factor": ctx.slow_factor}


def crashy(payload, data, ctx):
    raise ValueError(f"bad candidate {payload.get('name')}")


def tiny_torch(payload, data, ctx):
    """A few full-batch steps of logistic regression on the (sharded) train split; averages
    gradients across the data-parallel group through ctx.allreduce_."""
    import torch
    torch.manual_seed(int(payload.get("seed", 0)))
    split = data["train"].load()
    if ctx.size > 1:
        split = split.shard(ctx.rank, ctx.size)
    x = split.numeric
    y = split.label
    w = torch.zeros(x.shape[1], requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([w, b], lr=float(payload.get("lr", 0.5)))
    steps = int(payload.get("steps", 20))
    for i in range(steps):
        if ctx.should_stop():
            break
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(x @ w + b, y)
        loss.backward()
        if ctx.allreduce_ is not None:
            if payload.get("grouped"):
                ctx.allreduce_([w.grad, b.grad])
            else:
                ctx.allreduce_(w.grad)
                ctx.allreduce_(b.grad)
        opt.step()
        if ctx.slow_factor > 1:
            time.sleep(0.01 * (ctx.slow_factor - 1))
        ctx.report_progress((i + 1) / steps)
    return {"name": payload.get("name"), "loss": float(loss.detach()), "w": w.detach().clone(),
            "rank": ctx.rank, "size": ctx.size, "rows": int(x.shape[0]), "pid": os.getpid()}
