"""The results writer on real Delta: schemas and comments, exactly-once replaces, failures,
and two runs writing concurrently (tables created at the same moment, too)."""
import threading

import pytest

from adanet_spark.results import tables
from adanet_spark.results.writer import AucReport, ResultsWriter
from tests.results.fake_runs import cfg_for, fake_run


def count(spark, database, table, run_id=None):
    df = spark.table(f"{database}.{table}")
    return (df.where(f"run_id = '{run_id}'") if run_id else df).count()


def test_concurrent_runs_both_land(spark, warehouse, database):
    errors = []

    def go(run_id):
        try:
            fake_run(spark, warehouse, database, run_id, iterations=1)
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=go, args=(r,)) for r in ("a", "b")]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert not errors, errors
    counts = {r.run_id: r for r in spark.sql(f"""
        SELECT r.run_id, r.status, r.attempts,
               (SELECT count(*) FROM {database}.candidates c WHERE c.run_id = r.run_id) AS candidates,
               (SELECT count_if(is_final AND test_auc = 0.7) FROM {database}.ensembles e WHERE e.run_id = r.run_id) AS finals,
               (SELECT count(*) FROM {database}.auc_reports a WHERE a.run_id = r.run_id) AS aucs
        FROM {database}.runs r""").collect()}
    assert {k: (v.status, v.attempts, v.candidates, v.finals, v.aucs) for k, v in counts.items()} == {
        "a": ("succeeded", 1, 2, 1, 1), "b": ("succeeded", 1, 2, 1, 1)}
    # A rerun of one run replaces its rows only.
    fake_run(spark, warehouse, database, "a", iterations=1)
    assert count(spark, database, "candidates") == 4 and count(spark, database, "runs") == 2
    assert spark.sql(f"SELECT attempts FROM {database}.runs WHERE run_id = 'a'").first()[0] == 2


def test_schemas_comments_and_partitioning(spark, warehouse, database):
    ResultsWriter(spark, cfg_for(warehouse, database, "x"))
    for name, tdef in tables.TABLES.items():
        desc = spark.sql(f"DESCRIBE TABLE EXTENDED {database}.{name}").collect()
        cols = {r.col_name: r for r in desc}
        for f in tdef.schema.fields:
            assert cols[f.name].data_type == f.dataType.simpleString()
            assert cols[f.name].comment == f.metadata["comment"]
        assert cols["Comment"].data_type == tdef.comment
        assert spark.sql(f"DESCRIBE DETAIL {database}.{name}").first()["partitionColumns"] == ["run_id"]


def test_auc_reports_replace_only_the_writers_models(spark, warehouse, database):
    w = ResultsWriter(spark, cfg_for(warehouse, database, "r1"))
    w.write_auc_report("adanet", train_seconds=1, eval_seconds=1, valid_auc=0.8, test_auc=0.79)
    w.write_auc_reports([AucReport("logistic_regression", 2, 1, 0.7, 0.69), AucReport("manual_nn", 3, 1, 0.75, 0.74)])
    w.write_auc_reports([AucReport("logistic_regression", 2, 1, 0.71, float("nan"))])  # rerun of one baseline
    rows = {r.model: r for r in spark.table(f"{database}.auc_reports").collect()}
    assert set(rows) == {"adanet", "logistic_regression", "manual_nn"}
    assert rows["adanet"].test_auc == 0.79 and rows["logistic_regression"].valid_auc == 0.71
    assert rows["logistic_regression"].test_auc is None  # NaN stored as NULL
    with pytest.raises(ValueError, match="model must be one of"):
        w.write_auc_report("no_such_model", train_seconds=1, eval_seconds=1, valid_auc=0.5, test_auc=0.5)


def test_crashed_run_is_marked_failed(spark, warehouse, database):
    w = ResultsWriter(spark, cfg_for(warehouse, database, "boom"), job="nightly")
    with pytest.raises(RuntimeError):
        with w.run():
            raise RuntimeError("disk on fire")
    row = spark.sql(f"SELECT * FROM {database}.runs WHERE run_id = 'boom'").first()
    assert row.status == "failed" and row.error == "RuntimeError: disk on fire"
    assert row.finished_at is not None and row.job == "nightly" and str(row.run_date) == "2024-05-01"
    assert row.code_version
