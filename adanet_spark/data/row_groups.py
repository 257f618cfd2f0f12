"""Parquet row groups: the unit a streamed split reads, and how data-parallel ranks share them.

A split's files are described once per process from their footers (no data is
read): every row group becomes a :class:`Piece`. :func:`assign` gives each rank
of a data-parallel group a disjoint share of the pieces, and :func:`read_piece`
reads one piece's columns.

How ranks share a split (:func:`assign`): whole row groups, placed largest first
on the rank with the fewest rows so far, so the ranks' row counts differ by at
most one row group and no rank reads a row group another one reads. The core
makes every rank take the same number of steps (an allreduce-min of the ranks'
row counts), so the surplus rows of the larger shares are left out of an epoch
(each epoch a different subset of them, as the order is reshuffled). When whole
groups cannot come within :data:`BALANCE_TOLERANCE` of an even share (fewer row
groups than ranks, or a few huge ones), the split's rows are cut instead into
``size`` contiguous ranges of equal length (to one row): a row group on a cut is
then read by both neighbouring ranks, each keeping only its own rows. Either way
the ranks' rows are disjoint and cover the split exactly once.
"""
from __future__ import annotations

import functools
import heapq
from dataclasses import dataclass
from typing import Iterable, Sequence

import pyarrow as pa
import pyarrow.parquet as pq

# Whole row groups are kept when the smallest share has at least (1 - this) of an
# even share: at most this fraction of an epoch is left out on the smallest rank.
BALANCE_TOLERANCE = 0.1


@dataclass(frozen=True, order=True)
class Piece:
    """Rows ``start``..``stop`` of row group ``group`` of the Parquet file ``path``."""

    path: str
    group: int
    start: int
    stop: int

    @property
    def rows(self) -> int:
        return self.stop - self.start


def local_path(path: str) -> str:
    """``file:`` URIs (as Spark lists a table's files) as plain paths; other URIs as given."""
    if not path.startswith("file:"):
        return path
    local = path[len("file:"):]
    while local.startswith("//"):
        local = local[1:]
    return local


def open_parquet(path: str) -> pq.ParquetFile:
    """One Parquet file, local or on any filesystem pyarrow resolves from its URI.
    No hive partition discovery: Delta writes the split column into the files too."""
    return pq.ParquetFile(local_path(path))


@functools.lru_cache(maxsize=4096)
def group_rows(path: str) -> tuple[int, ...]:
    """Rows of each row group of one file, from its footer (files of a Delta table never change)."""
    with open_parquet(path) as pf:
        meta = pf.metadata
        return tuple(meta.row_group(i).num_rows for i in range(meta.num_row_groups))


def pieces_of(paths: Iterable[str]) -> tuple[Piece, ...]:
    """Every non-empty row group of ``paths``, in storage order (files as given, then groups)."""
    return _pieces(tuple(paths))


@functools.lru_cache(maxsize=64)
def _pieces(paths: tuple[str, ...]) -> tuple[Piece, ...]:
    # cached: a stream asks for its pieces (and its rows) every epoch
    return tuple(Piece(p, g, 0, n) for p in paths for g, n in enumerate(group_rows(p)) if n > 0)


def total_rows(pieces: Iterable[Piece]) -> int:
    return sum(p.rows for p in pieces)


@functools.lru_cache(maxsize=256)
def assign(pieces: tuple[Piece, ...], size: int) -> tuple[tuple[Piece, ...], ...]:
    """``size`` disjoint shares of ``pieces`` (each in storage order), balanced by rows."""
    if size < 1:
        raise ValueError(f"data-parallel group size must be >= 1, got {size}")
    if size == 1:
        return (pieces,)
    shares = _whole_groups(pieces, size)
    even = total_rows(pieces) / size
    if min(total_rows(s) for s in shares) >= (1.0 - BALANCE_TOLERANCE) * even:
        return shares
    return _row_ranges(pieces, size)


def share(pieces: tuple[Piece, ...], rank: int, size: int) -> tuple[Piece, ...]:
    if not 0 <= rank < size:
        raise ValueError(f"rank must be in [0, {size}), got {rank}")
    return assign(pieces, size)[rank]


def _whole_groups(pieces: Sequence[Piece], size: int) -> tuple[tuple[Piece, ...], ...]:
    """Largest first onto the rank with the fewest rows (ties: the lower rank)."""
    loads = [(0, r) for r in range(size)]
    owner = {}
    for i in sorted(range(len(pieces)), key=lambda i: (-pieces[i].rows, i)):
        rows, rank = heapq.heappop(loads)
        owner[i] = rank
        heapq.heappush(loads, (rows + pieces[i].rows, rank))
    return tuple(tuple(p for i, p in enumerate(pieces) if owner[i] == r) for r in range(size))


def _row_ranges(pieces: Sequence[Piece], size: int) -> tuple[tuple[Piece, ...], ...]:
    """The concatenated rows cut into ``size`` contiguous ranges of equal length (to one row)."""
    total = total_rows(pieces)
    cuts = [round(r * total / size) for r in range(size + 1)]
    shares: list[list[Piece]] = [[] for _ in range(size)]
    offset = 0
    for p in pieces:
        for r in range(size):
            lo, hi = max(cuts[r], offset), min(cuts[r + 1], offset + p.rows)
            if lo < hi:
                shares[r].append(Piece(p.path, p.group, p.start + lo - offset, p.start + hi - offset))
        offset += p.rows
    return tuple(tuple(s) for s in shares)


def read_piece(piece: Piece, columns: list[str]) -> pa.Table:
    """One piece's ``columns`` (one row group read; a partial piece is sliced from it)."""
    with open_parquet(piece.path) as pf:
        names = set(pf.schema_arrow.names)
        missing = [c for c in columns if c not in names]
        if missing:
            raise ValueError(f"Parquet file {piece.path} has no column '{missing[0]}' "
                             f"(the feature spec expects it)")
        table = pf.read_row_group(piece.group, columns=columns)
    if piece.start == 0 and piece.stop == table.num_rows:
        return table
    return table.slice(piece.start, piece.rows)
