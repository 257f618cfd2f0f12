"""Each baseline end to end on a tiny prepared feature table: train, score, write auc_reports."""

import pytest

from adanet_spark import cli
from adanet_spark.baselines import runner
from adanet_spark.baselines.logistic_regression import probabilities
from adanet_spark.baselines.scoring import split_frame
from adanet_spark.data.feature_table import open_table
from adanet_spark.metrics import roc_auc
from jobs import baselines as baselines_job


def auc_rows(spark, database, run_id):
    df = spark.table(f"{database}.auc_reports").where(f"run_id = '{run_id}'")
    return {r["model"]: r for r in df.collect()}


def check_row(row, model, trials):
    assert row["model"] == model
    assert row["trials"] == trials
    assert row["train_seconds"] > 0 and row["eval_seconds"] > 0
    assert 0.6 < row["valid_auc"] <= 1.0, row
    assert 0.6 < row["test_auc"] <= 1.0, row
    assert not row["notes"].startswith("failed"), row["notes"]


def test_logistic_regression_row_and_exact_auc(spark, tiny_cfg, tiny_table):
    cfg = tiny_cfg("baselines.lr_reg_param=0.01", "baselines.lr_max_iter=20")
    table = open_table(spark, cfg)
    details = {}
    rows = runner.run_baselines(spark, cfg, table, models=["logistic_regression"], details=details)
    check_row(rows[0], "logistic_regression", 1)
    res = details["logistic_regression"]
    # numerics as they are + one column per level of each categorical but its last (dropLast)
    assert res.n_features == len(table.spec.numeric) + sum(c - 1 for c in table.spec.cardinalities)
    # The reported AUC is the exact one: recompute it from the collected test predictions.
    pdf = probabilities(res.fitted, _lr_input(spark, table)).toPandas()
    assert rows[0]["test_auc"] == pytest.approx(roc_auc(pdf["_label"], pdf["p"]), abs=1e-12)
    written = auc_rows(spark, tiny_table[1], cfg.run.id)
    assert set(written) == {"logistic_regression"}
    assert written["logistic_regression"]["test_auc"] == pytest.approx(rows[0]["test_auc"])
    assert "regParam=0.01" in written["logistic_regression"]["notes"]


def _lr_input(spark, table):
    from adanet_spark.baselines.logistic_regression import with_features
    return with_features(split_frame(spark, table.name, "test"), table.spec)


def test_neural_baselines_local_backend(spark, tiny_cfg, tiny_table):
    cfg = tiny_cfg("baselines.models=[manual_nn, grid_search_nn, random_search_nn]")
    details = {}
    rows = {r["model"]: r for r in runner.run_baselines(spark, cfg, details=details)}
    check_row(rows["manual_nn"], "manual_nn", 1)
    check_row(rows["grid_search_nn"], "grid_search_nn", 2)
    check_row(rows["random_search_nn"], "random_search_nn", 3)
    grid = details["grid_search_nn"]
    assert grid.best.valid_auc == max(t.valid_auc for t in grid.trials)
    assert rows["grid_search_nn"]["valid_auc"] == grid.best.valid_auc
    assert grid.best.params.label() in rows["grid_search_nn"]["notes"]
    assert all(t.epochs_run <= 3 for t in grid.trials)
    assert set(auc_rows(spark, tiny_table[1], cfg.run.id)) == set(rows)


def test_random_search_is_reproducible(spark, tiny_cfg):
    def search(seed):
        cfg = tiny_cfg(f"run.seed={seed}", "baselines.random_trials=2")
        details = {}
        row = runner.run_baselines(spark, cfg, models=["random_search_nn"], write=False, details=details)[0]
        res = details["random_search_nn"]
        return [t.params for t in res.trials], res.best.params, row

    trials_a, best_a, row_a = search(5)
    trials_b, best_b, row_b = search(5)
    assert trials_a == trials_b and best_a == best_b
    assert row_a["valid_auc"] == row_b["valid_auc"] and row_a["test_auc"] == pytest.approx(row_b["test_auc"])
    trials_c, _, _ = search(6)
    assert trials_c != trials_a


def test_neural_baseline_on_spark_executors(spark, tiny_cfg):
    """Trials as concurrent Spark jobs (the benchmark's backend): same trials, same choice."""
    cfg = tiny_cfg("training.backend=spark", "training.workers=2", "baselines.random_trials=2")
    local = tiny_cfg("baselines.random_trials=2")
    local.run.id = cfg.run.id
    details, local_details = {}, {}
    row = runner.run_baselines(spark, cfg, models=["random_search_nn"], write=False, details=details)[0]
    check_row(row, "random_search_nn", 2)
    runner.run_baselines(spark, local, models=["random_search_nn"], write=False, details=local_details)
    spark_trials = details["random_search_nn"].trials
    local_trials = local_details["random_search_nn"].trials
    assert [t.params for t in spark_trials] == [t.params for t in local_trials]
    assert [t.valid_auc for t in spark_trials] == pytest.approx([t.valid_auc for t in local_trials], abs=1e-4)


def test_job_writes_rows_and_a_failure_is_reported(spark, tiny_table, monkeypatch, capsys):
    overrides, database = tiny_table
    argv = [a for o in overrides for a in ("--set", o)] + ["--set", "run.id=bl-job-1",
                                                          "--set", "baselines.models=[manual_nn]"]
    assert cli.run_job("baselines", baselines_job.main, argv=argv) == 0
    assert "manual_nn" in capsys.readouterr().out
    first = auc_rows(spark, database, "bl-job-1")["manual_nn"]
    check_row(first, "manual_nn", 1)

    def broken(*args, **kwargs):
        raise RuntimeError("boom")
    monkeypatch.setattr(runner, "run_net_baseline", broken)
    assert cli.run_job("baselines", baselines_job.main, argv=argv) == 1  # rerun of the run id: replaced
    rows = auc_rows(spark, database, "bl-job-1")
    assert len(rows) == 1 and rows["manual_nn"]["notes"].startswith("failed: RuntimeError: boom")
    assert rows["manual_nn"]["test_auc"] is None
