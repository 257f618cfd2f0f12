"""The AdaNet ensemble f(x) = b + sum_j w_j h_j(x), its persistence and replay.

Subnetworks are frozen once added (only ``bias`` and ``mixture`` may be refit),
so an ensemble is fully described by an :class:`EnsembleArch` (JSON) plus its
weights. Formats:

* ``to_parts()`` -> ``(architecture_json, {name: tensor})`` for writers that store
  the two separately (e.g. a Delta table of models);
* ``to_bytes()`` -> one safetensors blob whose metadata holds the architecture
  (write it to any filesystem: HDFS, S3, ...);
* ``save(dir)`` / ``load(dir)`` -> ``architecture.json`` + ``weights.safetensors``.
"""
from __future__ import annotations

import json
import os
import struct
from typing import Any, Iterable, Mapping, Optional, Sequence

import numpy as np
import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save
from torch import nn

from adanet_spark.adanet.architecture import EnsembleArch, SubnetworkArch
from adanet_spark.adanet.subnetwork import Subnetwork, complexity

ARCH_FILE = "architecture.json"
WEIGHTS_FILE = "weights.safetensors"
# Rows per read of a split held or streamed for inference: bounds what one read holds.
INFERENCE_CHUNK = 8192
# Rows per forward pass without gradients: a width-256 net runs about 2x faster over
# 2,048-row chunks than over 33k rows at once (activations that stay in cache, and
# buffers the allocator reuses instead of fresh pages for every pass).
FORWARD_CHUNK = 2048


class Ensemble(nn.Module):
    def __init__(self, subnetworks: Sequence[Subnetwork] = (), mixture: Any = None, bias: Any = 0.0):
        super().__init__()
        self.subnetworks = nn.ModuleList(subnetworks)
        n = len(self.subnetworks)
        mixture = torch.ones(n) if mixture is None else torch.as_tensor(mixture, dtype=torch.float32)
        if mixture.shape != (n,):
            raise ValueError(f"ensemble of {n} subnetworks needs {n} mixture weights, got {tuple(mixture.shape)}")
        self.mixture = nn.Parameter(mixture.clone().float())
        self.bias = nn.Parameter(torch.as_tensor(bias, dtype=torch.float32).clone().reshape(()))
        self.freeze()

    # -- structure -----------------------------------------------------------------
    @property
    def architecture(self) -> EnsembleArch:
        return EnsembleArch(tuple(s.arch for s in self.subnetworks))

    def __len__(self) -> int:
        return len(self.subnetworks)

    def freeze(self) -> "Ensemble":
        """Subnetworks stop learning and run in inference mode (no dropout, BN running stats)."""
        for sub in self.subnetworks:
            sub.requires_grad_(False)
            sub.eval()
        return self

    def train(self, mode: bool = True) -> "Ensemble":
        # Frozen subnetworks stay in eval mode whatever the caller does to the ensemble.
        self.training = mode
        return self

    def extended(self, sub: Subnetwork, mixture: Any, bias: Any) -> "Ensemble":
        """A new ensemble with ``sub`` appended (the frozen subnetworks are shared, not copied)."""
        return Ensemble(list(self.subnetworks) + [sub], mixture, bias)

    def complexities(self, kind: str, n_train: int) -> list[float]:
        return [complexity(s, kind, n_train) for s in self.subnetworks]

    # -- inference -----------------------------------------------------------------
    def subnetwork_outputs(self, numeric: torch.Tensor, categorical: torch.Tensor
                           ) -> tuple[torch.Tensor, list[list[torch.Tensor]]]:
        """Logits of each subnetwork ``[N, J]`` and every subnetwork's hidden outputs."""
        hiddens: list[list[torch.Tensor]] = []
        logits = []
        for sub in self.subnetworks:
            hs = sub.hidden(numeric, categorical, sub.gather_extra(hiddens))
            hiddens.append(hs)
            logits.append(sub.head(hs[-1]).squeeze(-1))
        if not logits:
            return numeric.new_zeros((numeric.shape[0], 0)), hiddens
        return torch.stack(logits, dim=1), hiddens

    def forward(self, numeric: torch.Tensor, categorical: torch.Tensor) -> torch.Tensor:
        z, _ = self.subnetwork_outputs(numeric, categorical)
        return self.bias + z @ self.mixture

    @torch.no_grad()
    def predict_logits(self, data: Any, categorical: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Logits for a TensorData, a loadable split reference, or ``(numeric, categorical)``."""
        numeric, categorical = _features(data, categorical)
        parts = [self(numeric[i:i + FORWARD_CHUNK], categorical[i:i + FORWARD_CHUNK])
                 for i in range(0, numeric.shape[0], FORWARD_CHUNK)]
        return torch.cat(parts) if parts else numeric.new_zeros(0)

    def predict_proba(self, data: Any, categorical: Optional[torch.Tensor] = None) -> np.ndarray:
        """P(label = 1) per row as a float32 numpy array."""
        return torch.sigmoid(self.predict_logits(data, categorical)).numpy()

    # -- persistence ---------------------------------------------------------------
    def weights(self) -> dict[str, torch.Tensor]:
        return {k: v.detach().contiguous().clone() for k, v in self.state_dict().items()}

    def to_parts(self) -> tuple[str, dict[str, torch.Tensor]]:
        return self.architecture.to_json(), self.weights()

    @classmethod
    def from_parts(cls, architecture_json: str, weights: Mapping[str, Any]) -> "Ensemble":
        arch = EnsembleArch.from_json(architecture_json)
        ens = cls([Subnetwork(a) for a in arch.subnetworks])
        ens.load_state_dict({k: torch.as_tensor(np.asarray(v) if not torch.is_tensor(v) else v)
                             for k, v in weights.items()})
        return ens.freeze()

    def to_bytes(self) -> bytes:
        arch_json, weights = self.to_parts()
        return st_save(weights, metadata={"architecture": arch_json})

    @classmethod
    def from_bytes(cls, blob: bytes) -> "Ensemble":
        return cls.from_parts(safetensors_metadata(blob)["architecture"], st_load(blob))

    def save(self, directory: str) -> None:
        os.makedirs(directory, exist_ok=True)
        arch_json, _ = self.to_parts()
        with open(os.path.join(directory, ARCH_FILE), "w") as fh:
            fh.write(arch_json)
        with open(os.path.join(directory, WEIGHTS_FILE), "wb") as fh:
            fh.write(self.to_bytes())

    @classmethod
    def load(cls, directory: str) -> "Ensemble":
        with open(os.path.join(directory, WEIGHTS_FILE), "rb") as fh:
            return cls.from_bytes(fh.read())

    # -- what one search step adds (kept in each report for replay) ----------------
    def last_step_bytes(self) -> bytes:
        """The newest subnetwork's weights plus the whole mixture and bias."""
        tensors = {f"subnetwork.{k}": v.detach().contiguous().clone()
                   for k, v in self.subnetworks[-1].state_dict().items()}
        tensors["mixture"] = self.mixture.detach().clone()
        tensors["bias"] = self.bias.detach().clone()
        return st_save(tensors, metadata={"architecture": self.subnetworks[-1].arch.to_json()})


def safetensors_metadata(blob: bytes) -> dict:
    """The ``__metadata__`` of a safetensors blob (8-byte little-endian header size, JSON)."""
    (size,) = struct.unpack("<Q", blob[:8])
    return json.loads(blob[8:8 + size].decode("utf-8")).get("__metadata__", {})


def replay(reports: Iterable[Any], base: Optional[Ensemble] = None) -> Ensemble:
    """Rebuild a search's final ensemble from its reports, without training.

    Uses the selected candidate records (``kind == "candidate"``, ``selected``) in
    iteration order: each brings its subnetwork's architecture and weights, the
    last one the final mixture weights and bias. ``base`` is the ensemble the search
    was warm-started from, if any.
    """
    steps = sorted((r for r in map(_as_dict, reports)
                    if r.get("kind") == "candidate" and r.get("selected")),
                   key=lambda r: r["iteration"])
    ens = base if base is not None else Ensemble()
    for rec in steps:
        if not rec.get("weights"):
            raise ValueError(f"report of {rec['candidate']} (iteration {rec['iteration']}) has no weights")
        tensors = st_load(rec["weights"])
        sub = Subnetwork(SubnetworkArch.from_dict(json.loads(rec["architecture_json"])))
        prefix = "subnetwork."
        sub.load_state_dict({k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)})
        ens = ens.extended(sub, tensors["mixture"], tensors["bias"])
    return ens.freeze()


def _as_dict(record: Any) -> dict:
    return record if isinstance(record, dict) else record.to_dict()


def _features(data: Any, categorical: Optional[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    if categorical is not None:
        return torch.as_tensor(data, dtype=torch.float32), torch.as_tensor(categorical, dtype=torch.int64)
    if isinstance(data, (tuple, list)):
        return _features(data[0], data[1])
    loaded = data.load()
    return loaded.numeric, loaded.categorical

