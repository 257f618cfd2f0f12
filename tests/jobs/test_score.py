"""jobs/score.py end to end on the shared nightly run: the predictions table, the SQL
function the job registers, and bad inputs, against the in-process ensemble."""
import numpy as np
import pandas as pd
import pytest

from adanet_spark import cli
from adanet_spark.results import models
from jobs import score
from tests.jobs.tiny_runs import RUN_ID, rows as _rows, tiny_frame
from udfs.score import sql_struct


def run_score(argv):
    return cli.run_job("score", score.main, score.parser(), argv=argv)


@pytest.fixture(scope="module")
def final(spark, shared_run):
    row = [r for r in _rows(spark, shared_run.database, "ensembles") if r["is_final"]][0]
    return models.load_model(spark, row["model_uri"])


@pytest.fixture(scope="module")
def in_process(spark, shared_run, final):
    """Probabilities of the saved ensemble, in this process, on the feature table's rows."""
    ft = spark.table(f"{shared_run.database}.features_tiny").toPandas()
    p = final.ensemble().predict_proba((ft[final.spec.numeric_names].to_numpy(np.float32),
                                        ft[final.spec.categorical_names].to_numpy(np.int64)))
    return pd.Series(p.astype(np.float64), index=ft["id"].to_numpy())


def test_score_job_matches_in_process(spark, shared_run, final, in_process, capsys):
    db = shared_run.database
    assert run_score(shared_run.argv + ["--run-id", RUN_ID, "--id-columns", "id,x"]) == 0  # x: also a feature
    pred = spark.table(f"{db}.predictions_tiny").toPandas()
    assert list(pred.columns) == ["id", "x", "probability", "model_uri", "run_id"]
    assert np.allclose(pred.sort_values("id")["x"], tiny_frame()["x"])  # the raw value, not the feature
    assert len(pred) == 600 and set(pred["run_id"]) == {RUN_ID} and set(pred["model_uri"]) == {final.uri}
    diff = np.abs(pred.set_index("id")["probability"] - in_process.loc[pred["id"]].to_numpy())
    assert diff.max() < 1e-6
    assert "scored 600 rows" in capsys.readouterr().out


def test_sql_function_matches_in_process(spark, shared_run, tiny_parquet, final, in_process, capsys):
    assert sql_struct(final.spec) == "struct(*, x * z AS `xz`)"
    query = f"SELECT id, adanet_score({sql_struct(final.spec)}) AS p FROM parquet.`{tiny_parquet}` ORDER BY id"
    assert run_score(shared_run.argv + ["--run-id", RUN_ID, "--sql", query, "--limit", "3"]) == 0
    out = capsys.readouterr().out
    assert "(3 rows)" in out and "| id" in out  # printed, not written
    rows = spark.sql(query).toPandas().set_index("id")  # the job registered adanet_score in the session
    assert np.abs(rows["p"] - in_process.loc[rows.index].to_numpy()).max() < 1e-6


def bad(spark, database, argv, capsys, *expected):
    assert run_score(argv) == 2
    err = capsys.readouterr().err
    for text in expected:
        assert text in err, err
    assert not spark.catalog.tableExists(f"{database}.bad_predictions")


def test_missing_column(spark, shared_run, tmp_path, capsys):
    path = tmp_path / "no_z.parquet"
    tiny_frame().drop(columns=["z"]).to_parquet(path, index=False)
    bad(spark, shared_run.database, shared_run.argv + ["--set", f"input.path={path}", "--output", "bad_predictions",
                                                        "--run-id", RUN_ID], capsys, "'z'")


def test_wrong_type(spark, shared_run, tmp_path, capsys):
    path = tmp_path / "color_struct.parquet"
    frame = tiny_frame()
    frame["x"] = frame["x"].map(lambda v: f"{v:.3f}")  # numbers as text
    frame.to_parquet(path, index=False)
    bad(spark, shared_run.database, shared_run.argv + ["--set", f"input.path={path}", "--output", "bad_predictions",
                                                        "--run-id", RUN_ID], capsys, "column 'x'", "type string")


def test_unknown_model_uri_and_run_id(spark, shared_run, tmp_path, capsys):
    bad(spark, shared_run.database, shared_run.argv + ["--model-uri", f"{tmp_path}/no/model", "--output",
                                                        "bad_predictions"], capsys, f"{tmp_path}/no/model")
    bad(spark, shared_run.database, shared_run.argv + ["--run-id", "no-such-run", "--output", "bad_predictions"],
        capsys, "'no-such-run'")
