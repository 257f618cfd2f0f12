"""Candidate generators: propose the subnetworks one iteration trains.

A generator implements one method, :meth:`Generator.generate`; register it under a
name with :func:`register_generator` and select it with ``adanet.generator``.
No torch here: generators see architectures and reports, never weights or data.
"""
from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from adanet_spark.adanet.architecture import CandidateSpec, EnsembleArch, InputSpec

_REGISTRY: dict[str, type["Generator"]] = {}


@dataclass(frozen=True)
class SearchSpace:
    """What a generator may propose: the architecture half of the search's parameters."""

    widths: tuple[int, ...] = (64, 128)
    learning_rates: tuple[float, ...] = (3e-3, 1e-3)
    max_depth: int = 4
    candidates_per_iteration: int = 4
    activation: str = "relu"
    dropout: float = 0.0
    batch_norm: bool = False
    connections: bool = True


class Generator(abc.ABC):
    """Proposes candidates from the previous ensemble and the reports so far."""

    def __init__(self, space: SearchSpace, inputs: InputSpec):
        self.space = space
        self.inputs = inputs

    @abc.abstractmethod
    def generate(self, previous: EnsembleArch, reports: Sequence[Any], iteration: int) -> list[CandidateSpec]:
        """Candidates for ``iteration``; names must be unique within the list."""


def register_generator(name: str) -> Callable[[type[Generator]], type[Generator]]:
    def add(cls: type[Generator]) -> type[Generator]:
        _REGISTRY[name] = cls
        return cls
    return add


def generator_names() -> list[str]:
    return sorted(_REGISTRY)


def make_generator(name: str, space: SearchSpace, inputs: InputSpec) -> Generator:
    if name not in _REGISTRY:
        raise ValueError(f"unknown generator {name!r} (registered: {', '.join(generator_names())})")
    return _REGISTRY[name](space, inputs)


def _unique(values: Sequence) -> list:
    return list(dict.fromkeys(values))


def _diagonal(widths: Sequence[int], rates: Sequence[float]) -> list[tuple[int, float]]:
    """All (width, rate) pairs, the diagonal (widths[0], rates[0]), (widths[1], rates[1]) ...
    first, so that even a few candidates vary both."""
    pairs = [(i, j) for i in range(len(widths)) for j in range(len(rates))]
    pairs.sort(key=lambda ij: (abs(ij[0] - ij[1]), ij[0] + ij[1], ij[0]))
    return [(widths[i], rates[j]) for i, j in pairs]


@register_generator("default")
class DefaultGenerator(Generator):
    """AdaNet's simple search space (tensorflow/adanet's simple_dnn generator).

    Each iteration proposes subnetworks as deep as the last one added ("same") and
    one layer deeper ("deeper", capped at ``max_depth``); at iteration 0 these are
    depths 1 and 2. Widths and learning rates are varied across candidates up to
    ``candidates_per_iteration``: many lightweight subnetworks explore more than a
    few big ones, and the ensemble grows capacity only where the data pays for it.
    """

    def generate(self, previous: EnsembleArch, reports: Sequence[Any], iteration: int) -> list[CandidateSpec]:
        sp = self.space
        last = previous.depths[-1] if previous.subnetworks else 0
        same = min(max(1, last), sp.max_depth)
        deeper = min(same + 1, sp.max_depth)
        kinds = [("same", same)] + ([("deeper", deeper)] if deeper != same else [])
        rates = _unique(sp.learning_rates)
        specs: list[CandidateSpec] = []
        for width, rate in _diagonal(_unique(sp.widths), rates):
            for kind, depth in kinds:
                name = f"{kind}-d{depth}-w{width}" + (f"-lr{rate:g}" if len(rates) > 1 else "")
                specs.append(CandidateSpec(name=name, depth=depth, width=width, learning_rate=rate,
                                           inputs=self.inputs, kind=kind, activation=sp.activation,
                                           dropout=sp.dropout, batch_norm=sp.batch_norm,
                                           connections=sp.connections))
        return specs[:sp.candidates_per_iteration]
