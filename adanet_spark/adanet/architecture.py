"""Plain, JSON-serialisable descriptions of candidates and ensembles (no torch here).

Three levels, from the generator's wish to the exact network:

* :class:`InputSpec`: what the features look like (from the FeatureSpec).
* :class:`CandidateSpec`: what a generator proposes (depth, width, learning rate...).
* :class:`SubnetworkArch`: the exact layer shapes, including which frozen hidden
  layers of earlier subnetworks each layer reads (the paper's connections). It is
  resolved from a CandidateSpec and the previous ensemble by
  :func:`build_subnetwork_arch`, and is what is saved beside the weights.

The driver, the generators and config validation use these without importing torch.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Optional

from adanet_spark.adanet.plain import from_plain

ENSEMBLE_FORMAT = "adanet-spark/ensemble"
ENSEMBLE_VERSION = 1


class _HoldsInputs:
    """JSON round trip of a spec that holds an :class:`InputSpec` (candidates, subnetworks)."""

    @classmethod
    def from_dict(cls, d: dict):
        d = dict(d)
        d["inputs"] = InputSpec.from_dict(d["inputs"])
        return from_plain(cls, d)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)


@dataclass(frozen=True)
class InputSpec:
    """What the features look like: standardised numerics (with their quantile bin
    edges, in standardised units, for the piecewise-linear encoding) and the number
    of indices of each categorical feature."""

    n_numeric: int
    cardinalities: tuple[int, ...]
    embedding_dim_cap: int = 16
    bins: tuple[tuple[float, ...], ...] = ()  # per numeric feature; () when none were fitted

    @classmethod
    def from_feature_spec(cls, spec: Any, embedding_dim_cap: int) -> "InputSpec":
        numeric = getattr(spec, "numeric", ())
        bins = tuple(tuple((b - f.mean) / f.std for b in getattr(f, "bins", ()) or ()) for f in numeric)
        return cls(len(spec.numeric_names), tuple(spec.cardinalities), embedding_dim_cap,
                   bins if any(bins) else ())

    def to_dict(self) -> dict:
        return {"n_numeric": self.n_numeric, "cardinalities": list(self.cardinalities),
                "embedding_dim_cap": self.embedding_dim_cap, "bins": [list(b) for b in self.bins]}

    @classmethod
    def from_dict(cls, d: dict) -> "InputSpec":
        return cls(int(d["n_numeric"]), tuple(int(c) for c in d["cardinalities"]),
                   int(d.get("embedding_dim_cap", 16)),
                   tuple(tuple(float(x) for x in b) for b in d.get("bins") or ()))


@dataclass(frozen=True)
class CandidateSpec(_HoldsInputs):
    """One proposal of a generator. ``name`` is unique within its iteration."""

    name: str
    depth: int
    width: int
    learning_rate: float
    inputs: InputSpec
    kind: str = "same"
    activation: str = "relu"
    dropout: float = 0.0
    batch_norm: bool = False
    connections: bool = True
    encoding: str = "plain"  # numeric features: "plain" or "ple" (piecewise-linear on quantile bins)
    weight_decay: Optional[float] = None  # this candidate's AdamW decay (None: the search's)
    steps_scale: float = 1.0  # this candidate's share of the step budget
    rationale: str = ""  # why the generator proposed it (recorded with the candidate)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["inputs"] = self.inputs.to_dict()
        return d

    def cost(self) -> float:
        """Multiply-adds of its whole training, per training row: how long it takes, relatively."""
        bins = sum(max(0, len(set(b)) - 1) for b in self.inputs.bins) if self.encoding == "ple" else 0
        numeric = self.inputs.n_numeric + bins
        first = (numeric + 8 * len(self.inputs.cardinalities)) * self.width
        return float(first + (self.depth - 1) * self.width * self.width + self.width) * self.steps_scale


@dataclass(frozen=True)
class SubnetworkArch(_HoldsInputs):
    """Exact shapes of one subnetwork.

    ``reads[k]`` lists the earlier subnetworks whose hidden layer ``k-1`` feeds this
    subnetwork's hidden layer ``k`` (always empty for ``k = 0``); ``extra_in[k]`` is
    the total width of those inputs, so the layer can be built without them.
    """

    name: str
    depth: int
    width: int
    inputs: InputSpec
    activation: str = "relu"
    dropout: float = 0.0
    batch_norm: bool = False
    reads: tuple[tuple[int, ...], ...] = ()
    extra_in: tuple[int, ...] = ()
    encoding: str = "plain"

    def __post_init__(self):
        # Default: no connections. Normalise lists from JSON to tuples (hashable, comparable).
        reads = tuple(tuple(int(i) for i in r) for r in self.reads) or ((),) * self.depth
        extra = tuple(int(e) for e in self.extra_in) or (0,) * self.depth
        object.__setattr__(self, "reads", reads)
        object.__setattr__(self, "extra_in", extra)

    def to_dict(self) -> dict:
        return {"name": self.name, "depth": self.depth, "width": self.width,
                "inputs": self.inputs.to_dict(), "activation": self.activation,
                "dropout": self.dropout, "batch_norm": self.batch_norm,
                "reads": [list(r) for r in self.reads], "extra_in": list(self.extra_in),
                "encoding": self.encoding}


@dataclass(frozen=True)
class EnsembleArch:
    """The ordered subnetworks of an ensemble (weights live elsewhere)."""

    subnetworks: tuple[SubnetworkArch, ...] = field(default_factory=tuple)

    @property
    def depths(self) -> list[int]:
        return [s.depth for s in self.subnetworks]

    def to_dict(self) -> dict:
        return {"format": ENSEMBLE_FORMAT, "version": ENSEMBLE_VERSION,
                "subnetworks": [s.to_dict() for s in self.subnetworks]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict) -> "EnsembleArch":
        if d.get("format") != ENSEMBLE_FORMAT:
            raise ValueError(f"not an AdaNet ensemble architecture (format={d.get('format')!r})")
        if int(d.get("version", 0)) > ENSEMBLE_VERSION:
            raise ValueError(f"ensemble format version {d['version']} is newer than this code")
        return cls(tuple(SubnetworkArch.from_dict(s) for s in d["subnetworks"]))

    @classmethod
    def from_json(cls, text: str) -> "EnsembleArch":
        return cls.from_dict(json.loads(text))

    def extended(self, sub: SubnetworkArch) -> "EnsembleArch":
        return EnsembleArch(self.subnetworks + (sub,))


def build_subnetwork_arch(spec: CandidateSpec, previous: EnsembleArch) -> SubnetworkArch:
    """Resolve a proposal against the ensemble it will join.

    With connections, hidden layer ``k >= 1`` also reads hidden layer ``k-1`` of every
    earlier subnetwork deep enough to have one (Cortes et al. 2017, Fig. 2). Layer 0
    reads only the inputs: earlier subnetworks' inputs are the same features.
    """
    reads: list[tuple[int, ...]] = [()]
    extra: list[int] = [0]
    for k in range(1, spec.depth):
        srcs = tuple(j for j, s in enumerate(previous.subnetworks)
                     if s.depth >= k) if spec.connections else ()
        reads.append(srcs)
        extra.append(sum(previous.subnetworks[j].width for j in srcs))
    return SubnetworkArch(name=spec.name, depth=spec.depth, width=spec.width, inputs=spec.inputs,
                          activation=spec.activation, dropout=spec.dropout,
                          batch_norm=spec.batch_norm, reads=tuple(reads), extra_in=tuple(extra),
                          encoding=spec.encoding)
