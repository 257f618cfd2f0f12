"""Candidate generators: propose the subnetworks one iteration trains.

A generator implements one method, :meth:`Generator.generate`; register it under a
name with :func:`register_generator` and select it with ``adanet.generator``.
No torch here: generators see architectures and reports, never weights or data.
"""
from __future__ import annotations

import abc
import json
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence

from adanet_spark.adanet.architecture import CandidateSpec, EnsembleArch, InputSpec

_REGISTRY: dict[str, type["Generator"]] = {}


@dataclass(frozen=True)
class SearchSpace:
    """What a generator may propose: the architecture half of the search's parameters."""

    widths: tuple[int, ...] = (256,)
    learning_rates: tuple[float, ...] = (3e-3,)
    max_depth: int = 4
    max_width: int = 512
    candidates_per_iteration: int = 3
    activation: str = "relu"
    dropout: float = 0.0
    batch_norm: bool = False
    connections: bool = True
    encodings: tuple[str, ...] = ("ple", "plain")  # numeric encodings tried at the first iteration
    later_lr_factor: float = 0.5  # learning rate of candidates joining an ensemble (shrinkage)


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


@register_generator("simple")
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


# -- the adaptive generator: expansion rules that read the reports -----------------------
OVERFIT, UNDERFIT = 0.35, 0.85  # best checked step as a fraction of the budget


@register_generator("adaptive")
class AdaptiveGenerator(Generator):
    """Grows from the last winner, and reads its report.

    First iteration: depths 1 and 2 at ``widths[0]``, with each numeric encoding.
    Then the last winner's shape grows three ways: as deep ("same"), one layer deeper
    ("deeper") and twice as wide ("wider"), all with a mutation chosen from the
    winner's report: if its best validation check came early (< 35% of its budget:
    overfit), more dropout and weight decay and a lower learning rate; if it came at
    the very end (> 85%: underfit), twice the steps; after an iteration that improved
    nothing, more regularisation whatever the report. Later candidates learn at
    ``later_lr_factor`` of the rate (shrinkage). Each proposal records why.
    """

    def generate(self, previous: EnsembleArch, reports: Sequence[Any], iteration: int) -> list[CandidateSpec]:
        winner = _last_winner(reports)
        if not previous.subnetworks or winner is None:
            return self._first(previous)[:self.space.candidates_per_iteration]
        base, why = self._mutated(winner, _last_failed(reports))
        depth, width = base["depth"], base["width"]
        shapes = [("same", depth, width), ("deeper", min(depth + 1, self.space.max_depth), width),
                  ("wider", depth, min(width * 2, self.space.max_width))]
        specs, seen = [], set()
        for kind, d, w in shapes:
            if (d, w) in seen:
                continue
            seen.add((d, w))
            specs.append(self._spec(kind, d, w, base, why))
        return specs[:self.space.candidates_per_iteration]

    def _first(self, previous: EnsembleArch) -> list[CandidateSpec]:
        sp = self.space
        encodings = [e for e in sp.encodings if e == "plain" or self.inputs.bins] or ["plain"]
        base = {"learning_rate": sp.learning_rates[0], "dropout": sp.dropout, "weight_decay": None,
                "steps_scale": 1.0}
        return [self._spec("first", depth, sp.widths[0], dict(base, encoding=enc), "first iteration")
                for enc in dict.fromkeys(encodings) for depth in (2, 1) if depth <= sp.max_depth]

    def _mutated(self, winner: dict, failed: int) -> tuple[dict, str]:
        """The winner's settings, regularised once per failed iteration since it won, and
        once more if it overfit (so an extra iteration never repeats the failed one)."""
        base = dict(winner["hyper"])
        where = winner["best_fraction"]
        strength = failed + (1 if where < OVERFIT else 0)
        if strength:
            base["dropout"] = min(0.5, float(base.get("dropout") or 0.0) + 0.15 * strength)
            base["weight_decay"] = max(1e-4, float(base.get("weight_decay") or 0.0)) * 4 ** (strength - 1)
            base["learning_rate"] = float(base["learning_rate"]) * 0.5 ** strength
            why = "; ".join(part for part in (
                f"{failed} iteration(s) improved nothing since {winner['name']}" if failed else "",
                f"{winner['name']} (iteration {winner['iteration']}) peaked at {where:.0%} of its budget"
                if where < OVERFIT else "") if part)
            return base, why + f": regularised x{strength} (dropout, weight decay, a lower learning rate)"
        if where > UNDERFIT:
            base["steps_scale"] = min(4.0, 2 * float(base.get("steps_scale") or 1.0))
            return base, (f"{winner['name']} (iteration {winner['iteration']}) still improved at "
                          f"{where:.0%} of its budget: twice the steps")
        return base, f"{winner['name']} (iteration {winner['iteration']}) peaked at {where:.0%}: same settings"

    def _spec(self, kind: str, depth: int, width: int, hyper: dict, why: str) -> CandidateSpec:
        sp = self.space
        later = kind != "first"
        rate = float(hyper["learning_rate"]) * (sp.later_lr_factor if later and not hyper.get("joined") else 1.0)
        enc = hyper.get("encoding", "plain")
        return CandidateSpec(
            name=f"{kind}-d{depth}-w{width}-{enc}", depth=depth, width=width, learning_rate=rate,
            inputs=self.inputs, kind=kind, activation=sp.activation, dropout=float(hyper.get("dropout") or 0.0),
            batch_norm=sp.batch_norm, connections=sp.connections, encoding=enc,
            weight_decay=hyper.get("weight_decay"), steps_scale=float(hyper.get("steps_scale") or 1.0),
            rationale=why)


def _last_winner(reports: Sequence[Any]) -> Optional[dict]:
    """The most recent selected candidate: its hyperparameters and where its best check was."""
    for r in reversed(list(reports)):
        rec = r if isinstance(r, dict) else r.to_dict()
        if rec.get("kind") == "candidate" and rec.get("selected"):
            hyper = json.loads(rec.get("hyperparameters_json") or "{}")
            total = float(hyper.get("total_steps") or 0)
            fraction = float(hyper.get("best_step") or 0) / total if total else 0.5
            hyper["joined"] = rec.get("n_subnetworks", 1) > 1  # its rate already had the shrinkage
            return {"hyper": hyper, "best_fraction": fraction, "name": rec["candidate"],
                    "iteration": rec["iteration"]}
    return None


def _last_failed(reports: Sequence[Any]) -> int:
    """How many iterations in a row, the latest included, kept the incumbent."""
    failed = 0
    for r in reversed(list(reports)):
        rec = r if isinstance(r, dict) else r.to_dict()
        if rec.get("kind") == "iteration":
            if rec.get("candidate") != "previous":
                break
            failed += 1
    return failed
