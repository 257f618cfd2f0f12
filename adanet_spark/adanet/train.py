"""Train one AdaNet candidate on a worker: plain values in, plain values out.

The previous ensemble is frozen; the candidate subnetwork and its mixture weight
are trained on the binary cross-entropy of ensemble + candidate (plus the
candidate's l1 penalty), with early stopping on the validation loss. Then,
optionally, all mixture weights and the bias are refit with the subnetworks
frozen, and the metrics the driver selects on are computed here, on the worker,
so the driver never touches the data.

Data-parallel groups (``ctx.size > 1``): each rank trains on ``train.shard(rank,
size)``, gradients are averaged with ``ctx.allreduce_`` after every backward, and
every rank takes the same number of steps, so the replicas stay identical.

Executors call :func:`adanet_train_fn` (the ``train_fn(payload, data, ctx)`` of
``adanet_spark.execution``); :func:`make_payload` builds its payload.

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
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Mapping, Optional

import torch
from torch import nn

from adanet_spark.adanet.architecture import CandidateSpec, build_subnetwork_arch
from adanet_spark.adanet.ensemble import Ensemble
from adanet_spark.adanet.objective import bce, objective, penalty, penalty_coefficients
from adanet_spark.adanet.rows import Rows, check_inputs, frozen_rows, load_split
from adanet_spark.adanet.subnetwork import Subnetwork, complexity
from adanet_spark.execution.base import TrainContext
from adanet_spark.metrics import roc_auc

PAYLOAD_KIND = "adanet_candidate"
_CHUNK = 8192  # rows per inference chunk (cache-sized: faster than one big matmul)
_PROGRESS_PER_EPOCH = 4


class CandidateCancelled(RuntimeError):
    """The executor asked this candidate to stop (``ctx.should_stop()`` turned true)."""


@dataclass
class TrainBudget:
    """How hard to train one candidate (from AdaNetConfig; plain values)."""

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

    @classmethod
    def from_config(cls, cfg: Any) -> "TrainBudget":
        names = {f.name for f in fields(cls)}
        return cls(**{n: getattr(cfg, n) for n in names if hasattr(cfg, n)})

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "TrainBudget":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


@dataclass
class CandidateResult:
    """What a worker returns for one candidate. All values are plain or numpy.

    ``train``/``valid``/``previous_*`` hold ``{"loss", "auc", "objective"}`` of
    ensemble + candidate and of the frozen previous ensemble. With a data-parallel
    group, train losses are averaged over ranks and train AUC is this rank's shard.
    """

    name: str
    iteration: int
    seed: int
    spec: dict
    architecture_json: str  # the candidate's SubnetworkArch
    ensemble_architecture_json: str  # previous ensemble + candidate
    ensemble_weights: dict
    train: dict
    valid: dict
    previous_train: dict
    previous_valid: dict
    previous_bias: float
    complexity: float
    complexities: list
    mixture: list
    epochs_run: int
    best_epoch: int
    refit_accepted: bool
    train_seconds: float
    rows_per_s: float
    n_train: int
    rank: int = 0
    size: int = 1
    timings: dict = field(default_factory=dict)

    def ensemble(self) -> Ensemble:
        return Ensemble.from_parts(self.ensemble_architecture_json, self.ensemble_weights)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "CandidateResult":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


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


# -- the grown model: frozen ensemble (as precomputed rows) + trainable candidate ---------
class _Grown(nn.Module):
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
class _Plan:
    """Batches per epoch. In a data-parallel group every rank must take the same number
    of steps (or the allreduce deadlocks), so each uses floor(N / size) rows an epoch."""

    rows: int
    batch_size: int
    steps: int
    total_steps: int
    report_every: int

    @classmethod
    def make(cls, n_local: int, n_total: int, batch_size: int, epochs: int, ctx: TrainContext,
             batch_norm: bool) -> "_Plan":
        rows = n_total // ctx.size if ctx.size > 1 else n_local
        if batch_norm and rows % batch_size == 1:
            rows -= 1  # a batch of one row breaks batch norm
        steps = max(1, math.ceil(rows / batch_size))
        return cls(rows, batch_size, steps, steps * max(epochs, 1),
                   max(1, steps // _PROGRESS_PER_EPOCH))


def _allreduce_grads(params: list[nn.Parameter], ctx: TrainContext) -> None:
    for p in params:
        if p.grad is None:  # every rank must join every allreduce
            p.grad = torch.zeros_like(p)
    # One grouped collective per step: a round trip per parameter made data-parallel
    # training several times slower than one process.
    ctx.allreduce_([p.grad for p in params])


def _run_epoch(step_loss, params: list[nn.Parameter], opt: torch.optim.Optimizer, n: int,
               plan: _Plan, ctx: TrainContext, gen: torch.Generator, done: int) -> None:
    """One pass over a random permutation: no DataLoader, no per-step host syncs."""
    perm = torch.randperm(n, generator=gen)[:plan.rows]
    sync = ctx.size > 1 and ctx.allreduce_ is not None
    slow = ctx.slow_factor > 1.0
    bs = plan.batch_size
    for s in range(plan.steps):
        start = time.perf_counter() if slow else 0.0
        loss = step_loss(perm[s * bs:(s + 1) * bs])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if sync:
            _allreduce_grads(params, ctx)
        opt.step()
        if ctx.should_stop():
            raise CandidateCancelled("the executor cancelled this candidate")
        if slow:  # fault injection: stretch the step as a slow worker would
            time.sleep((ctx.slow_factor - 1.0) * (time.perf_counter() - start))
        if (s + 1) % plan.report_every == 0:
            ctx.report_progress(min(1.0, (done + s + 1) / plan.total_steps))


@torch.no_grad()
def _eval_logits(model: _Grown, rows: Rows) -> torch.Tensor:
    model.eval()
    out = torch.cat([model(rows, slice(i, i + _CHUNK)) for i in range(0, len(rows), _CHUNK)])
    model.train()
    return out


def _fit_candidate(model: _Grown, train: Rows, valid: Rows, lr: float, budget: TrainBudget,
                   plan: _Plan, ctx: TrainContext, gen: torch.Generator, n_total: int) -> tuple[int, int]:
    """Adam with early stopping on validation loss; restores the best epoch's weights."""
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
        _run_epoch(lambda idx: model.loss(train, idx), params, opt, len(train), plan, ctx, gen,
                   epoch * plan.steps)
        _sync_buffers(model, ctx)
        ctx.commit()
        valid_loss = float(bce(_eval_logits(model, valid), valid.label))  # one sync per epoch
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


def _sync_buffers(model: nn.Module, ctx: TrainContext) -> None:
    """Average batch-norm running statistics over the group: every rank must see the same
    validation loss, or their early-stopping decisions (and allreduce calls) diverge."""
    if ctx.size <= 1 or ctx.allreduce_ is None:
        return
    for buf in model.buffers():
        if buf.is_floating_point():
            ctx.allreduce_(buf)


def _mean_over_group(value: float, ctx: TrainContext) -> float:
    if ctx.size <= 1 or ctx.allreduce_ is None:
        return value
    t = torch.tensor([value], dtype=torch.float64)
    ctx.allreduce_(t)
    return float(t[0])


def _refit_mixture(z: torch.Tensor, labels: torch.Tensor, mixture: torch.Tensor, bias: torch.Tensor,
                   coefs: torch.Tensor, budget: TrainBudget, plan: _Plan, ctx: TrainContext,
                   gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Re-fit all mixture weights and the bias with every subnetwork frozen: an
    l1-regularised logistic regression on the subnetworks' logits."""
    w = nn.Parameter(mixture.detach().clone())
    b = nn.Parameter(bias.detach().clone())
    opt = torch.optim.Adam([w, b], lr=budget.mixture_learning_rate, fused=True)
    quiet = TrainContext(ctx.rank, ctx.size, ctx.allreduce_, should_stop=ctx.should_stop,
                         slow_factor=ctx.slow_factor)

    def step_loss(idx):
        return bce(b + z[idx] @ w, labels[idx]) + penalty(w, coefs)

    for _ in range(budget.mixture_epochs):
        _run_epoch(step_loss, [w, b], opt, len(labels), plan, quiet, gen, 0)
    return w.detach(), b.detach()


def _metrics(logits: torch.Tensor, labels: torch.Tensor, mixture: torch.Tensor,
             complexities: list[float], budget: TrainBudget, ctx: Optional[TrainContext]) -> dict:
    loss = float(bce(logits, labels))
    if ctx is not None:
        loss = _mean_over_group(loss, ctx)
    return {"loss": loss, "auc": roc_auc(labels, logits),
            "objective": objective(loss, mixture, complexities, budget.lambda_, budget.beta)}


def _base_rate_ensemble(labels: torch.Tensor, ctx: TrainContext) -> Ensemble:
    """The best bias-only ensemble predicts the base rate p: its bias is logit(p)."""
    p = _mean_over_group(float(labels.double().mean()), ctx)
    p = min(max(p, 1e-6), 1.0 - 1e-6)
    return Ensemble(bias=math.log(p / (1.0 - p)))


def train_candidate(spec: CandidateSpec, data: Mapping[str, Any], budget: TrainBudget,
                    ctx: Optional[TrainContext] = None, previous: Optional[Ensemble] = None,
                    seed: int = 0, iteration: int = 0) -> CandidateResult:
    """Train ``spec`` on top of the frozen ``previous`` ensemble (bias-only if None)."""
    ctx = ctx or TrainContext()
    start = time.perf_counter()
    train_all, valid_data = load_split(data["train"]), load_split(data["valid"])
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
        plan = _Plan.make(len(train), len(train_all), budget.batch_size, budget.epochs, ctx,
                          spec.batch_norm)
        model = _Grown(candidate, float(previous.bias.detach()))
        loop_start = time.perf_counter()
        epochs_run, best_epoch = _fit_candidate(model, train, valid, spec.learning_rate, budget, plan,
                                                ctx, gen, len(train_all))
        loop_s = time.perf_counter() - loop_start
        return _finish(spec, model, previous, train, valid, budget, plan, ctx, gen, len(train_all),
                       seed=seed, iteration=iteration, epochs_run=epochs_run, best_epoch=best_epoch,
                       start=start, loop_s=loop_s)


def _grow(model: _Grown, previous: Ensemble, train: Rows, valid: Rows, budget: TrainBudget, plan: _Plan,
          ctx: TrainContext, gen: torch.Generator, n_total: int):
    """Ensemble + trained candidate, with the mixture refit if asked for; also returns each
    subnetwork's logits on both splits (the refit's features) and the complexities."""
    candidate = model.candidate.eval().requires_grad_(False)
    z_train = torch.cat([train.z, _candidate_logit(model, train).unsqueeze(1)], 1)
    z_valid = torch.cat([valid.z, _candidate_logit(model, valid).unsqueeze(1)], 1)
    comps = previous.complexities(budget.complexity, n_total) + [complexity(candidate, budget.complexity, n_total)]
    mixture = torch.cat([previous.mixture.detach(), model.weight.detach().reshape(1)])
    bias = previous.bias.detach().clone()
    refit = False
    if budget.refit_mixture_weights and budget.mixture_epochs > 0:
        mixture, bias, refit = _maybe_refit(z_train, train.label, mixture, bias, comps, budget, plan, ctx, gen)
    return previous.extended(candidate, mixture, bias), z_train, z_valid, comps, refit


def _finish(spec: CandidateSpec, model: _Grown, previous: Ensemble, train: Rows, valid: Rows,
            budget: TrainBudget, plan: _Plan, ctx: TrainContext, gen: torch.Generator, n_total: int,
            **info: Any) -> CandidateResult:
    """Grow the ensemble and measure it and the previous one on both splits."""
    ensemble, z_train, z_valid, comps, refit = _grow(model, previous, train, valid, budget, plan, ctx, gen,
                                                     n_total)
    mix, bias = ensemble.mixture.detach(), ensemble.bias.detach()
    prev_mix, prev_bias = previous.mixture.detach(), previous.bias.detach()
    arch_json, weights = ensemble.to_parts()
    elapsed = time.perf_counter() - info["start"]
    return CandidateResult(
        name=spec.name, iteration=info["iteration"], seed=info["seed"], spec=spec.to_dict(),
        architecture_json=ensemble.subnetworks[-1].arch.to_json(), ensemble_architecture_json=arch_json,
        ensemble_weights={k: v.numpy() for k, v in weights.items()},
        train=_metrics(bias + z_train @ mix, train.label, mix, comps, budget, ctx),
        valid=_metrics(bias + z_valid @ mix, valid.label, mix, comps, budget, None),
        previous_train=_metrics(prev_bias + train.z @ prev_mix, train.label, prev_mix, comps[:-1], budget, ctx),
        previous_valid=_metrics(prev_bias + valid.z @ prev_mix, valid.label, prev_mix, comps[:-1], budget, None),
        previous_bias=float(prev_bias), complexity=comps[-1], complexities=comps,
        mixture=[float(m) for m in mix], epochs_run=info["epochs_run"], best_epoch=info["best_epoch"],
        refit_accepted=refit, train_seconds=elapsed,
        rows_per_s=info["epochs_run"] * plan.rows / max(info["loop_s"], 1e-9), n_train=len(train),
        rank=ctx.rank, size=ctx.size, timings={"loop_s": info["loop_s"], "total_s": elapsed})


@torch.no_grad()
def _candidate_logit(model: _Grown, rows: Rows) -> torch.Tensor:
    """h(x) of the trained candidate alone, in inference mode."""
    model.candidate.eval()
    parts = []
    for i in range(0, len(rows), _CHUNK):
        idx = slice(i, i + _CHUNK)
        extra = [None if e is None else e[idx] for e in rows.extra]
        parts.append(model.candidate(rows.numeric[idx], rows.categorical[idx], extra))
    return torch.cat(parts)


def _maybe_refit(z: torch.Tensor, labels: torch.Tensor, mixture: torch.Tensor, bias: torch.Tensor,
                 comps: list[float], budget: TrainBudget, plan: _Plan, ctx: TrainContext,
                 gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, bool]:
    """Keep the refit only if it lowers the training objective (Adam steps may not)."""
    coefs = penalty_coefficients(comps, budget.lambda_, budget.beta)

    def train_objective(w, b):
        return _mean_over_group(float(bce(b + z @ w, labels)), ctx) + float(penalty(w, coefs))

    new_w, new_b = _refit_mixture(z, labels, mixture, bias, coefs, budget, plan, ctx, gen)
    if train_objective(new_w, new_b) < train_objective(mixture, bias):
        return new_w, new_b, True
    return mixture, bias, False
