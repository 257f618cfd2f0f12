"""The nightly and tune jobs on real local Spark + Delta: tables, resume, reruns, concurrency.

One file on purpose: the tests share one nightly run and build on each other (the
documented queries read the concurrent tune runs' rows)."""
import json
import os
import re
import threading

import numpy as np
import pytest

from adanet_spark import cli, pipeline
from adanet_spark.adanet.metrics import roc_auc
from adanet_spark.config import load_config
from adanet_spark.data.spec import LABEL
from adanet_spark.results import models
from adanet_spark.results.queries import latest_final_model
from jobs import tune
from tests.jobs.tiny_runs import CANDIDATES, RUN_ID, rows as _rows, run_nightly, tiny_argv


def test_crash_is_recorded_and_resume_skips_completed_iterations(shared_run):
    assert shared_run.crash_code == 1
    (run,) = shared_run.after_crash["runs"]
    assert run["status"] == "failed" and "injected crash after iteration 1" in run["error"]
    assert sorted({r["iteration"] for r in shared_run.after_crash["candidates"]}) == [0, 1]
    assert sorted(r["iteration"] for r in shared_run.after_crash["ensembles"]) == [0, 1]
    assert shared_run.resume_code == 0
    assert shared_run.resumed_iterations == [2]  # iterations 0 and 1 were not retrained


def test_resumed_run_kept_its_first_iterations(spark, shared_run):
    before = {(r["iteration"], r["candidate"]): r["train_seconds"] for r in shared_run.after_crash["candidates"]}
    after = {(r["iteration"], r["candidate"]): r["train_seconds"]
             for r in _rows(spark, shared_run.database, "candidates")}
    assert {k: after[k] for k in before} == before  # the same rows, not retrained ones
    (run,) = _rows(spark, shared_run.database, "runs")
    assert (run["status"], run["error"], run["attempts"], run["job"]) == ("succeeded", None, 2, "nightly")


def test_tables_are_consistent(spark, shared_run):
    db = shared_run.database
    cands = _rows(spark, db, "candidates")
    ens = sorted(_rows(spark, db, "ensembles"), key=lambda r: r["iteration"])
    assert [r["iteration"] for r in ens] == [0, 1, 2]
    for e in ens:  # every candidate of every iteration, the selected one named by its ensemble row
        mine = [c for c in cands if c["iteration"] == e["iteration"]]
        assert len(mine) == CANDIDATES and all(c["status"] == "completed" for c in mine)
        assert [c["candidate"] for c in mine if c["selected"]] == (
            [e["selected_candidate"]] if e["selected_candidate"] != "previous" else [])
        assert len(e["mixture_weights"]) == e["n_subnetworks"] == len(json.loads(e["subnetworks"])["subnetworks"])
        assert models.model_exists(spark, e["model_uri"])
    finals = [e for e in ens if e["is_final"]]
    assert len(finals) == 1 and finals[0]["iteration"] == 2
    assert [e["test_auc"] is not None for e in ens] == [False, False, True]
    (adanet,) = _rows(spark, db, "auc_reports")
    final = finals[0]
    assert adanet["model"] == "adanet" and adanet["trials"] == len(cands) == 3 * CANDIDATES
    assert adanet["test_auc"] == final["test_auc"] and adanet["valid_auc"] == final["valid_auc"]
    # The Spark-side test AUC equals the in-process one on the same rows.
    saved = models.load_model(spark, final["model_uri"])
    test = spark.sql(f"SELECT * FROM {db}.features_tiny WHERE split = 'test'").toPandas()
    ens_model = saved.ensemble()
    p = ens_model.predict_proba((test[saved.spec.numeric_names].to_numpy(np.float32),
                                 test[saved.spec.categorical_names].to_numpy(np.int64)))
    assert final["test_auc"] == pytest.approx(roc_auc(test[LABEL], p), abs=1e-9)
    # Report beside the model; warm_start=latest finds this run's final model.
    folder = os.path.dirname(final["model_uri"])
    assert os.path.getsize(f"{folder}/report.png") > 1000
    assert "| adanet |" in open(f"{folder}/report.md").read()
    cfg = load_config(None, shared_run.argv[1::2])
    assert latest_final_model(spark, cfg) == final["model_uri"]


def counts(spark, database):
    return {t: spark.table(f"{database}.{t}").count() for t in ("runs", "candidates", "ensembles", "auc_reports")}


def test_rerun_same_run_id_keeps_row_counts(spark, shared_run):
    before = counts(spark, shared_run.database)
    trained = []
    hook = lambda run_id, iteration: trained.append(iteration)  # noqa: E731
    pipeline.after_iteration_hooks.append(hook)
    try:
        assert run_nightly(shared_run.argv) == 0
    finally:
        pipeline.after_iteration_hooks.remove(hook)
    assert trained == []  # a finished search is only finalised again
    assert counts(spark, shared_run.database) == before


def test_concurrent_runs_with_warm_start_both_land(spark, warehouse, tiny_parquet, shared_run):
    db = shared_run.database
    final_uri = [r for r in _rows(spark, db, "ensembles") if r["is_final"]][0]["model_uri"]
    argv = {"c1": tiny_argv(tiny_parquet, warehouse, db, "c1", "adanet.max_iterations=1", "adanet.warm_start=latest",
                            "testing.enabled=true", "testing.faults=[{candidate: 'first-d2*', fail: always}]"),
            "c2": tiny_argv(tiny_parquet, warehouse, db, "c2", "adanet.max_iterations=1",
                            f"adanet.warm_start={final_uri}")}
    codes = {}
    threads = [threading.Thread(target=lambda r=r: codes.__setitem__(r, cli.run_job(
        "tune", tune.main, tune.parser(), argv=argv[r]))) for r in argv]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert codes == {"c1": 0, "c2": 0}
    for run_id in argv:
        (run,) = _rows(spark, db, "runs", run_id)
        assert (run["status"], run["job"]) == ("succeeded", "tune")
        (e,) = _rows(spark, db, "ensembles", run_id)
        assert e["is_final"] and e["test_auc"] is not None
        assert len(_rows(spark, db, "candidates", run_id)) == CANDIDATES
        assert len(_rows(spark, db, "auc_reports", run_id)) == 1
    # c1's first-d2 candidate failed for good: recorded, and marked in its report.
    failed = [r for r in _rows(spark, db, "candidates", "c1") if r["status"] != "completed"]
    assert [(r["status"], r["attempts"]) for r in failed] == [("failed", 2)]
    assert failed[0]["candidate"].startswith("first-d2") and "injected failure" in failed[0]["error"]
    assert failed[0]["valid_auc"] is None
    # Warm-started: iteration numbers continue after the 3 subnetworks of the shared run.
    assert _rows(spark, db, "ensembles", "c2")[0]["iteration"] == 3
    assert _rows(spark, db, "ensembles", "c1")[0]["iteration"] >= 3  # latest succeeded run: shared or c2


def doc_queries():
    text = open(os.path.join(os.path.dirname(__file__), "..", "..", "docs", "QUERIES.md")).read()
    return re.findall(r"```sql\n(.*?)```", text, flags=re.S)


def test_documented_queries(spark, shared_run):
    """docs/QUERIES.md's queries, on the test database (after the concurrent runs above)."""
    db = shared_run.database
    queries = doc_queries()
    assert len(queries) == 4
    out = [spark.sql(q.replace("adanet.", f"{db}.").replace("'flights'", "'tiny'")).collect() for q in queries]
    auc_per_run, dropped, by_status, architecture = out
    assert {(r.run_id, r.model) for r in auc_per_run} >= {(RUN_ID, "adanet"), ("c1", "adanet"), ("c2", "adanet")}
    assert [(r.run_id, r.status) for r in dropped] == [("c1", "failed")]
    assert ("c1", "failed", 1, 0) in [tuple(r) for r in by_status]
    latest = spark.sql(f"SELECT e.n_subnetworks FROM {db}.ensembles e JOIN {db}.runs r USING (run_id) "
                       f"WHERE e.is_final ORDER BY r.finished_at DESC LIMIT 1").first()[0]
    assert [r.subnetwork for r in architecture] == list(range(latest))

