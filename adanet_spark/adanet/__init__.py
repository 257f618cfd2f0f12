"""AdaNet in pure PyTorch (Cortes et al., ICML 2017); no Spark import anywhere here.

Modules: ``architecture`` (plain specs, no torch), ``inputs``, ``subnetwork``,
``ensemble`` (+ persistence, replay), ``objective``, ``generator`` (registry),
``rows`` + ``train`` (one candidate on a worker), ``reports``, ``search``.

Names are exported lazily (PEP 562) so that torch-free users, such as config
validation checking a generator name, do not pay for importing torch.
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    "InputSpec": "architecture", "CandidateSpec": "architecture", "SubnetworkArch": "architecture",
    "EnsembleArch": "architecture", "build_subnetwork_arch": "architecture",
    "Generator": "generator", "DefaultGenerator": "generator", "register_generator": "generator",
    "make_generator": "generator", "generator_names": "generator",
    "Subnetwork": "subnetwork", "complexity": "subnetwork",
    "Ensemble": "ensemble", "replay": "ensemble",
    "TrainBudget": "train", "CandidateResult": "train", "CandidateCancelled": "train",
    "train_candidate": "train", "adanet_train_fn": "train", "make_payload": "train",
    "derive_seed": "train",
    "ReportRecord": "reports", "ReportSink": "reports", "InMemorySink": "reports",
    "AdaNetSearch": "search",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
