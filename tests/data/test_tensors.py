"""Feature-table files -> tensors, read where training runs (no Spark here)."""
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from adanet_spark.adanet.architecture import CandidateSpec, InputSpec
from adanet_spark.adanet.protocol import Split, SplitData
from adanet_spark.adanet.train import TrainBudget, train_candidate
from adanet_spark.data.spec import CategoricalFeature, FeatureSpec, NumericFeature
from adanet_spark.data.tensors import ParquetSplit, TensorData, arrow_to_tensors

SPEC = FeatureSpec("toy", (NumericFeature("a", 0.0, 1.0, 0.0), NumericFeature("b", 0.0, 1.0, 0.0)),
                   (CategoricalFeature("c", ("x", "y", "z")),))


def rows(n, seed, split):
    """One split's columns as Delta writes them: features, label, and the split column too."""
    rng = np.random.default_rng(seed)
    return pa.table({"b": rng.normal(size=n), "a": rng.normal(size=n).astype(np.float32),
                     "c": rng.integers(0, 4, n).astype(np.int32), "label": rng.integers(0, 2, n).astype(np.int32),
                     "extra": np.arange(n), "split": [split] * n})


def write_partitioned(root, parts):
    """``root/split=<name>/part-<i>.parquet`` files, Delta's layout for a table partitioned by split."""
    paths = {}
    for split, tables in parts.items():
        folder = root / f"split={split}"
        folder.mkdir(parents=True)
        paths[split] = []
        for i, table in enumerate(tables):
            path = folder / f"part-{i}.parquet"
            pq.write_table(table, path)
            paths[split].append(str(path))
    return paths


def test_from_numpy_gives_the_dtypes_and_shapes_training_expects():
    d = TensorData.from_numpy(np.arange(6, dtype=np.float64).reshape(3, 2), np.array([1, 2, 3], dtype=np.int32),
                              np.array([0, 1, 1], dtype=np.int64))
    assert (d.numeric.dtype, d.categorical.dtype, d.label.dtype) == (torch.float32, torch.int64, torch.float32)
    assert d.numeric.shape == (3, 2) and d.categorical.shape == (3, 1) and len(d) == 3
    assert d.numeric.is_contiguous() and d.categorical.is_contiguous()
    assert d.load() is d
    empty = TensorData.from_numpy(np.zeros((0, 2)), np.zeros((0, 1)), np.zeros(0))
    assert len(empty) == 0 and empty.numeric.shape == (0, 2)


def test_shard_gives_every_rank_a_disjoint_share_of_all_rows():
    d = TensorData.from_numpy(np.arange(7.0)[:, None], np.zeros((7, 1)), np.arange(7) % 2)
    shards = [d.shard(r, 3) for r in range(3)]
    assert [s.numeric[:, 0].tolist() for s in shards] == [[0.0, 3.0, 6.0], [1.0, 4.0], [2.0, 5.0]]
    assert all(len(s.label) == len(s.categorical) == len(s) for s in shards)
    assert d.subset(torch.tensor([6, 0])).numeric[:, 0].tolist() == [6.0, 0.0]


def test_arrow_columns_are_taken_by_the_spec_not_by_position():
    table = rows(5, 0, "train")
    d = arrow_to_tensors(table, SPEC)
    np.testing.assert_array_equal(d.numeric.numpy(), np.stack([table["a"].to_numpy(),
                                                               table["b"].to_numpy()], 1).astype(np.float32))
    np.testing.assert_array_equal(d.categorical[:, 0].numpy(), table["c"].to_numpy())
    np.testing.assert_array_equal(d.label.numpy(), table["label"].to_numpy().astype(np.float32))


def test_parquet_split_reads_partitioned_files_of_its_split(tmp_path):
    parts = {"train": [rows(30, 0, "train"), rows(20, 1, "train")], "valid": [rows(10, 2, "valid")]}
    paths = write_partitioned(tmp_path / "table", parts)
    train = ParquetSplit(tuple(paths["train"]), SPEC.to_json())
    d = train.load()
    assert len(d) == 50 and d.numeric.shape == (50, 2) and d.categorical.shape == (50, 1)
    expected = np.concatenate([t["label"].to_numpy() for t in parts["train"]]).astype(np.float32)
    np.testing.assert_array_equal(d.label.numpy(), expected)  # files in the order given
    # "file:" URIs, as Spark lists a table's files, read the same
    uris = ParquetSplit(tuple(f"file://{p}" for p in paths["train"]), SPEC.to_json()).load()
    assert torch.equal(uris.numeric, d.numeric)
    # small, hashable and picklable: what crosses to the workers
    assert hash(train) == hash(ParquetSplit(tuple(paths["train"]), SPEC.to_json()))


def test_an_empty_split_loads_as_zero_rows_of_the_right_width():
    d = ParquetSplit((), SPEC.to_json()).load()
    assert len(d) == 0 and d.numeric.shape == (0, 2) and d.categorical.shape == (0, 1)
    assert d.numeric.dtype == torch.float32 and d.categorical.dtype == torch.int64


def test_a_parquet_split_is_a_split_the_core_trains_on(tmp_path):
    parts = {"train": [rows(400, 0, "train")], "valid": [rows(100, 1, "valid")]}
    paths = write_partitioned(tmp_path / "table", parts)
    refs = {k: ParquetSplit(tuple(v), SPEC.to_json()) for k, v in paths.items()}
    assert isinstance(refs["train"], Split) and isinstance(refs["train"].load(), SplitData)
    inputs = InputSpec.from_feature_spec(SPEC, 16)
    assert inputs == InputSpec(2, (4,), 16)
    res = train_candidate(CandidateSpec("same-d1-w8", 1, 8, 3e-3, inputs), refs,
                          TrainBudget(epochs=1, batch_size=128, patience=0), seed=1)
    assert res.n_train == 400 and np.isfinite(res.valid["loss"])


@pytest.mark.parametrize("missing", ["a", "label"])
def test_a_file_without_a_spec_column_fails_naming_it(tmp_path, missing):
    path = tmp_path / "bad.parquet"
    pq.write_table(rows(5, 0, "train").drop_columns([missing]), path)
    with pytest.raises(Exception, match=missing):
        ParquetSplit((str(path),), SPEC.to_json()).load()
