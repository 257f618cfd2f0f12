"""Where a candidate's batches come from: a split held in memory, or a stream.

Both give the training loop the same three things, as :class:`~.rows.Rows`
(features plus the frozen ensemble's contribution): ``epoch(e)``, the training
batches of one pass; ``sample(n)``, a fixed set of up to ``n`` rows held in memory
(intermediate validation checks, the mixture refit); and ``chunks()``, every row
once in a fixed order (the final validation).

In memory, the frozen ensemble is run once over the whole split and each epoch
permutes the rows once, so every batch is a contiguous slice (no per-step
gather). A stream, for data larger than the worker's memory, runs the frozen
ensemble on each batch as it arrives. So does a split in memory whose frozen
contributions would not fit (:data:`PRECOMPUTE_MAX_BYTES`): it is read as a
:class:`MemoryStream`.
"""
from __future__ import annotations

from typing import Any, Iterator

import torch

from adanet_spark.adanet.budget import StepPlan
from adanet_spark.adanet.ensemble import INFERENCE_CHUNK, Ensemble
from adanet_spark.adanet.protocol import BatchStream
from adanet_spark.adanet.rows import Rows, check_inputs, frozen_rows
from adanet_spark.adanet.subnetwork import Subnetwork


# Precomputed, the frozen contributions cost 4 bytes a row for each frozen logit and
# each hidden unit a connected candidate reads: 3 KB a row for a depth-3 candidate
# reading width-256 layers, 49 GB over 16M rows. Above this size (or the split's own,
# when larger) they are computed batch by batch, as for a stream.
PRECOMPUTE_MAX_BYTES = 1 << 30


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    """The generator of one epoch's order: a function of (seed, epoch) alone, the same
    contract a BatchStream gets, so nothing drawn before (weight init) changes it."""
    return torch.Generator().manual_seed((seed * 1_000_003 + epoch) & 0x7FFFFFFF)


def spread(total: int, n: int) -> torch.Tensor:
    """``n`` row positions spread evenly over ``total`` rows (all of them when n >= total).
    Storage order may be sorted (by time, say): a prefix would not be representative."""
    if n >= total:
        return torch.arange(total)
    return torch.arange(n, dtype=torch.int64) * total // n


def label_mean(sample: Rows) -> float:
    """The base rate of a (spread) sample of rows."""
    return float(sample.label.double().mean()) if len(sample) else 0.0


class MemoryRows:
    """A split in memory (``data``: SplitData), with the frozen contributions precomputed."""

    def __init__(self, data: Any, ensemble: Ensemble, candidate: Subnetwork, seed: int, shuffle: bool = True):
        self.rows = frozen_rows(ensemble, data, candidate)
        self.seed = seed
        self.shuffle = shuffle

    def __len__(self) -> int:
        return len(self.rows)

    def epoch(self, plan: StepPlan, epoch: int) -> Iterator[Rows]:
        if self.shuffle:
            order = torch.randperm(len(self.rows), generator=epoch_generator(self.seed, epoch))[:plan.rows]
            rows = self.rows.take(order)
        else:
            rows = self.rows.slice(0, plan.rows)
        for s in range(plan.steps_per_epoch):
            yield rows.slice(s * plan.batch_size, (s + 1) * plan.batch_size)

    def sample(self, n: int) -> Rows:
        return self.rows if n >= len(self.rows) else self.rows.take(spread(len(self.rows), n))

    def label_mean(self, rows: int) -> float:
        return label_mean(self.sample(rows))

    def chunks(self) -> Iterator[Rows]:
        for i in range(0, len(self.rows), INFERENCE_CHUNK):
            yield self.rows.slice(i, i + INFERENCE_CHUNK)


class StreamRows:
    """A :class:`BatchStream`, with the frozen contributions computed per batch. Each batch is
    checked as it arrives, unless ``checked`` says the whole split already was."""

    def __init__(self, name: str, stream: BatchStream, ensemble: Ensemble, candidate: Subnetwork, seed: int,
                 rank: int = 0, size: int = 1, shuffle: bool = True, checked: bool = False):
        self.name = name
        self.checked = checked
        self.stream = stream
        self.ensemble = ensemble
        self.candidate = candidate
        self.seed = seed
        self.rank = rank
        self.size = size
        self.shuffle = shuffle
        self._samples: dict[int, Rows] = {}

    def __len__(self) -> int:
        return self.stream.num_rows(self.rank, self.size)

    def epoch(self, plan: StepPlan, epoch: int) -> Iterator[Rows]:
        batches = self.stream.batches(plan.batch_size, seed=self.seed, epoch=epoch, rank=self.rank,
                                      size=self.size, shuffle=self.shuffle)
        count = 0
        for count, batch in zip(range(1, plan.steps_per_epoch + 1), batches):
            yield self._rows(batch)
        if count == 0:  # a stream that claims rows but yields none would loop forever
            raise ValueError(f"split '{self.name}' yielded no batch of {plan.batch_size} rows")

    def sample(self, n: int) -> Rows:
        """The rows at the same spread-out positions as :meth:`MemoryRows.sample`: one pass
        that keeps only those rows (the frozen ensemble runs on them alone)."""
        if n not in self._samples:
            wanted, start, picked, at = spread(len(self), n), 0, None, 0
            for batch in self._raw():
                here = wanted[(wanted >= start) & (wanted < start + len(batch))] - start
                if len(here):
                    # Into tensors allocated once: small survivors of every chunk would
                    # keep the allocator from reusing the chunks' memory (the RSS grows).
                    picked = _empty(batch, len(wanted)) if picked is None else picked
                    for dst, src in zip(_fields(picked), _fields(batch)):
                        dst[at:at + len(here)] = src[here]
                    at += len(here)
                start += len(batch)
            if picked is None:
                raise ValueError(f"split '{self.name}' yielded no rows")
            self._samples[n] = frozen_rows(self.ensemble, _take(picked, slice(0, at)), self.candidate)
        return self._samples[n]

    def label_mean(self, rows: int) -> float:
        return label_mean(self.sample(rows))  # the sample the refit then reuses

    def chunks(self) -> Iterator[Rows]:
        for batch in self._raw():
            yield frozen_rows(self.ensemble, batch, self.candidate)

    def _raw(self) -> Iterator[Any]:
        for batch in self.stream.batches(INFERENCE_CHUNK, seed=self.seed, rank=self.rank, size=self.size,
                                         shuffle=False):
            self._check(batch)
            yield batch

    def _rows(self, batch: Any) -> Rows:
        self._check(batch)
        return frozen_rows(self.ensemble, batch, self.candidate)

    def _check(self, batch: Any) -> None:
        if not self.checked:
            check_inputs(batch, self.candidate.arch.inputs, self.name)  # a min and a max per column


class MemoryStream:
    """A split in memory read as a :class:`BatchStream`: shuffled by the same contract as
    :class:`MemoryRows` (``epoch_generator(seed, epoch)``), batches gathered on demand."""

    def __init__(self, data: Any):
        self.data = data

    def num_rows(self, rank: int = 0, size: int = 1) -> int:
        return len(self.data)

    def batches(self, batch_size: int, *, seed: int = 0, epoch: int = 0, rank: int = 0, size: int = 1,
                shuffle: bool = True) -> Iterator[Any]:
        n = len(self.data)
        order = torch.randperm(n, generator=epoch_generator(seed, epoch)) if shuffle else None
        for start in range(0, n, batch_size):
            stop = min(start + batch_size, n)
            yield _take(self.data, order[start:stop] if shuffle else slice(start, stop))


def nbytes(tensors) -> int:
    return sum(t.element_size() * t.numel() for t in tensors if t is not None)


def precomputed_fits(data: Any, ensemble: Ensemble, candidate: Subnetwork) -> bool:
    """Whether the frozen contributions over all of ``data`` fit :data:`PRECOMPUTE_MAX_BYTES`
    (or the split's own size): measured on one row."""
    probe = frozen_rows(ensemble, _take(data, slice(0, 1)), candidate)
    frozen = len(data) * nbytes([probe.z, probe.base, *probe.extra])
    return frozen <= max(PRECOMPUTE_MAX_BYTES, nbytes([data.numeric, data.categorical, data.label]))


def _fields(batch: Any) -> tuple:
    return batch.numeric, batch.categorical, batch.label


def _empty(batch: Any, rows: int) -> Any:
    """``rows`` uninitialised rows of the same kind, dtypes and widths as ``batch``."""
    return type(batch)(*(t.new_empty((rows, *t.shape[1:])) for t in _fields(batch)))


def _take(batch: Any, index: "torch.Tensor | slice") -> Any:
    """Rows ``index`` of a SplitData, as the same kind of object."""
    return type(batch)(batch.numeric[index], batch.categorical[index], batch.label[index])


def row_source(name: str, split: Any, ensemble: Ensemble, candidate: Subnetwork, seed: int,
               rank: int = 0, size: int = 1, shuffle: bool = True):
    """Memory or stream, by what the split offers: ``load()`` means it fits in memory
    (the executor decided), a bare :class:`BatchStream` is read batch by batch. In a
    data-parallel group each rank takes its own share: the split's ``for_rank`` (its own
    row groups) when it has one, else every ``size``-th row of the loaded split."""
    if hasattr(split, "load"):
        if size > 1 and hasattr(split, "for_rank"):
            data = split.for_rank(rank, size).load()
        else:
            data = split.load()
            data = data.shard(rank, size) if size > 1 else data
        # Checked before the frozen ensemble reads the indices: an out-of-range one would
        # silently read a neighbouring feature's embedding row.
        check_inputs(data, candidate.arch.inputs, name)
        if not precomputed_fits(data, ensemble, candidate):
            return StreamRows(name, MemoryStream(data), ensemble, candidate, seed, shuffle=shuffle, checked=True)
        return MemoryRows(data, ensemble, candidate, seed, shuffle)
    stream = StreamRows(name, split, ensemble, candidate, seed, rank, size, shuffle)
    if len(stream) == 0:
        raise ValueError(f"split '{name}' has no rows")
    return stream
