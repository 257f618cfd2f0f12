"""The headline suite's selection path never reads the test split.

Two feature tables that differ only in their test labels (B's are A's flipped) go
through the suite's per-seed path (``run_seed``: every model of the suite, selection
on a view without the test rows, then the test split scored once). Everything each
model chooses and reports from selection (valid AUC, trials, chosen settings) must
be identical on A and B, and every test AUC on B must be one minus A's: the test
labels reached the final scoring and nothing else.
"""
import os
import sys
import uuid

import pytest
from pyspark.sql import functions as F

from adanet_spark import catalog, cli, hadoop_fs
from adanet_spark.config import load_config
from adanet_spark.data.feature_table import open_table, spec_path, split_counts
from adanet_spark.data.refs import split_refs
from adanet_spark.paths import REPO_ROOT
from jobs import prepare_features
from tests.baselines.conftest import base_overrides, tiny_frame

sys.path.insert(0, os.path.join(REPO_ROOT, "benchmarks"))
import headline  # noqa: E402
import headline_models  # noqa: E402

SMALL = ["training.backend=local", "adanet.max_iterations=2", "adanet.candidates_per_iteration=2",
         "adanet.widths=[8]", "adanet.epochs=2", "baselines.random_trials=2", "baselines.lr_reg_params=[0.0, 1.0]",
         "baselines.xgboost={max_depth: [2], learning_rate: [0.3], max_rounds: 20, early_stopping_rounds: 3}"]


@pytest.fixture(scope="module")
def twin_tables(spark, warehouse, tmp_path_factory):
    """(config, table) for A (as prepared) and B (A with its test labels flipped)."""
    path = tmp_path_factory.mktemp("headline") / "tiny.parquet"
    tiny_frame(n=900, seed=3).to_parquet(path, index=False)
    database = f"t_hl_{uuid.uuid4().hex[:8]}"
    overrides = base_overrides(path, warehouse, database) + SMALL
    argv = [a for o in overrides + ["dataset=twin_a"] for a in ("--set", o)]
    assert cli.run_job("prepare_features", prepare_features.main, argv=argv) == 0
    cfg_a = load_config(None, overrides + ["dataset=twin_a", "run.id=hl-a"])
    cfg_b = load_config(None, overrides + ["dataset=twin_b", "run.id=hl-b"])
    a = open_table(spark, cfg_a)
    flipped = spark.table(a.name).withColumn(
        "label", F.when(F.col("split") == "test", 1 - F.col("label")).otherwise(F.col("label")))
    b_path = catalog.write_table(flipped, warehouse, database, "features_twin_b", partition_by=("split",))
    hadoop_fs.write_text(spark, spec_path(b_path), a.spec.to_json())
    tables = []
    for cfg in (cfg_a, cfg_b):
        t = open_table(spark, cfg)
        t.counts = split_counts(spark, t.name)
        tables.append((cfg, t))
    return tables


def test_selection_view_and_references_hold_no_test_rows(spark, twin_tables):
    _, table = twin_tables[0]
    data = headline_models.selection_data(spark, table, split_refs(spark, table.name, table.spec))
    assert set(data.refs) == {"train", "valid"}
    assert spark.table(data.table.name).where("split = 'test'").count() == 0
    assert spark.table(data.table.name).count() == table.counts["train"] + table.counts["valid"]


def test_selection_never_reads_test_labels(spark, twin_tables):
    runs = [headline_models.run_seed(spark, cfg, table, split_refs(spark, table.name, table.spec),
                                     list(headline.MODELS)) for cfg, table in twin_tables]
    a, b = runs
    assert set(a) == set(b) == set(headline.MODELS)
    for model in headline.MODELS:
        for key in ("valid_auc", "trials", "notes", "test_rows"):
            assert a[model][key] == b[model][key], (model, key)  # selection saw the same data
        assert 0.5 < a[model]["test_auc"] < 1.0, model
        assert b[model]["test_auc"] == pytest.approx(1.0 - a[model]["test_auc"], abs=1e-9), model
    assert a["adanet"]["subnetworks"] == b["adanet"]["subnetworks"] >= 1
    assert b["adanet"]["first_subnetwork_test_auc"] == pytest.approx(1 - a["adanet"]["first_subnetwork_test_auc"])
