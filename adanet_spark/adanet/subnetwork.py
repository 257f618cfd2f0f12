"""One AdaNet subnetwork h_j: input layer, ``depth`` hidden layers, a scalar logit.

Hidden layer ``k`` may also read the hidden layer ``k-1`` of earlier (frozen)
subnetworks; those inputs arrive as ``extra[k]`` already concatenated, detached,
so no gradient ever reaches a frozen subnetwork.

Complexity r(h) (used in the objective's penalty (lambda * r(h) + beta) * |w|):

* ``sqrt_depth``: sqrt(depth), the proxy used by tensorflow/adanet's examples.
* ``rademacher``: the shape of Cortes et al. (2017), Lemma 2, with p = 1:
  ``Lambda * sqrt(2 log(2 n0) / m)``, where ``Lambda`` is the product over layers
  (head included) of the largest l1 norm of a unit's incoming weights (the
  l-inf operator norm), times the batch-norm scale and the largest embedding
  entry, ``n0`` the width of the first layer's input and ``m`` the training rows.
  It treats activations as 1-Lipschitz, biases as free and inputs read from
  earlier subnetworks like features, so it is a data-free proxy of the bound,
  not the bound itself. Unlike sqrt_depth it scales with the weights, so
  ``r(h) * |w|`` cannot be lowered by moving scale from ``w`` into ``h``.
"""
from __future__ import annotations

import math
from typing import Optional, Sequence

import torch
from torch import nn
from torch.nn import functional as F

from adanet_spark.adanet.architecture import SubnetworkArch
from adanet_spark.adanet.inputs import InputLayer
from adanet_spark.adanet.names import ACTIVATION_NAMES, COMPLEXITY_NAMES

ACTIVATIONS = dict(zip(ACTIVATION_NAMES, (nn.ReLU, nn.Tanh, nn.GELU, nn.ELU)))
COMPLEXITIES = COMPLEXITY_NAMES


def linear_of_parts(layer: nn.Linear, parts: Sequence[torch.Tensor]) -> torch.Tensor:
    """``layer(torch.cat(parts, 1))``, one matmul per part. With a gradient, autograd then
    computes the input gradient of the parts that need one only (the embeddings, the
    previous layer), not of the constant ones (encoded numerics, frozen subnetworks'
    outputs): on flights' first layer that is 93 of 141 input columns."""
    if len(parts) == 1 or not torch.is_grad_enabled():
        return layer(torch.cat(list(parts), dim=1) if len(parts) > 1 else parts[0])
    out, start = None, 0
    for part in parts:
        weight = layer.weight[:, start:start + part.shape[1]]
        out = F.linear(part, weight, layer.bias) if out is None else torch.addmm(out, part, weight.t())
        start += part.shape[1]
    return out


class Subnetwork(nn.Module):
    def __init__(self, arch: SubnetworkArch, generator: Optional[torch.Generator] = None):
        super().__init__()
        self.arch = arch
        self.inputs = InputLayer(arch.inputs, generator, arch.encoding)
        in_dims = [self.inputs.out_dim] + [arch.width] * (arch.depth - 1)
        self.layers = nn.ModuleList(nn.Linear(d + e, arch.width) for d, e in zip(in_dims, arch.extra_in))
        self.norms = nn.ModuleList(nn.BatchNorm1d(arch.width) for _ in range(arch.depth)) \
            if arch.batch_norm else None
        self.act = ACTIVATIONS[arch.activation]()
        self.drop = nn.Dropout(arch.dropout) if arch.dropout > 0 else None
        self.head = nn.Linear(arch.width, 1)
        self._init_weights(generator)

    @torch.no_grad()
    def _init_weights(self, generator: Optional[torch.Generator]) -> None:
        # torch's default Linear init, but from an explicit generator: the same seed gives
        # the same network on every rank and backend, even when ranks share a process.
        for layer in self.layers:
            nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
            bound = 1.0 / math.sqrt(layer.weight.shape[1])
            nn.init.uniform_(layer.bias, -bound, bound, generator=generator)
        # A zero head makes ensemble + new candidate start exactly at the ensemble, so
        # training begins from the frozen ensemble's loss instead of adding noise to it.
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def hidden(self, numeric: torch.Tensor, categorical: torch.Tensor,
               extra: Optional[Sequence[Optional[torch.Tensor]]] = None) -> list[torch.Tensor]:
        """Outputs of every hidden layer (what later subnetworks may read)."""
        parts = self.inputs.parts(numeric, categorical)
        outs = []
        for k, layer in enumerate(self.layers):
            if extra is not None and extra[k] is not None:
                parts.append(extra[k])
            h = linear_of_parts(layer, parts)
            if self.norms is not None:
                h = self.norms[k](h)
            h = self.act(h)
            if self.drop is not None:
                h = self.drop(h)
            outs.append(h)
            parts = [h]
        return outs

    def forward(self, numeric: torch.Tensor, categorical: torch.Tensor,
                extra: Optional[Sequence[Optional[torch.Tensor]]] = None) -> torch.Tensor:
        return self.head(self.hidden(numeric, categorical, extra)[-1]).squeeze(-1)

    def gather_extra(self, earlier: Sequence[Sequence[torch.Tensor]]) -> list[Optional[torch.Tensor]]:
        """Per layer, the concatenated hidden outputs of the earlier subnetworks it reads."""
        out: list[Optional[torch.Tensor]] = []
        for k, srcs in enumerate(self.arch.reads):
            parts = [earlier[j][k - 1].detach() for j in srcs]
            out.append(torch.cat(parts, dim=1) if parts else None)
        return out


@torch.no_grad()
def rademacher_complexity(sub: Subnetwork, n_train: int) -> float:
    lam = sub.inputs.scale().double()
    for k, layer in enumerate(sub.layers):
        lam = lam * layer.weight.abs().sum(dim=1).max()
        if sub.norms is not None:
            bn = sub.norms[k]
            lam = lam * (bn.weight.abs() / torch.sqrt(bn.running_var + bn.eps)).max()
    lam = lam * sub.head.weight.abs().sum()
    n0 = sub.layers[0].weight.shape[1]
    return float(lam) * math.sqrt(2.0 * math.log(2.0 * n0) / max(n_train, 1))


def complexity(sub: Subnetwork, kind: str, n_train: int) -> float:
    """r(h) of one subnetwork; see the module docstring."""
    if kind == "sqrt_depth":
        return math.sqrt(sub.arch.depth)
    if kind == "rademacher":
        return rademacher_complexity(sub, n_train)
    raise ValueError(f"unknown complexity {kind!r} (expected one of {', '.join(COMPLEXITIES)})")
