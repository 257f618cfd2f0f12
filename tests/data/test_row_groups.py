"""Row groups from Parquet footers, and how data-parallel ranks share them (no Spark here)."""
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from adanet_spark.data import row_groups
from adanet_spark.data.row_groups import Piece, assign, pieces_of, read_piece, share, total_rows


def ids_file(path, start, n, group_rows):
    """A Parquet file whose column ``id`` numbers its rows from ``start``, in groups of ``group_rows``."""
    pq.write_table(pa.table({"id": np.arange(start, start + n), "x": np.zeros(n)}), path,
                   row_group_size=group_rows)
    return str(path)


def ids_of(pieces):
    return np.concatenate([read_piece(p, ["id"])["id"].to_numpy() for p in pieces] or [np.zeros(0, int)])


@pytest.fixture
def files(tmp_path):
    """Three files: 1000 rows in groups of 300 (300, 300, 300, 100), 250 in one group, 0 rows."""
    return [ids_file(tmp_path / "a.parquet", 0, 1000, 300), ids_file(tmp_path / "b.parquet", 1000, 250, 1000),
            ids_file(tmp_path / "c.parquet", 1250, 0, 10)]


def test_pieces_come_from_the_footers_in_storage_order(files):
    pieces = pieces_of(files)
    assert [(p.path, p.group, p.rows) for p in pieces] == [
        (files[0], 0, 300), (files[0], 1, 300), (files[0], 2, 300), (files[0], 3, 100), (files[1], 0, 250)]
    assert total_rows(pieces) == 1250
    assert row_groups.group_rows(files[2]) in ((), (0,))  # an empty file: no piece
    np.testing.assert_array_equal(ids_of(pieces), np.arange(1250))
    assert pieces_of([f"file://{files[1]}"])[0].rows == 250  # Spark's file: URIs read the same


@pytest.mark.parametrize("size", [1, 2, 3, 4, 7])
def test_ranks_rows_are_disjoint_and_cover_the_split_once(files, size):
    pieces = pieces_of(files)
    shares = assign(pieces, size)
    assert len(shares) == size and share(pieces, size - 1, size) == shares[-1]
    ids = np.concatenate([ids_of(s) for s in shares])
    np.testing.assert_array_equal(np.sort(ids), np.arange(1250))
    rows = [total_rows(s) for s in shares]
    assert min(rows) >= 0.9 * 1250 / size  # the core trains every rank on the smallest share
    assert assign(pieces, size) == shares  # deterministic: the same shares every epoch


def test_with_enough_row_groups_ranks_read_disjoint_whole_row_groups(files):
    pieces = pieces_of(files)  # 300, 300, 300, 100, 250 rows
    shares = assign(pieces, 2)
    assert sorted(p for s in shares for p in s) == sorted(pieces)  # each row group once, none cut
    for s in shares:
        assert list(s) == sorted(s, key=pieces.index)  # storage order within a share
    assert [total_rows(s) for s in shares] == [600, 650]


def test_whole_groups_go_largest_first_to_the_emptiest_rank():
    pieces = tuple(Piece("f", g, 0, n) for g, n in enumerate([10, 40, 30, 20, 40]))
    shares = assign(pieces, 2)
    assert [total_rows(s) for s in shares] == [70, 70]
    assert [p.group for p in shares[0]] == [1, 2] and [p.group for p in shares[1]] == [0, 3, 4]


def test_too_few_row_groups_cut_rows_into_equal_contiguous_ranges(files):
    one_group = pieces_of(files[1:])  # 250 rows in one row group, for 3 ranks
    shares = assign(one_group, 3)
    assert [total_rows(s) for s in shares] == [83, 84, 83]
    ids = [ids_of(s) for s in shares]
    np.testing.assert_array_equal(np.concatenate(ids), np.arange(1000, 1250))  # disjoint, in order
    lopsided = pieces_of(files)[2:4]  # 300 + 100 rows for 2 ranks: whole groups would leave 100 vs 300
    assert [[(p.group, p.start, p.stop) for p in s] for s in assign(lopsided, 2)] == [[(2, 0, 200)],
                                                                                   [(2, 200, 300), (3, 0, 100)]]


def test_a_bad_rank_or_size_is_refused(files):
    with pytest.raises(ValueError, match="rank must be in"):
        share(pieces_of(files), 2, 2)
    with pytest.raises(ValueError, match="size must be >= 1"):
        assign(pieces_of(files), 0)


def test_a_partial_piece_reads_only_its_rows_and_a_missing_column_is_named(files):
    assert ids_of([Piece(files[0], 1, 20, 25)]).tolist() == [320, 321, 322, 323, 324]
    with pytest.raises(ValueError, match=r"has no column 'label'"):
        read_piece(Piece(files[0], 0, 0, 300), ["id", "label"])
