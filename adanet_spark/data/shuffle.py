"""Rows in numpy blocks, cut into batches: in storage order, or through a bounded shuffle buffer.

A :class:`Block` is a run of rows as the training process holds them (numeric
float32 [n, k], categorical int64 [n, m], label float32 [n]). The two batchers
take an iterator of blocks (one per row group read) and hold O(buffer + one block) rows.
"""
from __future__ import annotations

from typing import Iterable, Iterator, NamedTuple, Protocol

import numpy as np


class Block(NamedTuple):
    numeric: np.ndarray
    categorical: np.ndarray
    label: np.ndarray

    def __len__(self) -> int:  # rows, not fields
        return int(self.label.shape[0])

    def write_into(self, out: "Block") -> None:
        """Copy these rows into ``out`` (as long as this block): how a buffer takes rows in."""
        for dst, src in zip(out, self):
            dst[:] = src

    def rows(self, start: int, stop: int) -> "Block":
        """Rows ``start``..``stop`` (views)."""
        return Block(self.numeric[start:stop], self.categorical[start:stop], self.label[start:stop])

    def take(self, index: np.ndarray) -> "Block":
        """The rows at ``index`` (np.take: several times faster than fancy indexing)."""
        return Block(*(np.take(a, index, axis=0) for a in self))

    def copy(self) -> "Block":
        return Block(self.numeric.copy(), self.categorical.copy(), self.label.copy())

    @staticmethod
    def concat(a: "Block", b: "Block") -> "Block":
        return Block(*(np.concatenate([x, y]) for x, y in zip(a, b)))

    @staticmethod
    def empty(rows: int, n_numeric: int, n_categorical: int) -> "Block":
        return Block(np.empty((rows, n_numeric), np.float32), np.empty((rows, n_categorical), np.int64),
                     np.empty(rows, np.float32))


def ordered_batches(blocks: Iterable[Block], batch_size: int) -> Iterator[Block]:
    """Consecutive batches of ``batch_size`` rows (the last may be shorter), across blocks:
    the same batches as slicing all the rows concatenated."""
    carry = None
    for block in blocks:
        start, n = 0, len(block)
        if carry is not None:
            head = block.rows(0, batch_size - len(carry))
            carry = Block.concat(carry, head)
            start = len(head)
            if len(carry) < batch_size:
                continue
            yield carry
            carry = None
        while start + batch_size <= n:
            yield block.rows(start, start + batch_size)
            start += batch_size
        if start < n:  # a copy: a view would keep the whole block alive
            carry = block.rows(start, n).copy()
    if carry is not None and len(carry):
        yield carry


class Rows(Protocol):
    """What a buffer takes in: a number of rows that can write themselves into a block of that
    length (a :class:`Block`, or rows still in Arrow, written straight into the pool)."""

    def __len__(self) -> int: ...

    def write_into(self, out: Block) -> None: ...


class ShuffleBuffer:
    """A pool of rows that comes out in random order, a large part at a time.

    :meth:`drain` permutes the pool once and hands out all but ``keep`` rows, a batch at a
    time (one gather of a batch's rows each); the kept rows wait to be mixed with the next
    rows added. Memory: the preallocated pool and one batch.
    """

    def __init__(self, capacity: int, n_numeric: int, n_categorical: int, rng: np.random.Generator):
        self.pool = Block.empty(capacity, n_numeric, n_categorical)
        self.size = 0
        self.rng = rng

    def __len__(self) -> int:
        return self.size

    def add(self, rows: Rows) -> None:
        n = len(rows)
        if self.size + n > len(self.pool):
            raise ValueError(f"shuffle buffer overflow: {self.size} + {n} rows > capacity {len(self.pool)}")
        rows.write_into(self.pool.rows(self.size, self.size + n))
        self.size += n

    def drain(self, keep: int, batch_size: int) -> Iterator[Block]:
        """Batches of the pool in random order, leaving at least ``keep`` rows (the batches are
        then all whole; ``keep`` 0 drains everything, the last batch may be shorter). Nothing
        may be added until it is exhausted."""
        n = self.size
        order = self.rng.permutation(n)
        out_n = n if keep <= 0 else max(0, n - keep) // batch_size * batch_size
        pool = self.pool.rows(0, n)
        for start in range(0, out_n, batch_size):
            yield pool.take(order[start:min(start + batch_size, out_n)])
        rest = pool.take(order[out_n:])
        rest.write_into(self.pool.rows(0, len(rest)))
        self.size = len(rest)


def shuffled_batches(rows: Iterable[Rows], batch_size: int, buffer: ShuffleBuffer,
                     buffer_rows: int) -> Iterator[Block]:
    """Batches through ``buffer``: rows (e.g. one row group each) are added until it holds
    ``2 * buffer_rows + batch_size`` rows, then all but ``buffer_rows`` come out shuffled; the
    pool is drained at the end. Every row comes out exactly once; the last batch may be shorter."""
    for part in rows:
        buffer.add(part)
        if len(buffer) >= 2 * buffer_rows + batch_size:
            yield from buffer.drain(buffer_rows, batch_size)
    yield from buffer.drain(0, batch_size)
