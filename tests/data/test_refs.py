"""Split references of a real Delta feature table: the files of each split, current snapshot only."""
import numpy as np
import pandas as pd

from adanet_spark import catalog
from adanet_spark.data.refs import split_refs
from adanet_spark.data.spec import SPLITS, CategoricalFeature, FeatureSpec, NumericFeature
from adanet_spark.data.tensors import ParquetSplit

SPEC = FeatureSpec("toy", (NumericFeature("x", 0.0, 1.0, 0.0),), (CategoricalFeature("c", ("p", "q")),))


def feature_frame(spark, sizes, offset=0.0):
    """A feature table's rows: ``sizes`` maps split -> row count; x encodes split and row."""
    frames = [pd.DataFrame({"x": offset + 1000.0 * i + np.arange(n, dtype=np.float64),
                            "c": np.arange(n, dtype=np.int32) % 3, "label": np.arange(n, dtype=np.int32) % 2,
                            "split": split})
              for i, (split, n) in enumerate(sizes.items())]
    return spark.createDataFrame(pd.concat(frames, ignore_index=True)).repartition(3)


def test_each_split_lists_exactly_its_own_files(spark, warehouse, database):
    df = feature_frame(spark, {"train": 60, "valid": 25, "test": 15})
    catalog.write_table(df, warehouse, database, "features_toy", partition_by=("split",))
    refs = split_refs(spark, f"{database}.features_toy", SPEC)
    assert set(refs) == set(SPLITS)
    for i, (name, n) in enumerate((("train", 60), ("valid", 25), ("test", 15))):
        ref = refs[name]
        assert isinstance(ref, ParquetSplit) and ref.paths == tuple(sorted(ref.paths))
        assert ref.paths and all(f"split={name}" in p for p in ref.paths)
        data = ref.load()
        assert len(data) == n
        assert sorted(data.numeric[:, 0].tolist()) == [1000.0 * i + k for k in range(n)]
        assert FeatureSpec.from_json(ref.spec_json) == SPEC


def test_an_overwritten_table_lists_only_its_current_snapshot(spark, warehouse, database):
    """Delta keeps the replaced files on disk until VACUUM: the refs must not read them."""
    catalog.write_table(feature_frame(spark, {"train": 40, "valid": 10, "test": 10}), warehouse, database,
                        "features_toy", partition_by=("split",))
    catalog.write_table(feature_frame(spark, {"train": 7, "valid": 3, "test": 2}, offset=0.5), warehouse,
                        database, "features_toy", partition_by=("split",))
    refs = split_refs(spark, f"{database}.features_toy", SPEC)
    loaded = {name: ref.load() for name, ref in refs.items()}
    assert {name: len(d) for name, d in loaded.items()} == {"train": 7, "valid": 3, "test": 2}
    assert all(float(v) % 1 == 0.5 for d in loaded.values() for v in d.numeric[:, 0])


def test_a_split_without_rows_has_no_files(spark, warehouse, database):
    catalog.write_table(feature_frame(spark, {"train": 20, "valid": 5}), warehouse, database, "features_toy",
                        partition_by=("split",))
    refs = split_refs(spark, f"{database}.features_toy", SPEC)
    assert refs["test"].paths == () and len(refs["train"].load()) == 20
