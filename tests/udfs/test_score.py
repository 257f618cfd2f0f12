"""The SQL function adanet_score, registered in the session, against the in-process ensemble."""
import numpy as np
import pytest

from tests.scoring.tiny_model import in_process, raw_frame, save_tiny_model
from udfs.score import SQL_FUNCTION, register, sql_struct

FRAME = raw_frame(n=200, seed=5)


@pytest.fixture(scope="module")
def saved(spark, tmp_path_factory):
    return save_tiny_model(spark, tmp_path_factory.mktemp("udfs"))


def test_sql_struct_adds_derived_features_only():
    from tests.scoring.tiny_model import SPEC
    assert sql_struct(SPEC) == "struct(*, x * z AS `xz`)"  # label is derived, but no feature


def test_sql_function_matches_in_process(spark, saved, tmp_path):
    path = tmp_path / "raw.parquet"
    FRAME.to_parquet(path, index=False)
    assert SQL_FUNCTION == "adanet_score"
    register(spark, saved)
    assert any(f.name == SQL_FUNCTION for f in spark.catalog.listFunctions())
    rows = spark.sql(f"SELECT id, adanet_score({sql_struct(saved.spec)}) AS p "
                     f"FROM parquet.`{path}`").toPandas().set_index("id")
    assert len(rows) == len(FRAME)
    assert np.abs(rows["p"] - in_process(spark, saved, FRAME).loc[rows.index].to_numpy()).max() < 1e-6


def test_register_under_another_name(spark, saved):
    register(spark, saved, name="tiny_score")
    p = spark.sql("SELECT tiny_score(named_struct('x', 0.5D, 'z', 1.0D, 'xz', 0.5D, 'color', 'red')) AS p").first()
    assert 0.0 < p["p"] < 1.0
