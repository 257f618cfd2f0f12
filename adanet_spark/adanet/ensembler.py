"""The Ensembler: re-fits the mixture weights and bias once a candidate has trained.

With every subnetwork frozen, the refit is an l1-regularised logistic regression on
the subnetworks' logits (tensorflow/adanet's ComplexityRegularizedEnsembler). The
refit is kept only if it lowers the training objective: a few Adam steps may not.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch
from torch import nn

from adanet_spark.adanet.collectives import mean_over_group
from adanet_spark.adanet.loop import StepPlan, run_epoch
from adanet_spark.adanet.objective import bce, penalty, penalty_coefficients
from adanet_spark.adanet.protocol import TrainContext


class Ensembler:
    """``Ensembler(budget).refit(z, labels, mixture, bias, complexities, plan, ctx, gen)``.

    ``budget`` supplies ``lambda_``, ``beta``, ``mixture_epochs`` and
    ``mixture_learning_rate``; returns ``(mixture, bias, accepted)``.
    """

    def __init__(self, budget: Any):
        self.budget = budget

    def refit(self, z: torch.Tensor, labels: torch.Tensor, mixture: torch.Tensor, bias: torch.Tensor,
              complexities: Sequence[float], plan: StepPlan, ctx: TrainContext,
              gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, bool]:
        coefs = penalty_coefficients(complexities, self.budget.lambda_, self.budget.beta)

        def train_objective(w, b):
            return mean_over_group(float(bce(b + z @ w, labels)), ctx) + float(penalty(w, coefs))

        new_w, new_b = self._fit(z, labels, mixture, bias, coefs, plan, ctx, gen)
        if train_objective(new_w, new_b) < train_objective(mixture, bias):
            return new_w, new_b, True
        return mixture, bias, False

    def _fit(self, z: torch.Tensor, labels: torch.Tensor, mixture: torch.Tensor, bias: torch.Tensor,
             coefs: torch.Tensor, plan: StepPlan, ctx: TrainContext,
             gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        w = nn.Parameter(mixture.detach().clone())
        b = nn.Parameter(bias.detach().clone())
        opt = torch.optim.Adam([w, b], lr=self.budget.mixture_learning_rate, fused=True)
        # No progress reports from the refit: the candidate already reported 100%.
        quiet = TrainContext(ctx.rank, ctx.size, ctx.allreduce_, should_stop=ctx.should_stop,
                             slow_factor=ctx.slow_factor)

        def step_loss(idx):
            return bce(b + z[idx] @ w, labels[idx]) + penalty(w, coefs)

        for _ in range(self.budget.mixture_epochs):
            run_epoch(step_loss, [w, b], opt, len(labels), plan, quiet, gen, 0)
        return w.detach(), b.detach()
