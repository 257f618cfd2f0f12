"""Loaded splits kept per process, so a worker reads its data once for many candidates.

A worker (a reused Spark Python worker, a Horovod worker, the driver itself for
the local backend) trains every candidate of a search on the same train and
valid splits. :func:`cached` wraps each split reference of a ``data`` mapping so
that its ``load()`` goes through one process-wide LRU keyed by the reference
itself: a :class:`~adanet_spark.data.tensors.ParquetSplit` is frozen (hashable
by its file list), so the same files are read once. In-memory data is
unhashable and already loaded: it passes through untouched.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Hashable, Mapping

from adanet_spark.adanet.protocol import SplitData

# Enough for the (train, valid) pair of the current search and of one earlier
# search still winding down; a new search's splits push out the oldest.
CAPACITY = 4

_loaded: "OrderedDict[Hashable, SplitData]" = OrderedDict()
_lock = threading.Lock()


class CachedSplit:
    """A split reference whose ``load()`` is served from the process cache."""

    def __init__(self, ref: Hashable):
        self.ref = ref

    def load(self) -> SplitData:
        with _lock:
            if self.ref in _loaded:
                _loaded.move_to_end(self.ref)
                return _loaded[self.ref]
        data = self.ref.load()  # outside the lock: reading Parquet may take seconds
        with _lock:
            _loaded[self.ref] = data
            _loaded.move_to_end(self.ref)
            while len(_loaded) > CAPACITY:
                _loaded.popitem(last=False)
        return data

    def __getattr__(self, name: str) -> Any:
        # Callers read fields of the reference too (e.g. ParquetSplit.spec_json).
        if name == "ref":  # not set yet (unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.ref, name)


def cached(data: Mapping[str, Any]) -> dict:
    """``data`` with every hashable split reference wrapped in a :class:`CachedSplit`."""
    return {name: CachedSplit(ref) if _cacheable(ref) else ref for name, ref in data.items()}


def preload(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """Load the cached splits now, so a candidate's clock starts after the reading."""
    for ref in data.values():
        if isinstance(ref, CachedSplit):
            ref.load()
    return data


def clear() -> None:
    """Forget every loaded split (tests; a process that needs the memory back)."""
    with _lock:
        _loaded.clear()


def size() -> int:
    with _lock:
        return len(_loaded)


def _cacheable(ref: Any) -> bool:
    if isinstance(ref, CachedSplit) or not hasattr(ref, "load"):
        return False
    try:
        hash(ref)
    except TypeError:  # in-memory data (a TensorData dataclass): nothing to save
        return False
    return True
