"""Helpers of the baseline tests (imported as ``tests.baselines.checks``)."""


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
