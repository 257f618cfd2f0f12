"""AdaNet in pure PyTorch (Cortes et al., ICML 2017); nothing of Spark or of the rest of
the project is imported anywhere here (a test parses every import).

Vocabulary (tensorflow/adanet's): ``protocol`` (the contracts executors implement),
``architecture`` (plain specs, no torch), ``inputs`` / ``subnetwork`` / ``ensemble``
(+ persistence, replay), ``objective``, ``generator`` (registry, search space),
``loop`` / ``ensembler`` / ``collectives`` / ``train`` (one candidate on a worker),
``evaluator`` (selection on validation), ``strategy`` (growth), ``reports``
(records, sinks, materialiser), ``search`` (AdaNetSearch), ``metrics``.

Names are exported lazily (PEP 562) so that torch-free users, such as config
validation reading generator names, do not pay for importing torch.
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    "InputSpec": "architecture", "CandidateSpec": "architecture", "SubnetworkArch": "architecture",
    "EnsembleArch": "architecture", "build_subnetwork_arch": "architecture",
    "Generator": "generator", "DefaultGenerator": "generator", "SearchSpace": "generator",
    "register_generator": "generator", "make_generator": "generator", "generator_names": "generator",
    "Subnetwork": "subnetwork", "complexity": "subnetwork",
    "Ensemble": "ensemble", "replay": "ensemble",
    "TrainBudget": "train", "train_candidate": "train", "adanet_train_fn": "train", "make_payload": "train",
    "derive_seed": "train", "CandidateCancelled": "loop", "Ensembler": "ensembler",
    "TensorData": "tensor_data", "CandidateResult": "protocol", "CandidateTask": "protocol", "TrainContext": "protocol",
    "TaskOutcome": "protocol", "Executor": "protocol", "InProcessExecutor": "protocol",
    "ReportRecord": "reports", "ReportSink": "reports", "InMemorySink": "reports",
    "ReportMaterializer": "reports", "Evaluator": "evaluator", "GrowStrategy": "strategy",
    "AdaNetSearch": "search", "roc_auc": "metrics",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
