"""Train one AdaNet candidate on a worker: plain values in, plain values out.

The previous ensemble is frozen; the candidate subnetwork and its mixture weight
are trained on the binary cross-entropy of ensemble + candidate (plus the
candidate's l1 penalty) by :mod:`.loop`, on batches from :mod:`.batches` (in
memory or streamed). Then the :class:`~.ensembler.Ensembler` may refit all
mixture weights, and the metrics the driver selects on are computed here, on the
worker, so the driver never touches the data.

Executors call :func:`adanet_train_fn` (the ``train_fn(payload, data, ctx)`` of
:mod:`.protocol`); :func:`make_payload` builds its payload.

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
from typing import Any, Mapping, Optional

import torch

from adanet_spark.adanet.architecture import CandidateSpec, build_subnetwork_arch
from adanet_spark.adanet.batches import row_source
from adanet_spark.adanet.budget import StepPlan, TrainBudget
from adanet_spark.adanet.collectives import mean_over_group, min_over_group
from adanet_spark.adanet.ensemble import Ensemble
from adanet_spark.adanet.loop import GrownModel, fit_candidate
from adanet_spark.adanet.measure import grow, result
from adanet_spark.adanet.protocol import CandidateResult, TrainContext
from adanet_spark.adanet.subnetwork import Subnetwork

PAYLOAD_KIND = "adanet_candidate"


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
    """The executors' ``train_fn``: ``data`` maps 'train' and 'valid' to splits or streams."""
    previous = Ensemble.from_parts(payload["ensemble"]["architecture"], payload["ensemble"]["weights"])
    return train_candidate(CandidateSpec.from_dict(payload["spec"]), data,
                           TrainBudget.from_dict(payload["budget"]), ctx, previous=previous,
                           seed=int(payload["seed"]), iteration=int(payload.get("iteration", 0)))


def train_candidate(spec: CandidateSpec, data: Mapping[str, Any], budget: TrainBudget,
                    ctx: Optional[TrainContext] = None, previous: Optional[Ensemble] = None,
                    seed: int = 0, iteration: int = 0) -> CandidateResult:
    """Train ``spec`` on top of the frozen ``previous`` ensemble (bias-only if None)."""
    ctx = ctx or TrainContext()
    budget = budget.for_candidate(spec)
    start = time.perf_counter()
    gen = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        previous = previous if previous is not None and len(previous) else None
        train, valid, candidate, previous = _sources(spec, data, previous, ctx, gen, seed, budget)
        rows = int(min_over_group(len(train), ctx))
        plan = StepPlan.make(rows, budget, spec.batch_norm)
        n_total = rows * ctx.size
        weight = budget.shrinkage if len(previous) else 1.0
        model = GrownModel(candidate, float(previous.bias.detach()), initial_weight=weight)
        loop_start = time.perf_counter()
        report = fit_candidate(model, train, valid, spec.learning_rate, budget, plan, ctx, n_total)
        loop_s = time.perf_counter() - loop_start
        grown = grow(model, previous, train, valid, budget, plan, ctx, seed, n_total)
        return result(spec, grown, previous, budget, plan, report, ctx, seed=seed, iteration=iteration,
                      start=start, loop_s=loop_s, n_train=len(train))


def _sources(spec: CandidateSpec, data: Mapping[str, Any], previous: Optional[Ensemble], ctx: TrainContext,
             gen: torch.Generator, seed: int, budget: TrainBudget):
    """The row sources of both splits, the candidate, and the ensemble it joins: the
    previous one, or the best bias-only ensemble (bias logit(p) of the base rate p)."""
    base = previous if previous is not None else Ensemble()
    candidate = Subnetwork(build_subnetwork_arch(spec, base.architecture), generator=gen)
    train = row_source("train", data["train"], base, candidate, seed, ctx.rank, ctx.size, budget.shuffle)
    valid = row_source("valid", data["valid"], base, candidate, seed, shuffle=False)
    if previous is None:
        # Rows do not depend on the bias (the model adds it), so they stay valid.
        # From the refit's own sample: a streamed split is then read once for both, not twice.
        p = min(max(mean_over_group(train.label_mean(budget.refit_rows), ctx), 1e-6), 1.0 - 1e-6)
        previous = Ensemble(bias=math.log(p / (1.0 - p)))
    return train, valid, candidate, previous
