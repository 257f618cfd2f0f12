"""xgboost: xgboost.spark on the tiny feature table: native categoricals, early stopping on
valid, the grid's best on valid, the exact test AUC and its auc_reports row."""
import pytest

from adanet_spark.adanet.metrics import roc_auc
from adanet_spark.baselines import runner
from adanet_spark.baselines.xgboost_spark import feature_columns
from adanet_spark.data.feature_table import open_table, split_frame
from tests.baselines.checks import auc_rows, check_row


def test_xgboost_row_grid_and_exact_auc(spark, tiny_cfg, tiny_table):
    cfg = tiny_cfg("training.workers=2",
                   "baselines.xgboost={max_depth: [2, 4], learning_rate: [0.3], max_rounds: 60, "
                   "early_stopping_rounds: 5}")
    table = open_table(spark, cfg)
    details = {}
    rows = runner.run_baselines(spark, cfg, table, models=["xgboost"], details=details)
    check_row(rows[0], "xgboost", 2)
    res = details["xgboost"]
    assert set(res.valid_aucs) == {"d2-lr0.3", "d4-lr0.3"}
    assert res.valid_auc == max(res.valid_aucs.values()) == rows[0]["valid_auc"]
    booster = res.fitted.get_booster()
    assert booster.feature_types == ["q", "q", "c", "c"]  # x1, x2 numeric; color, city native categoricals
    assert 1 <= res.rounds < 60 or booster.num_boosted_rounds() == 60  # stopped early, or ran out of rounds
    # The reported AUC is the exact one: recompute it from the collected test predictions.
    scored = res.fitted.transform(feature_columns(split_frame(spark, table.name, "test"), table.spec)).toPandas()
    p = scored["probability"].map(lambda v: float(v[1]))
    assert rows[0]["test_auc"] == pytest.approx(roc_auc(scored["label"], p), abs=1e-12)
    written = auc_rows(spark, tiny_table[1], cfg.run.id)
    assert set(written) == {"xgboost"} and "native categoricals" in written["xgboost"]["notes"]
