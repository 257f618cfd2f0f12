"""After training: the grown ensemble, its mixture refit, and the metrics selection reads.

Validation metrics use every validation row; training metrics and the refit use
up to ``budget.refit_rows`` training rows (all of them when the split is in
memory and small enough), so a streamed split is not read again in full.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Optional

import torch

from adanet_spark.adanet.budget import StepPlan, TrainBudget
from adanet_spark.adanet.collectives import mean_over_group
from adanet_spark.adanet.ensemble import FORWARD_CHUNK, Ensemble
from adanet_spark.adanet.ensembler import Ensembler
from adanet_spark.adanet.loop import FitReport, GrownModel
from adanet_spark.adanet.metrics import roc_auc
from adanet_spark.adanet.objective import bce, objective
from adanet_spark.adanet.protocol import CandidateResult, TrainContext
from adanet_spark.adanet.rows import Rows
from adanet_spark.adanet.subnetwork import complexity


@dataclass
class Grown:
    """The ensemble with the trained candidate, and every subnetwork's logits on both splits."""

    ensemble: Ensemble
    train: tuple  # (logits of each subnetwork [N, J], labels [N]) on the training sample
    valid: tuple  # the same on every validation row
    complexities: list
    refit: bool


@torch.no_grad()
def subnetwork_logits(model: GrownModel, rows: Rows) -> torch.Tensor:
    """[N, J+1]: the frozen subnetworks' logits and the trained candidate's, the candidate
    run ``FORWARD_CHUNK`` rows at a time (a refit sample is up to 200k rows)."""
    parts = []
    for i in range(0, len(rows), FORWARD_CHUNK):
        part = rows.slice(i, i + FORWARD_CHUNK)
        extra = part.extra if part.connected else None
        parts.append(model.candidate(part.numeric, part.categorical, extra))
    logits = torch.cat(parts) if parts else rows.z.new_zeros(0)
    return torch.cat([rows.z, logits.unsqueeze(1)], 1)


def _logits_and_labels(model: GrownModel, parts, rows: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Each subnetwork's logits and the labels of ``rows`` rows given in parts, written into
    tensors allocated once: a streamed split's chunks are never all held, and nothing a
    chunk allocates outlives it (small survivors between freed chunks would keep the
    allocator from reusing their memory: the RSS grew 600 MB over 2M validation rows)."""
    logits = labels = None
    at = 0
    for part in parts:
        z = subnetwork_logits(model, part)
        if logits is None:
            logits, labels = z.new_empty((rows, z.shape[1])), part.label.new_empty(rows)
        logits[at:at + len(part)] = z
        labels[at:at + len(part)] = part.label
        at += len(part)
    if logits is None:
        raise ValueError("no rows to score")
    return logits[:at], labels[:at]


def grow(model: GrownModel, previous: Ensemble, train: Any, valid: Any, budget: TrainBudget, plan: StepPlan,
         ctx: TrainContext, seed: int, n_total: int) -> Grown:
    """Ensemble + trained candidate, with the mixture refit by the Ensembler if asked for."""
    candidate = model.candidate.eval().requires_grad_(False)
    sample = train.sample(budget.refit_rows)
    on_train = _logits_and_labels(model, [sample], len(sample))
    on_valid = _logits_and_labels(model, valid.chunks(), len(valid))
    comps = previous.complexities(budget.complexity, n_total) + [complexity(candidate, budget.complexity, n_total)]
    mixture = torch.cat([previous.mixture.detach(), model.weight.detach().reshape(1)])
    bias = previous.bias.detach().clone()
    refit = False
    if budget.refit_mixture_weights and budget.mixture_epochs > 0 and len(previous):
        # Its own generator: the refit must not depend on how many draws training made.
        gen = torch.Generator().manual_seed((seed + 7919) & 0x7FFFFFFF)
        mixture, bias, refit = Ensembler(budget).refit(on_train, on_valid, mixture, bias, comps, ctx, gen)
    return Grown(previous.extended(candidate, mixture, bias), on_train, on_valid, comps, refit)


def result(spec: Any, grown: Grown, previous: Ensemble, budget: TrainBudget, plan: StepPlan, report: FitReport,
           ctx: TrainContext, **info: Any) -> CandidateResult:
    """Measure the grown ensemble and the previous one on both splits."""
    ensemble, comps = grown.ensemble, grown.complexities
    mix, bias = ensemble.mixture.detach(), ensemble.bias.detach()
    prev_mix, prev_bias = previous.mixture.detach(), previous.bias.detach()
    (zt, yt), (zv, yv) = grown.train, grown.valid
    arch_json, weights = ensemble.to_parts()
    elapsed = time.perf_counter() - info["start"]
    passes = report.steps * plan.batch_size / max(plan.rows, 1)
    return CandidateResult(
        name=spec.name, iteration=info["iteration"], seed=info["seed"], spec=spec.to_dict(),
        architecture_json=ensemble.subnetworks[-1].arch.to_json(), ensemble_architecture_json=arch_json,
        ensemble_weights={k: v.numpy() for k, v in weights.items()},
        train=_metrics(bias + zt @ mix, yt, mix, comps, budget, ctx),
        valid=_metrics(bias + zv @ mix, yv, mix, comps, budget, None),
        previous_train=_metrics(prev_bias + zt[:, :-1] @ prev_mix, yt, prev_mix, comps[:-1], budget, ctx),
        previous_valid=_metrics(prev_bias + zv[:, :-1] @ prev_mix, yv, prev_mix, comps[:-1], budget, None),
        previous_bias=float(prev_bias), complexity=comps[-1], complexities=comps,
        mixture=[float(m) for m in mix], epochs_run=passes,
        best_epoch=report.best_step * plan.batch_size / max(plan.rows, 1), refit_accepted=grown.refit,
        train_seconds=elapsed, rows_per_s=report.steps * plan.batch_size / max(info["loop_s"], 1e-9),
        n_train=info["n_train"], rank=ctx.rank, size=ctx.size, steps_run=report.steps,
        best_step=report.best_step, total_steps=plan.total_steps, checks=[list(c) for c in report.checks],
        timings=_timings(report, info["loop_s"], elapsed))


def _timings(report: FitReport, loop_s: float, total_s: float) -> dict:
    t = dict(report.timings)
    t["other_s"] = max(0.0, loop_s - sum(t.values()))
    t.update(loop_s=loop_s, total_s=total_s)
    return t


def _metrics(logits: torch.Tensor, labels: torch.Tensor, mixture: torch.Tensor, complexities: list,
             budget: TrainBudget, ctx: Optional[TrainContext]) -> dict:
    loss = float(bce(logits, labels))
    if ctx is not None:
        loss = mean_over_group(loss, ctx)
    return {"loss": loss, "auc": roc_auc(labels, logits),
            "objective": objective(loss, mixture, complexities, budget.lambda_, budget.beta)}
