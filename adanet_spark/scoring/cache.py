"""A saved model on executors: broadcast once per driver, deserialised once per process.

The driver reads the model once through Hadoop FS (``results.models.load_model``:
local, HDFS, S3, DBFS) and broadcasts its bytes (:func:`handle`); each executor
Python process deserialises it once and keeps it (:func:`cached_model`, keyed by
URI and checksum), so a task of any size costs one dictionary lookup.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any, Optional

from adanet_spark.data.spec import FeatureSpec

_CACHE: dict = {}  # (uri, digest) -> (Ensemble, FeatureSpec), per executor process
_LOCK = threading.Lock()
_HANDLES: dict = {}  # (SparkContext id, uri, digest) -> ModelHandle, on the driver
LOADS = {"count": 0}  # models deserialised by this process (tests check "once per process")


@dataclass(frozen=True)
class ModelHandle:
    """Picklable reference shipped inside the UDF: URI, checksum and the broadcast bytes."""

    uri: str
    digest: str
    broadcast: Any  # Broadcast[(ensemble_bytes, spec_json)]
    run_id: Optional[str] = None


def handle(spark, saved) -> ModelHandle:
    """One broadcast per model and driver (a SavedModel from ``results.models.load_model``)."""
    key = (id(spark.sparkContext), saved.uri, saved.digest)
    h = _HANDLES.get(key)
    if h is None:
        bc = spark.sparkContext.broadcast((saved.ensemble_bytes, saved.spec.to_json()))
        h = ModelHandle(saved.uri, saved.digest, bc, saved.meta.get("run_id"))
        _HANDLES[key] = h
    return h


def cached_model(h: ModelHandle) -> tuple[Any, FeatureSpec]:
    """``(ensemble, spec)`` of ``h`` in this process, deserialised on first use only."""
    key = (h.uri, h.digest)
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            return hit
        import torch
        from adanet_spark.adanet.ensemble import Ensemble
        # One Spark task per core: a multi-threaded torch in every task would oversubscribe.
        torch.set_num_threads(int(os.environ.get("ADANET_SCORE_THREADS", "1")))
        blob, spec_json = h.broadcast.value
        model = (Ensemble.from_bytes(blob), FeatureSpec.from_json(spec_json))
        _CACHE[key] = model
        LOADS["count"] += 1
        return model
