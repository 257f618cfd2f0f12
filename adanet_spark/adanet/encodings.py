"""Numeric feature encodings a candidate may use.

``plain``: the standardised values as they are. ``ple``: piecewise-linear encoding
on quantile bins fitted on the training split (Gorishniy et al., "On Embeddings
for Numerical Features in Tabular Deep Learning", 2022), next to the plain value:
for bin ``t`` with edges ``[e_{t-1}, e_t]`` the component is
``clamp((x - e_{t-1}) / (e_t - e_{t-1}), 0, 1)``, left open below the first bin and
above the last, so an MLP sees where a value sits in the distribution, not only
its magnitude. It has no parameters: the bins come from the feature spec.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import nn

from adanet_spark.adanet.names import ENCODING_NAMES

ENCODINGS = ENCODING_NAMES


class PiecewiseLinear(nn.Module):
    """``x [B, n] -> [x, ple(x)] [B, n + bins]`` for the features with at least two edges."""

    def __init__(self, bins: Sequence[Sequence[float]]):
        super().__init__()
        lower, width, feature, first, last = [], [], [], [], []
        for j, edges in enumerate(bins):
            edges = sorted(set(float(e) for e in edges))
            for t in range(1, len(edges)):
                lower.append(edges[t - 1])
                width.append(max(edges[t] - edges[t - 1], 1e-6))
                feature.append(j)
                first.append(t == 1)
                last.append(t == len(edges) - 1)
        self.out_extra = len(lower)
        scale = torch.tensor(width, dtype=torch.float64).reciprocal()
        self.register_buffer("feature", torch.tensor(feature, dtype=torch.int64), persistent=False)
        # (x - lower) / width as one fused x * scale + shift: a training step runs this on
        # every row, and each elementwise pass over [batch, bins] costs as much as a small matmul.
        self.register_buffer("scale", scale.float(), persistent=False)
        self.register_buffer("shift", (-torch.tensor(lower, dtype=torch.float64) * scale).float(), persistent=False)
        self.register_buffer("floor", torch.tensor([-math.inf if f else 0.0 for f in first]), persistent=False)
        self.register_buffer("ceil", torch.tensor([math.inf if e else 1.0 for e in last]), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.out_extra:
            return x
        v = torch.addcmul(self.shift, x.index_select(1, self.feature), self.scale)
        return torch.cat([x, torch.clamp(v, self.floor, self.ceil)], dim=1)


def numeric_encoder(encoding: str, bins: Sequence[Sequence[float]]) -> nn.Module:
    if encoding not in ENCODINGS:
        raise ValueError(f"unknown numeric encoding {encoding!r} (expected one of {', '.join(ENCODINGS)})")
    return PiecewiseLinear(bins) if encoding == "ple" and bins else nn.Identity()
