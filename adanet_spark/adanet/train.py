"""Train one AdaNet candidate on a worker: plain values in, plain values out.

The previous ensemble is frozen; the candidate subnetwork and its mixture weight
are trained on the binary cross-entropy of ensemble + candidate (plus the
candidate's l1 penalty), with early stopping on the validation loss
(:mod:`loop`). Then, optionally, all mixture weights and the bias are refit
(:mod:`ensembler`), and the metrics the driver selects on are computed here, on
the worker, so the driver never touches the data.

Executors call :func:`adanet_train_fn` (the ``train_fn(payload, data, ctx)`` of
:mod:`protocol`); :func:`make_payload` builds its payload.

Determinism: initial weights and batch order come from a generator seeded with
the payload's seed (derived from the run seed, iteration and candidate name by
:func:`derive_seed`, never from the worker), so any backend picks the same
architectures. Dropout draws from torch's global generator, seeded inside a
forked RNG state, so it is deterministic per process but not across ranks that
share one process.
"""
from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass
from typing import Any, Mapping, Optional

import torch

from adanet_spark.adanet.architecture import CandidateSpec, build_subnetwork_arch
from adanet_spark.adanet.collectives import mean_over_group
from adanet_spark.adanet.ensemble import Ensemble
from adanet_spark.adanet.ensembler import Ensembler
from adanet_spark.adanet.loop import GrownModel, StepPlan, candidate_logit, fit_candidate
from adanet_spark.adanet.metrics import roc_auc
from adanet_spark.adanet.objective import bce, objective
from adanet_spark.adanet.plain import Plain
from adanet_spark.adanet.protocol import CandidateResult, TrainContext
from adanet_spark.adanet.rows import Rows, check_inputs, frozen_rows
from adanet_spark.adanet.subnetwork import Subnetwork, complexity

PAYLOAD_KIND = "adanet_candidate"


@dataclass
class TrainBudget(Plain):
    """How hard to train one candidate (plain values, shipped in the payload)."""

    epochs: int = 3
    batch_size: int = 512
    patience: int = 2  # epochs without a better validation loss before stopping; 0 = never
    weight_decay: float = 0.0
    lambda_: float = 0.0
    beta: float = 0.0
    complexity: str = "sqrt_depth"
    refit_mixture_weights: bool = True
    mixture_epochs: int = 1
    mixture_learning_rate: float = 0.01


def derive_seed(run_seed: int, iteration: int, name: str) -> int:
    """A stable 31-bit seed (Python's ``hash`` is salted per process, so not that)."""
    digest = hashlib.sha256(f"{run_seed}:{iteration}:{name}".encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


def make_payload(spec: CandidateSpec, previous: Ensemble, budget: TrainBudget, seed: int,
                 iteration: int) -> dict:
    arch_json, weights = previous.to_parts()
    return {"kind": PAYLOAD_KIND, "iteration": iteration, "seed": seed, "spec": spec.to_dict(),
            "budget": budget.to_dict(),
            "ensemble": {"architecture": arch_json, "weights": {k: v.numpy() for k, v in weights.items()}}}


def adanet_train_fn(payload: dict, data: Mapping[str, Any], ctx: TrainContext) -> CandidateResult:
    """The executors' ``train_fn``: ``data`` maps 'train' and 'valid' to loadable splits."""
    previous = Ensemble.from_parts(payload["ensemble"]["architecture"], payload["ensemble"]["weights"])
    return train_candidate(CandidateSpec.from_dict(payload["spec"]), data,
                           TrainBudget.from_dict(payload["budget"]), ctx, previous=previous,
                           seed=int(payload["seed"]), iteration=int(payload.get("iteration", 0)))


def train_candidate(spec: CandidateSpec, data: Mapping[str, Any], budget: TrainBudget,
                    ctx: Optional[TrainContext] = None, previous: Optional[Ensemble] = None,
                    seed: int = 0, iteration: int = 0) -> CandidateResult:
    """Train ``spec`` on top of the frozen ``previous`` ensemble (bias-only if None)."""
    ctx = ctx or TrainContext()
    start = time.perf_counter()
    train_all, valid_data = data["train"].load(), data["valid"].load()
    check_inputs(train_all, spec.inputs, "train")
    check_inputs(valid_data, spec.inputs, "valid")
    train_data = train_all.shard(ctx.rank, ctx.size) if ctx.size > 1 else train_all
    if previous is None or not len(previous):
        previous = _base_rate_ensemble(train_data.label, ctx)
    gen = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        candidate = Subnetwork(build_subnetwork_arch(spec, previous.architecture), generator=gen)
        train, valid = frozen_rows(previous, train_data, candidate), frozen_rows(previous, valid_data, candidate)
        plan = StepPlan.make(len(train), len(train_all), budget.batch_size, budget.epochs, ctx,
                             spec.batch_norm)
        model = GrownModel(candidate, float(previous.bias.detach()))
        loop_start = time.perf_counter()
        epochs_run, best_epoch = fit_candidate(model, train, valid, spec.learning_rate, budget, plan,
                                               ctx, gen, len(train_all))
        loop_s = time.perf_counter() - loop_start
        grown = _grow(model, previous, train, valid, budget, plan, ctx, gen, len(train_all))
        return _result(spec, grown, previous, train, valid, budget, plan, ctx, seed=seed, iteration=iteration,
                       epochs_run=epochs_run, best_epoch=best_epoch, start=start, loop_s=loop_s)


@dataclass
class _Grown:
    """The ensemble with the trained candidate, and what measuring it needs."""

    ensemble: Ensemble
    z_train: torch.Tensor  # each subnetwork's logit (the refit's features)
    z_valid: torch.Tensor
    complexities: list
    refit: bool


def _grow(model: GrownModel, previous: Ensemble, train: Rows, valid: Rows, budget: TrainBudget,
          plan: StepPlan, ctx: TrainContext, gen: torch.Generator, n_total: int) -> _Grown:
    """Ensemble + trained candidate, with the mixture refit by the Ensembler if asked for."""
    candidate = model.candidate.eval().requires_grad_(False)
    z_train = torch.cat([train.z, candidate_logit(model, train).unsqueeze(1)], 1)
    z_valid = torch.cat([valid.z, candidate_logit(model, valid).unsqueeze(1)], 1)
    comps = previous.complexities(budget.complexity, n_total) + [complexity(candidate, budget.complexity, n_total)]
    mixture = torch.cat([previous.mixture.detach(), model.weight.detach().reshape(1)])
    bias = previous.bias.detach().clone()
    refit = False
    if budget.refit_mixture_weights and budget.mixture_epochs > 0:
        mixture, bias, refit = Ensembler(budget).refit(z_train, train.label, mixture, bias, comps, plan, ctx, gen)
    return _Grown(previous.extended(candidate, mixture, bias), z_train, z_valid, comps, refit)


def _result(spec: CandidateSpec, grown: _Grown, previous: Ensemble, train: Rows, valid: Rows,
            budget: TrainBudget, plan: StepPlan, ctx: TrainContext, **info: Any) -> CandidateResult:
    """Measure the grown ensemble and the previous one on both splits."""
    ensemble, comps = grown.ensemble, grown.complexities
    mix, bias = ensemble.mixture.detach(), ensemble.bias.detach()
    prev_mix, prev_bias = previous.mixture.detach(), previous.bias.detach()
    arch_json, weights = ensemble.to_parts()
    elapsed = time.perf_counter() - info["start"]
    return CandidateResult(
        name=spec.name, iteration=info["iteration"], seed=info["seed"], spec=spec.to_dict(),
        architecture_json=ensemble.subnetworks[-1].arch.to_json(), ensemble_architecture_json=arch_json,
        ensemble_weights={k: v.numpy() for k, v in weights.items()},
        train=_metrics(bias + grown.z_train @ mix, train.label, mix, comps, budget, ctx),
        valid=_metrics(bias + grown.z_valid @ mix, valid.label, mix, comps, budget, None),
        previous_train=_metrics(prev_bias + train.z @ prev_mix, train.label, prev_mix, comps[:-1], budget, ctx),
        previous_valid=_metrics(prev_bias + valid.z @ prev_mix, valid.label, prev_mix, comps[:-1], budget, None),
        previous_bias=float(prev_bias), complexity=comps[-1], complexities=comps,
        mixture=[float(m) for m in mix], epochs_run=info["epochs_run"], best_epoch=info["best_epoch"],
        refit_accepted=grown.refit, train_seconds=elapsed,
        rows_per_s=info["epochs_run"] * plan.rows / max(info["loop_s"], 1e-9), n_train=len(train),
        rank=ctx.rank, size=ctx.size, timings={"loop_s": info["loop_s"], "total_s": elapsed})


def _metrics(logits: torch.Tensor, labels: torch.Tensor, mixture: torch.Tensor, complexities: list,
             budget: TrainBudget, ctx: Optional[TrainContext]) -> dict:
    loss = float(bce(logits, labels))
    if ctx is not None:
        loss = mean_over_group(loss, ctx)
    return {"loss": loss, "auc": roc_auc(labels, logits),
            "objective": objective(loss, mixture, complexities, budget.lambda_, budget.beta)}


def _base_rate_ensemble(labels: torch.Tensor, ctx: TrainContext) -> Ensemble:
    """The best bias-only ensemble predicts the base rate p: its bias is logit(p)."""
    p = mean_over_group(float(labels.double().mean()), ctx)
    p = min(max(p, 1e-6), 1.0 - 1e-6)
    return Ensemble(bias=math.log(p / (1.0 - p)))
