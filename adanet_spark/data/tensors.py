"""Feature-table files -> Arrow -> torch tensors, on whichever process trains.

No Spark import: a Spark task or a Horovod worker reads its split straight from
the table's Parquet files (the driver hands over only the file list), so no
training data ever passes through the driver.

A :class:`ParquetSplit` is both of the core's data contracts: a ``Split``
(``load()`` reads it whole into memory) and a ``BatchStream`` (``batches()``
reads it row group by row group, for splits larger than a worker's memory). The
executor's split cache decides which one a candidate gets
(:mod:`adanet_spark.execution.split_cache`).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import Iterable, Iterator, Optional, Sequence

import numpy as np
import pyarrow as pa

from adanet_spark.adanet.tensor_data import TensorData
from adanet_spark.data import row_groups
from adanet_spark.data.row_groups import Piece
from adanet_spark.data.shuffle import Block, ShuffleBuffer, ordered_batches, shuffled_batches
from adanet_spark.data.spec import LABEL, FeatureSpec

# Rows the shuffle buffer keeps besides the row group being read: 262,144 rows of a
# feature table with ~20 features are ~30 MB, and mix rows of several row groups.
DEFAULT_BUFFER_ROWS = 1 << 18


@functools.lru_cache(maxsize=16)
def parsed_spec(spec_json: str) -> FeatureSpec:
    """The spec of a split, parsed once per process (a spec with large vocabularies is big)."""
    return FeatureSpec.from_json(spec_json)


def arrow_into(table: pa.Table, spec: FeatureSpec, out: Block, offset: int = 0) -> None:
    """Write the spec's columns of ``table`` into rows ``offset``.. of ``out`` (no per-row work)."""
    n = table.num_rows
    for arr, names in ((out.numeric, spec.numeric_names), (out.categorical, spec.categorical_names)):
        for j, name in enumerate(names):
            arr[offset:offset + n, j] = table.column(name).to_numpy(zero_copy_only=False)
    out.label[offset:offset + n] = table.column(LABEL).to_numpy(zero_copy_only=False)


def arrow_block(table: pa.Table, spec: FeatureSpec) -> Block:
    out = Block.empty(table.num_rows, len(spec.numeric_names), len(spec.categorical_names))
    arrow_into(table, spec, out)
    return out


def to_tensors(block: Block) -> TensorData:
    return TensorData.from_numpy(block.numeric, block.categorical, block.label)


def arrow_to_tensors(table: pa.Table, spec: FeatureSpec) -> TensorData:
    """Columns named by the spec -> one contiguous tensor per kind (one copy, no per-row work)."""
    return to_tensors(arrow_block(table, spec))


@dataclass(frozen=True)
class ParquetSplit:
    """A lazy reference to one split of a feature table: file paths plus the spec.

    Small, hashable and picklable. ``pieces`` (None: every row group of ``paths``)
    narrows it to some row groups (:meth:`for_rank`). ``buffer_rows`` bounds the
    shuffle buffer of :meth:`batches`; ``cache_max_bytes`` is the memory budget of
    the worker that reads it (``training.cache_max_bytes``; None: the worker's
    default), which the split cache compares with :meth:`in_memory_bytes`. Paths may
    be local or on any filesystem pyarrow understands (``hdfs://``, ``s3://``).
    """

    paths: tuple[str, ...]
    spec_json: str
    pieces: Optional[tuple[Piece, ...]] = None
    buffer_rows: int = DEFAULT_BUFFER_ROWS
    cache_max_bytes: Optional[int] = None

    # -- metadata (footers only) ------------------------------------------------------
    def row_pieces(self) -> tuple[Piece, ...]:
        return self.pieces if self.pieces is not None else row_groups.pieces_of(self.paths)

    def rank_pieces(self, rank: int = 0, size: int = 1) -> tuple[Piece, ...]:
        """The row groups data-parallel rank ``rank`` of ``size`` reads (see :mod:`.row_groups`)."""
        return row_groups.share(self.row_pieces(), rank, size)

    def num_rows(self, rank: int = 0, size: int = 1) -> int:
        return row_groups.total_rows(self.rank_pieces(rank, size))

    def in_memory_bytes(self) -> int:
        """What :meth:`load` would hold: rows x (4 per numeric + 8 per categorical + 4 for the label)."""
        spec = parsed_spec(self.spec_json)
        return self.num_rows() * (4 * len(spec.numeric_names) + 8 * len(spec.categorical_names) + 4)

    def for_rank(self, rank: int, size: int) -> "ParquetSplit":
        """The split of rank ``rank`` of ``size`` alone: its ``load()`` reads only those row groups."""
        return replace(self, pieces=self.rank_pieces(rank, size))

    # -- reading ----------------------------------------------------------------------
    def load(self) -> TensorData:
        """The whole split in memory: one output array per kind, filled row group by row group."""
        spec = parsed_spec(self.spec_json)
        pieces = self.row_pieces()
        out = Block.empty(row_groups.total_rows(pieces), len(spec.numeric_names), len(spec.categorical_names))
        offset = 0
        for piece in pieces:
            arrow_into(row_groups.read_piece(piece, _columns(spec)), spec, out, offset)
            offset += piece.rows
        return to_tensors(out)

    def batches(self, batch_size: int, *, seed: int = 0, epoch: int = 0, rank: int = 0, size: int = 1,
                shuffle: bool = True) -> Iterator[TensorData]:
        """Rank ``rank``'s rows as batches of ``batch_size`` (the last may be shorter).

        ``shuffle``: the row groups in an order and the rows through a buffer of
        ``buffer_rows``, both drawn from (seed, epoch, rank); without it, storage order,
        so the batches equal consecutive slices of ``for_rank(rank, size).load()``.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        spec = parsed_spec(self.spec_json)
        pieces = self.rank_pieces(rank, size)
        if not shuffle:
            blocks = ordered_batches(_read_blocks(pieces, spec), batch_size)
        else:
            rng = np.random.default_rng([int(seed) & 0xFFFFFFFFFFFFFFFF, int(epoch), int(rank)])
            order = [pieces[i] for i in rng.permutation(len(pieces))]
            blocks = shuffled_batches(_read_arrow(order, spec), batch_size,
                                      _buffer(pieces, spec, batch_size, self.buffer_rows, rng), self.buffer_rows)
        for block in blocks:
            yield to_tensors(block)


def _columns(spec: FeatureSpec) -> list[str]:
    return spec.feature_names + [LABEL]


def _read_blocks(pieces: Iterable[Piece], spec: FeatureSpec) -> Iterator[Block]:
    for rows in _read_arrow(pieces, spec):
        yield arrow_block(rows.table, spec)


@dataclass
class ArrowRows:
    """One piece's rows as read, which a shuffle buffer writes straight into its pool."""

    table: pa.Table
    spec: FeatureSpec

    def __len__(self) -> int:
        return self.table.num_rows

    def write_into(self, out: Block) -> None:
        arrow_into(self.table, self.spec, out)


def _read_arrow(pieces: Iterable[Piece], spec: FeatureSpec) -> Iterator[ArrowRows]:
    columns = _columns(spec)
    for piece in pieces:
        yield ArrowRows(row_groups.read_piece(piece, columns), spec)
        # The consumer has copied the rows out: hand the freed Arrow pages back now, or
        # jemalloc keeps them and a streaming worker's RSS grows with the rows it reads.
        pa.default_memory_pool().release_unused()


def _buffer(pieces: Sequence[Piece], spec: FeatureSpec, batch_size: int, buffer_rows: int,
            rng: np.random.Generator) -> ShuffleBuffer:
    """A pool for twice the buffer's rows, a batch and the largest row group: preallocated once."""
    total = row_groups.total_rows(pieces)
    largest = max((p.rows for p in pieces), default=0)
    capacity = min(total, 2 * buffer_rows + batch_size + largest)
    return ShuffleBuffer(capacity, len(spec.numeric_names), len(spec.categorical_names), rng)
