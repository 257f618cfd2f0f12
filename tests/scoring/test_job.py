"""The scoring job's logic: which model, which input, the predictions table."""
import numpy as np
import pytest

from adanet_spark.config import load_config
from adanet_spark.errors import BadInputError
from adanet_spark.scoring import job
from tests.scoring.tiny_model import in_process, raw_frame, save_tiny_model

FRAME = raw_frame(n=120, seed=2)


@pytest.fixture(scope="module")
def saved(spark, tmp_path_factory):
    return save_tiny_model(spark, tmp_path_factory.mktemp("job"))


@pytest.fixture
def cfg(tmp_path, warehouse, database):
    path = tmp_path / "raw.parquet"
    FRAME.to_parquet(path, index=False)
    return load_config(None, ["dataset=tiny", f"input.path={path}", "input.format=parquet",
                              f"output.warehouse={warehouse}", f"output.database={database}"])


def test_resolve_model_by_uri_run_or_latest(spark, cfg, saved):
    assert job.resolve_model(spark, cfg, model_uri=saved.uri).digest == saved.digest
    with pytest.raises(BadInputError, match=f"run_id 'r9' has no final ensemble in {cfg.output.database}"
                                            r"\.ensembles: unknown run_id, or the run did not finish"):
        job.resolve_model(spark, cfg, run_id="r9")
    with pytest.raises(BadInputError, match="no succeeded run of dataset 'tiny' with a final ensemble in "):
        job.resolve_model(spark, cfg)


def test_run_score_writes_predictions(spark, cfg, saved, capsys):
    path = job.run_score(spark, cfg, saved)  # default id columns: the spec's key columns
    pred = spark.read.format("delta").load(path).toPandas()
    assert list(pred.columns) == ["id", "probability", "model_uri", "run_id"]
    assert set(pred["model_uri"]) == {saved.uri} and set(pred["run_id"]) == {"score-run"}
    expected = in_process(spark, saved, FRAME)
    assert np.abs(pred.set_index("id")["probability"] - expected.loc[pred["id"]].to_numpy()).max() < 1e-6
    assert spark.catalog.tableExists(f"{cfg.output.database}.predictions_tiny")
    assert f"scored 120 rows of '{cfg.input.path}' into {cfg.output.database}.predictions_tiny with " \
           f"{saved.uri}" in capsys.readouterr().out


def test_run_score_rejects_bad_tables_and_id_columns(spark, cfg, saved):
    with pytest.raises(BadInputError, match=r"input table 'nope\.t' does not exist \(--input-table\)"):
        job.run_score(spark, cfg, saved, input_table="nope.t")
    with pytest.raises(BadInputError, match="id column.s. probability clash with the output's own columns"):
        job.run_score(spark, cfg, saved, id_columns=["id", "probability"])
    assert not spark.catalog.tableExists(f"{cfg.output.database}.predictions_tiny")


def test_sql_prints_the_query_instead_of_writing(spark, cfg, saved, capsys):
    assert job.run_score(spark, cfg, saved, sql="SELECT 41 + 1 AS answer", limit=5) is None
    out = capsys.readouterr().out
    assert "answer" in out and "42" in out
    assert not spark.catalog.tableExists(f"{cfg.output.database}.predictions_tiny")
