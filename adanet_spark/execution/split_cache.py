"""Each split a candidate trains on: held in memory once per worker process, or streamed.

A worker (a reused Spark Python worker, a Horovod worker, the driver itself for
the local backend) trains every candidate of a search on the same train and
valid splits. :func:`cached` decides, per split reference of a ``data`` mapping,
before anything is read:

* **cached** when the split's in-memory size, estimated from Parquet metadata
  (``in_memory_bytes()``: rows x bytes per row of the feature columns), fits the
  memory budget: its ``load()`` then goes through one process-wide LRU keyed by the
  reference itself (a :class:`~adanet_spark.data.tensors.ParquetSplit` is frozen,
  hashable by its file list), so the same files are read once for many candidates
  and small data stays as fast as it was;
* **streamed** when it does not: the trainer gets a :class:`StreamedSplit`, which
  has the core's ``BatchStream`` methods (``num_rows``, ``batches``) and, on purpose,
  no ``load()``, so the core reads it batch by batch.

The budget is the reference's ``cache_max_bytes`` (``training.cache_max_bytes``,
resolved on the driver by ``TrainingConfig.cache_budget()``), else that same
default computed on the worker's machine. The choice is logged for every
candidate the worker takes (the local backend: once per iteration). In-memory
data is unhashable and already loaded: it passes through untouched.
"""
from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from typing import Any, Hashable, Iterator, Mapping, Optional

from adanet_spark.adanet.protocol import SplitData
from adanet_spark.config import TrainingConfig

log = logging.getLogger(__name__)

# Enough for the (train, valid) pair of the current search and of one earlier
# search still winding down; a new search's splits push out the oldest.
CAPACITY = 4

CACHED = "cached"
STREAMED = "streamed"

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
        attr = getattr(self.ref, name)
        if name == "for_rank":  # a data-parallel rank's own row groups, cached as well
            return lambda rank, size: CachedSplit(attr(rank, size))
        return attr


class StreamedSplit:
    """A split over the memory budget: the core's ``BatchStream``, and nothing to ``load()``."""

    def __init__(self, ref: Any):
        self.ref = ref

    @property
    def spec_json(self) -> str:
        return self.ref.spec_json

    def num_rows(self, rank: int = 0, size: int = 1) -> int:
        return self.ref.num_rows(rank, size)

    def in_memory_bytes(self) -> int:
        return self.ref.in_memory_bytes()

    def batches(self, batch_size: int, **kwargs: Any) -> Iterator[SplitData]:
        return self.ref.batches(batch_size, **kwargs)


def decide(ref: Any, max_bytes: Optional[int] = None) -> tuple[str, Optional[int], int]:
    """``(CACHED | STREAMED, estimated bytes or None, budget)`` for one split reference.
    ``max_bytes`` overrides the reference's own budget."""
    budget = max_bytes if max_bytes is not None else getattr(ref, "cache_max_bytes", None)
    if budget is None:
        budget = TrainingConfig().cache_budget()
    size = ref.in_memory_bytes() if hasattr(ref, "in_memory_bytes") else None
    if size is not None and size > budget and hasattr(ref, "batches"):
        return STREAMED, size, budget
    return CACHED, size, budget


def cached(data: Mapping[str, Any], max_bytes: Optional[int] = None) -> dict:
    """``data`` with every hashable split reference wrapped in a :class:`CachedSplit`, or in a
    :class:`StreamedSplit` when it is over the budget (see :func:`decide`); logs the choice."""
    out = {}
    for name, ref in data.items():
        if not _cacheable(ref):
            out[name] = ref
            continue
        choice, size, budget = decide(ref, max_bytes)
        if choice == STREAMED:
            log.info("%s split: streamed, %s > budget %s", name, human_bytes(size), human_bytes(budget))
            out[name] = StreamedSplit(ref)
        else:
            if size is not None and size > budget:
                log.warning("%s split: %s > budget %s, but it cannot be streamed: cached", name,
                            human_bytes(size), human_bytes(budget))
            else:
                log.info("%s split: cached %s", name, human_bytes(size) if size is not None else "(size unknown)")
            out[name] = CachedSplit(ref)
    return out


def preload(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """Load the cached splits now, so a candidate's clock starts after the reading
    (a streamed split is read while the candidate trains)."""
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


def human_bytes(n: float) -> str:
    """Decimal units, as the logs show sizes: ``1.2 GB``."""
    for unit in ("B", "KB", "MB"):
        if abs(n) < 1000:
            return f"{n:.0f} B" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


def _cacheable(ref: Any) -> bool:
    if isinstance(ref, (CachedSplit, StreamedSplit)) or not hasattr(ref, "load"):
        return False
    try:
        hash(ref)
    except TypeError:  # in-memory data (a TensorData dataclass): nothing to save
        return False
    return True
