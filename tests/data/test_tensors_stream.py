"""ParquetSplit as the core's BatchStream: metadata-only sizes, disjoint ranks, seeded shuffles,
storage order equal to load(), and memory bounded by the buffer plus one row group."""
import tracemalloc

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from adanet_spark.adanet.protocol import BatchStream, Split
from adanet_spark.data.spec import CategoricalFeature, FeatureSpec, NumericFeature
from adanet_spark.data.tensors import ParquetSplit

SPEC = FeatureSpec("toy", (NumericFeature("a", 0.0, 1.0, 0.0), NumericFeature("b", 0.0, 1.0, 0.0)),
                   (CategoricalFeature("c", ("x", "y", "z")),))


def write(path, start, n, group_rows):
    """Rows numbered ``start``..: column ``a`` holds the number, so every row is known by it."""
    i = np.arange(start, start + n)
    pq.write_table(pa.table({"a": i.astype(np.float32), "b": (i % 7).astype(np.float64),
                             "c": (i % 4).astype(np.int32), "label": (i % 2).astype(np.int32)}), path,
                   row_group_size=group_rows)
    return str(path)


@pytest.fixture
def split(tmp_path):
    """2,000 rows in 3 files and 9 row groups of 100 to 400 rows."""
    paths = [write(tmp_path / "p0.parquet", 0, 1000, 400), write(tmp_path / "p1.parquet", 1000, 600, 300),
             write(tmp_path / "p2.parquet", 1600, 400, 100)]
    return ParquetSplit(tuple(paths), SPEC.to_json(), buffer_rows=150)


def row_ids(batches):
    return [b.numeric[:, 0].long().tolist() for b in batches]


def test_a_parquet_split_is_both_a_split_and_a_stream(split):
    assert isinstance(split, Split) and isinstance(split, BatchStream)
    assert split.num_rows() == 2000 == len(split.load())
    assert split.in_memory_bytes() == 2000 * (2 * 4 + 8 + 4)
    assert sum(split.num_rows(r, 3) for r in range(3)) == 2000


@pytest.mark.parametrize("size", [2, 3])
def test_ranks_stream_disjoint_rows_that_cover_the_split_once(split, size):
    seen = []
    for rank in range(size):
        rows = sum(row_ids(split.batches(64, seed=5, epoch=1, rank=rank, size=size)), [])
        assert len(rows) == split.num_rows(rank, size)
        # what a rank streams is what its own split holds, and that reads only its row groups
        own = split.for_rank(rank, size)
        assert sorted(rows) == sorted(own.load().numeric[:, 0].long().tolist())
        assert set(own.pieces) <= set(split.row_pieces()) and own.num_rows() == len(rows)
        seen += rows
    assert sorted(seen) == list(range(2000))


def test_the_shuffle_is_seeded_and_changes_every_epoch(split):
    def order(seed, epoch, rank=0):
        return row_ids(split.batches(64, seed=seed, epoch=epoch, rank=rank, size=2))

    first = order(7, 0)
    assert order(7, 0) == first  # same seed and epoch: the same batches
    assert order(7, 1) != first and order(8, 0) != first
    assert sorted(sum(order(7, 1), [])) == sorted(sum(first, []))  # the same rows, reordered
    flat = sum(first, [])
    assert flat != sorted(flat)
    assert all(len(b) == 64 for b in first[:-1])


def test_without_shuffle_batches_are_storage_order_and_equal_load(split):
    batches = list(split.batches(300, shuffle=False))
    loaded = split.load()
    assert [len(b) for b in batches] == [300] * 6 + [200]
    for k, b in enumerate(batches):
        part = loaded.subset(slice(300 * k, 300 * (k + 1)))
        assert torch.equal(b.numeric, part.numeric) and torch.equal(b.categorical, part.categorical)
        assert torch.equal(b.label, part.label)
    assert sum(row_ids(batches), []) == list(range(2000))
    assert b.numeric.dtype == torch.float32 and b.categorical.dtype == torch.int64
    # a data-parallel rank's stream equals its own split loaded, in order
    own = split.for_rank(1, 2).load()
    assert torch.cat([b.numeric for b in split.batches(128, rank=1, size=2, shuffle=False)]).equal(own.numeric)


def test_streaming_holds_the_buffer_and_one_row_group_not_the_split(tmp_path):
    paths = [write(tmp_path / f"big{i}.parquet", i * 100_000, 100_000, 10_000) for i in range(4)]
    split = ParquetSplit(tuple(paths), SPEC.to_json(), buffer_rows=5_000)
    whole = split.in_memory_bytes()  # 400,000 rows x 20 bytes = 8 MB
    tracemalloc.start()
    try:
        rows = sum(len(b) for b in split.batches(512, seed=1))
        _, streamed_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        loaded = split.load()
        _, loaded_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert rows == len(loaded) == 400_000
    assert loaded_peak >= whole  # the measurement sees numpy's buffers
    # O(buffer + one row group): the pool (2 x 5k + 10k rows + a batch), what it emits, its
    # permutation and a row group read come to ~1.4 MB here, whatever the split's size
    assert streamed_peak < whole / 4, streamed_peak


def test_a_bad_batch_size_is_refused(split):
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        next(split.batches(0))
