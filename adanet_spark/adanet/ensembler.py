"""The Ensembler: re-fits the mixture weights and bias once a candidate has trained.

With every subnetwork frozen, the refit is an l1-regularised logistic regression on
the subnetworks' logits (tensorflow/adanet's ComplexityRegularizedEnsembler), fit
on (a sample of) the training rows. Training logits favour the newest, most
overfit subnetwork, so the refit is kept only if it lowers the VALIDATION
objective.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch
from torch import nn

from adanet_spark.adanet.collectives import allreduce_grads, min_over_group, synced
from adanet_spark.adanet.objective import bce, penalty, penalty_coefficients
from adanet_spark.adanet.protocol import TrainContext


class Ensembler:
    """``Ensembler(budget).refit(...)``: ``budget`` supplies ``lambda_``, ``beta``,
    ``mixture_epochs``, ``mixture_learning_rate`` and ``batch_size``."""

    def __init__(self, budget: Any):
        self.budget = budget

    def refit(self, train: tuple[torch.Tensor, torch.Tensor], valid: tuple[torch.Tensor, torch.Tensor],
              mixture: torch.Tensor, bias: torch.Tensor, complexities: Sequence[float], ctx: TrainContext,
              gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, bool]:
        """``train``/``valid``: (subnetwork logits [N, J], labels [N]). Returns
        ``(mixture, bias, accepted)``: the refit when it lowers the validation objective."""
        coefs = penalty_coefficients(complexities, self.budget.lambda_, self.budget.beta)

        def valid_objective(w, b):
            z, y = valid
            return float(bce(b + z @ w, y)) + float(penalty(w, coefs))

        new_w, new_b = self._fit(train, mixture, bias, coefs, ctx, gen)
        if valid_objective(new_w, new_b) < valid_objective(mixture, bias):
            return new_w, new_b, True
        return mixture, bias, False

    def _fit(self, train: tuple[torch.Tensor, torch.Tensor], mixture: torch.Tensor, bias: torch.Tensor,
             coefs: torch.Tensor, ctx: TrainContext, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        z, y = train
        w = nn.Parameter(mixture.detach().clone())
        b = nn.Parameter(bias.detach().clone())
        opt = torch.optim.Adam([w, b], lr=self.budget.mixture_learning_rate, fused=True)
        n = int(min_over_group(len(y), ctx))  # every rank of a group takes the same steps
        batch = max(1, min(self.budget.batch_size, n))
        for _ in range(self.budget.mixture_epochs):
            order = torch.randperm(len(y), generator=gen)[:n]
            for i in range(0, n - batch + 1, batch):
                idx = order[i:i + batch]
                loss = bce(b + z[idx] @ w, y[idx]) + penalty(w, coefs)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                if synced(ctx):
                    allreduce_grads([w, b], ctx)
                opt.step()
        return w.detach(), b.detach()
