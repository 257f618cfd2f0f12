"""logistic_regression end to end on the tiny feature table: inputs, exact AUC, its auc_reports row."""
import pytest

from adanet_spark.adanet.metrics import roc_auc
from adanet_spark.baselines import runner
from adanet_spark.baselines.logistic_regression import probabilities, split_features
from adanet_spark.data.feature_table import open_table
from tests.baselines.checks import auc_rows, check_row


def test_logistic_regression_row_and_exact_auc(spark, tiny_cfg, tiny_table):
    cfg = tiny_cfg("baselines.lr_reg_params=[0.01, 0.0, 10.0]", "baselines.lr_max_iter=20")
    table = open_table(spark, cfg)
    details = {}
    rows = runner.run_baselines(spark, cfg, table, models=["logistic_regression"], details=details)
    check_row(rows[0], "logistic_regression", 3)
    res = details["logistic_regression"]
    # one fit per strength, the best on valid kept (10.0 shrinks every weight to ~0: the worst)
    assert set(res.valid_aucs) == {0.01, 0.0, 10.0} and res.reg_param != 10.0
    assert res.valid_auc == max(res.valid_aucs.values()) == rows[0]["valid_auc"]
    # numerics as they are + one column per level of each categorical but its last (dropLast)
    assert res.n_features == len(table.spec.numeric) + sum(c - 1 for c in table.spec.cardinalities)
    # The reported AUC is the exact one: recompute it from the collected test predictions.
    test = split_features(spark, table.name, table.spec, "test")
    pdf = probabilities(res.fitted, test).toPandas()
    assert rows[0]["test_auc"] == pytest.approx(roc_auc(pdf["_label"], pdf["p"]), abs=1e-12)
    written = auc_rows(spark, tiny_table[1], cfg.run.id)
    assert set(written) == {"logistic_regression"}
    assert written["logistic_regression"]["test_auc"] == pytest.approx(rows[0]["test_auc"])
    assert f"regParam={res.reg_param:g} chosen on valid" in written["logistic_regression"]["notes"]
