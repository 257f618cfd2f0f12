"""Training rows on a worker: checks and the frozen ensemble's contribution.

The previous ensemble is frozen while a candidate trains, so its contribution to
every row is a constant. :func:`frozen_rows` computes it once per candidate (the
weighted sum of the frozen subnetworks' logits, each subnetwork's logit for the
mixture refit, and the hidden outputs the candidate's connections read) instead
of re-running the whole ensemble on every batch. A step then costs only the
candidate, whatever the size of the ensemble. Memory: 4 bytes per row times
(J + the widths the candidate reads), e.g. 40k rows x 3 x 256 inputs = 120 MB
for a depth-4 candidate reading four width-64 subnetworks.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch

from adanet_spark.adanet.architecture import InputSpec
from adanet_spark.adanet.ensemble import FORWARD_CHUNK, Ensemble
from adanet_spark.adanet.protocol import SplitData
from adanet_spark.adanet.subnetwork import Subnetwork


def check_inputs(data: SplitData, inputs: InputSpec, split: str) -> None:
    """Shapes and index ranges, checked once: the fused embedding table would
    otherwise read a neighbouring feature's row for an out-of-range index."""
    if len(data) == 0:
        raise ValueError(f"split '{split}' has no rows")
    n_cat = len(inputs.cardinalities)
    if data.numeric.shape[1] != inputs.n_numeric or data.categorical.shape[1] != n_cat:
        raise ValueError(f"split '{split}' has {data.numeric.shape[1]} numeric and "
                         f"{data.categorical.shape[1]} categorical columns, expected "
                         f"{inputs.n_numeric} and {n_cat}")
    if n_cat:
        lo = data.categorical.min(dim=0).values
        hi = data.categorical.max(dim=0).values
        for j, card in enumerate(inputs.cardinalities):
            if lo[j] < 0 or hi[j] >= card:
                raise ValueError(f"split '{split}': categorical column {j} holds indices in "
                                 f"[{int(lo[j])}, {int(hi[j])}], expected [0, {card})")


@dataclass
class Rows:
    """One split's tensors plus what the frozen ensemble contributes to each row."""

    numeric: torch.Tensor
    categorical: torch.Tensor
    label: torch.Tensor
    z: torch.Tensor  # [N, J] frozen subnetworks' logits
    base: Optional[torch.Tensor]  # [N] z @ mixture (no bias); None for a bias-only ensemble
    extra: list[Optional[torch.Tensor]]  # per candidate layer: inputs read from frozen layers

    @property
    def connected(self) -> bool:
        return any(e is not None for e in self.extra)

    def __len__(self) -> int:
        return int(self.label.shape[0])

    def take(self, index: torch.Tensor) -> "Rows":
        """The rows at ``index``, copied into contiguous tensors."""
        return self._map(lambda t: t.index_select(0, index))

    def slice(self, start: int, stop: int) -> "Rows":
        """Rows ``start`` to ``stop`` (views: no copy)."""
        return self._map(lambda t: t[start:stop])

    @classmethod
    def concat(cls, parts: list["Rows"]) -> "Rows":
        first = parts[0]
        cat = (lambda pick: torch.cat([pick(p) for p in parts]))  # noqa: E731
        return cls(cat(lambda p: p.numeric), cat(lambda p: p.categorical), cat(lambda p: p.label),
                   cat(lambda p: p.z), None if first.base is None else cat(lambda p: p.base),
                   [None if e is None else cat(lambda p, k=k: p.extra[k]) for k, e in enumerate(first.extra)])

    def _map(self, fn) -> "Rows":
        return Rows(fn(self.numeric), fn(self.categorical), fn(self.label), fn(self.z),
                    None if self.base is None else fn(self.base),
                    [None if e is None else fn(e) for e in self.extra])


@torch.no_grad()
def frozen_rows(ensemble: Ensemble, data: SplitData, candidate: Subnetwork) -> Rows:
    numeric = data.numeric.contiguous()
    categorical = data.categorical.contiguous()
    zs, extras = [], []
    for i in range(0, numeric.shape[0], FORWARD_CHUNK):
        z, hiddens = ensemble.subnetwork_outputs(numeric[i:i + FORWARD_CHUNK],
                                                 categorical[i:i + FORWARD_CHUNK])
        zs.append(z)
        extras.append(candidate.gather_extra(hiddens))
    z = torch.cat(zs)
    extra = [torch.cat([e[k] for e in extras]) if extras[0][k] is not None else None
             for k in range(candidate.arch.depth)]
    base = z @ ensemble.mixture.detach() if len(ensemble) else None
    return Rows(numeric, categorical, data.label.contiguous(), z, base, extra)
