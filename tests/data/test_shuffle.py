"""Numpy blocks cut into batches: storage order, and the bounded shuffle buffer."""
import numpy as np
import pytest

from adanet_spark.data.shuffle import Block, ShuffleBuffer, ordered_batches, shuffled_batches


def block(start, n):
    """Rows numbered ``start``.. in every field, so a row can be followed through."""
    ids = np.arange(start, start + n)
    return Block(np.stack([ids, -ids], 1).astype(np.float32), ids[:, None].astype(np.int64), ids.astype(np.float32))


def blocks(sizes):
    starts = np.concatenate([[0], np.cumsum(sizes)])
    return [block(int(s), n) for s, n in zip(starts, sizes)]


def ids(batches):
    return [b.categorical[:, 0].tolist() for b in batches]


@pytest.mark.parametrize("sizes", [[10, 3, 0, 7, 25], [5], [0], [4, 4]])
def test_ordered_batches_are_slices_of_all_rows_concatenated(sizes):
    out = list(ordered_batches(blocks(sizes), 4))
    total = sum(sizes)
    assert ids(out) == [list(range(i, min(i + 4, total))) for i in range(0, total, 4)]
    for b in out:  # the fields of a row stay together
        np.testing.assert_array_equal(b.numeric[:, 0], b.label)
        np.testing.assert_array_equal(b.numeric[:, 1], -b.label)


def test_the_buffer_drains_whole_batches_in_random_order_and_keeps_rows_whole():
    buf = ShuffleBuffer(20, 2, 1, np.random.default_rng(0))
    buf.add(block(0, 12))
    first = list(buf.drain(3, 4))  # 12 - 3 = 9 rows, rounded down to whole batches: 8
    assert [len(b) for b in first] == [4, 4] and len(buf) == 4
    buf.add(block(12, 8))
    rest = list(buf.drain(0, 5))  # everything: 12 rows
    assert [len(b) for b in rest] == [5, 5, 2] and len(buf) == 0 and list(buf.drain(0, 4)) == []
    drawn = np.concatenate([b.label for b in first + rest])
    assert sorted(drawn.tolist()) == list(range(20)) and drawn.tolist() != list(range(20))
    for b in first + rest:
        np.testing.assert_array_equal(b.numeric[:, 1], -b.label)
        np.testing.assert_array_equal(b.categorical[:, 0], b.label)
    with pytest.raises(ValueError, match="overflow"):
        buf.add(block(0, 21))


def shuffled(seed, sizes=(300, 50, 300, 1, 200), batch=32, buffer_rows=100):
    rng = np.random.default_rng(seed)
    buf = ShuffleBuffer(2 * buffer_rows + batch + max(sizes), 2, 1, rng)
    return list(shuffled_batches(blocks(list(sizes)), batch, buf, buffer_rows))


def test_shuffled_batches_give_every_row_once_in_a_seeded_order():
    out = shuffled(1)
    flat = sum(ids(out), [])
    assert sorted(flat) == list(range(851)) and flat != sorted(flat)
    assert [len(b) for b in out[:-1]] == [32] * (len(out) - 1) and 0 < len(out[-1]) <= 32
    assert ids(shuffled(1)) == ids(out)  # same seed, same batches
    assert ids(shuffled(2)) != ids(out)


def test_the_buffer_mixes_rows_of_neighbouring_blocks():
    out = ids(shuffled(3, sizes=(300, 300)))
    assert max(out[0]) > 200  # drawn from the whole first block, not from its head
    assert any(min(b) < 300 <= max(b) for b in out)  # some batch holds rows of both blocks
