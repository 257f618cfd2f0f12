"""Input layer: standardised numeric features plus one embedding per categorical feature.

Embeddings are per subnetwork, not shared. Earlier subnetworks are frozen once
selected; a shared table that a later candidate kept training would silently
change every frozen subnetwork that reads it (and the objective they were
selected on). Per-subnetwork tables keep "frozen" true at the cost of a few
thousand parameters each, and let each candidate learn the representation its
depth wants.

All categorical features live in one table with per-feature row offsets, so a
batch needs a single gather instead of one lookup per feature; the padding
columns of features whose embedding is narrower than the widest are dropped by
one ``index_select`` (and so never receive a gradient).
"""
from __future__ import annotations

import math
from typing import Optional

import torch
from torch import nn

from adanet_spark.adanet.architecture import InputSpec
from adanet_spark.adanet.encodings import numeric_encoder


def embedding_dim(cardinality: int, cap: int) -> int:
    """fastai's rule of thumb (1.6 * card^0.56): grows slowly, capped by the config."""
    return max(1, min(cap, round(1.6 * cardinality ** 0.56)))


class InputLayer(nn.Module):
    def __init__(self, spec: InputSpec, generator: Optional[torch.Generator] = None, encoding: str = "plain"):
        super().__init__()
        self.n_numeric = spec.n_numeric
        self.numeric = numeric_encoder(encoding, spec.bins)
        cards = list(spec.cardinalities)
        dims = [embedding_dim(c, spec.embedding_dim_cap) for c in cards]
        self.out_dim = spec.n_numeric + getattr(self.numeric, "out_extra", 0) + sum(dims)
        self.table: Optional[nn.Embedding] = None
        if cards:
            widest = max(dims)
            self.table = nn.Embedding(sum(cards), widest)
            offsets = torch.tensor([0] + cards[:-1], dtype=torch.int64).cumsum(0)
            keep = [i * widest + j for i, d in enumerate(dims) for j in range(d)]
            self.register_buffer("offsets", offsets, persistent=False)
            self.register_buffer("keep", torch.tensor(keep, dtype=torch.int64), persistent=False)
            self._init_table(cards, dims, generator)

    @torch.no_grad()
    def _init_table(self, cards: list[int], dims: list[int], generator) -> None:
        self.table.weight.normal_(0.0, 1.0, generator=generator)
        # Each embedding starts with an expected norm of 1 (N(0, 1/d) entries), like one
        # standardised numeric feature: N(0, 1) entries would make a 16-wide embedding
        # four times louder than the numerics and drown them at the first layer.
        # Padding columns are zero, so weight-based complexity ignores them.
        start = 0
        for card, dim in zip(cards, dims):
            self.table.weight[start:start + card, :dim] /= math.sqrt(dim)
            self.table.weight[start:start + card, dim:] = 0.0
            start += card

    def forward(self, numeric: torch.Tensor, categorical: torch.Tensor) -> torch.Tensor:
        parts = self.parts(numeric, categorical)
        return torch.cat(parts, dim=1) if len(parts) > 1 else parts[0]

    def parts(self, numeric: torch.Tensor, categorical: torch.Tensor) -> list[torch.Tensor]:
        """``forward``'s output before concatenation: the encoded numerics (constants) and
        the embeddings (trained), so the first layer can skip the constants' input gradient."""
        numeric = self.numeric(numeric)
        if self.table is None:
            return [numeric]
        emb = self.table(categorical + self.offsets).flatten(1).index_select(1, self.keep)
        return [numeric, emb] if self.n_numeric else [emb]

    def scale(self) -> torch.Tensor:
        """Largest absolute input value an embedding can produce (numeric taken as 1)."""
        if self.table is None:
            return torch.ones(())
        return torch.clamp(self.table.weight.abs().max(), min=1.0)
