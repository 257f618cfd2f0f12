"""How hard a candidate trains: a step budget that follows the data, and its schedule.

A fixed epoch count is wrong at both ends: a few epochs of a small table are too
few steps to learn anything, and one epoch of a large one is far more than a
subnetwork of a boosting-style ensemble needs. So the budget is ``epochs`` passes
over the training rows, clamped to ``[min_steps, max_steps]`` batches. Within it:
linear warmup, cosine decay to ``min_lr`` of the peak rate, and ``checks``
validation checks (step 0 included) where early stopping decides, with
``patience`` counted in checks and the best state restored.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from adanet_spark.adanet.plain import Plain


@dataclass
class TrainBudget(Plain):
    """Plain values shipped in every candidate's payload."""

    batch_size: int = 1024
    epochs: float = 4.0  # at most this many passes over the training rows ...
    min_steps: int = 300  # ... but never fewer steps than this (small tables) ...
    max_steps: int = 3000  # ... nor more than this (large ones)
    checks: int = 20  # validation checks per candidate, besides the one at step 0
    patience: int = 6  # checks without a better validation loss before stopping; 0 = never
    check_rows: int = 50_000  # validation rows scored at intermediate checks (all at the end)
    warmup: float = 0.05  # fraction of the budget spent warming the learning rate up
    min_lr: float = 0.1  # the cosine schedule ends at this fraction of the peak rate
    clip_norm: float = 1.0  # gradient norm clipping; 0 disables it
    weight_decay: float = 1e-5  # AdamW's decoupled weight decay
    shrinkage: float = 0.5  # initial mixture weight of a candidate joining a non-empty ensemble
    lambda_: float = 0.0
    beta: float = 0.0
    complexity: str = "sqrt_depth"
    refit_mixture_weights: bool = True
    mixture_epochs: int = 4  # passes of the mixture refit over its rows (refit_rows)
    mixture_learning_rate: float = 0.01
    refit_rows: int = 200_000  # training rows the mixture refit and the train metrics use
    shuffle: bool = True  # False: every pass in storage order (reproducible comparisons)

    def for_candidate(self, spec: Any) -> "TrainBudget":
        """This budget as one candidate gets it: its own weight decay and share of steps."""
        scale = float(getattr(spec, "steps_scale", 1.0) or 1.0)
        decay = getattr(spec, "weight_decay", None)
        return replace(self, epochs=self.epochs * scale, min_steps=max(1, round(self.min_steps * scale)),
                       max_steps=max(1, round(self.max_steps * scale)),
                       weight_decay=self.weight_decay if decay is None else float(decay))


@dataclass(frozen=True)
class StepPlan:
    """The steps of one candidate. ``rows`` is each rank's rows per epoch: in a
    data-parallel group every rank must take the same number of steps (or a
    collective deadlocks), so all use the smallest rank's count."""

    rows: int
    batch_size: int
    steps_per_epoch: int
    total_steps: int
    check_every: int
    warmup_steps: int
    min_lr: float

    @classmethod
    def make(cls, rows: int, budget: TrainBudget, batch_norm: bool = False) -> "StepPlan":
        batch = max(1, min(budget.batch_size, rows))
        if batch_norm and rows % batch == 1:
            rows -= 1  # a batch of one row breaks batch norm
        per_epoch = max(1, rows // batch)
        wanted = math.ceil(budget.epochs * rows / batch)
        total = int(min(max(wanted, budget.min_steps), budget.max_steps))
        every = max(1, total // max(1, budget.checks))
        return cls(rows, batch, per_epoch, total, every, int(budget.warmup * total), budget.min_lr)

    def lr_factor(self, step: int) -> float:
        """Multiplier of the peak learning rate at ``step``: linear warmup, then cosine."""
        if step < self.warmup_steps:
            return (step + 1) / self.warmup_steps
        span = max(1, self.total_steps - self.warmup_steps)
        progress = min(1.0, (step - self.warmup_steps) / span)
        return self.min_lr + (1.0 - self.min_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))

    def is_check(self, step: int) -> bool:
        """After ``step`` steps, is this a validation check?"""
        return step % self.check_every == 0 or step == self.total_steps
