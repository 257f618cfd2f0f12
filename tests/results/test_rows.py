"""Report records -> candidates / ensembles rows: column names, NULL for NaN, timings."""
import math

import pytest
import torch

from adanet_spark.adanet.architecture import InputSpec, SubnetworkArch
from adanet_spark.adanet.ensemble import Ensemble
from adanet_spark.adanet.reports import CANDIDATE, ITERATION, ReportRecord
from adanet_spark.adanet.subnetwork import Subnetwork
from adanet_spark.results import models, tables
from adanet_spark.results.rows import candidate_row, ensemble_row


def record(**kw):
    base = dict(kind=CANDIDATE, iteration=2, candidate="deeper-d2-w8", status="completed", selected=True,
                architecture_json='{"name": "deeper-d2-w8"}', hyperparameters_json='{"depth": 2}',
                train_auc=0.8, valid_loss=0.4, valid_auc=0.75, valid_objective=0.45, complexity=1.4,
                train_seconds=3.5, attempts=2, worker="executor 1")
    return ReportRecord(**{**base, **kw})


def test_candidate_row_has_every_column_but_the_writer_s_own():
    row = candidate_row(record(), {"total_s": 5.0, "loop_s": 3.0})
    own = {"run_id", "dataset", "iteration"}  # the writer adds these
    assert set(row) == set(tables.TABLES[tables.CANDIDATES].columns) - own
    assert row["candidate"] == "deeper-d2-w8" and row["architecture"] == '{"name": "deeper-d2-w8"}'
    assert (row["loss"], row["valid_auc"], row["objective"], row["train_auc"]) == (0.4, 0.75, 0.45, 0.8)
    assert row["eval_seconds"] == pytest.approx(2.0)  # worker time outside the training loop
    assert row["attempts"] == 2 and row["selected"] is True and row["worker"] == "executor 1"


def test_a_failed_candidate_has_null_metrics_and_no_eval_time():
    row = candidate_row(record(status="failed", selected=False, error="boom", valid_auc=math.nan,
                               valid_loss=math.nan, train_seconds=math.nan), {})
    assert row["valid_auc"] is None and row["loss"] is None and row["train_seconds"] is None
    assert row["eval_seconds"] is None and row["error"] == "boom" and row["selected"] is False
    assert candidate_row(record(), {"total_s": 1.0, "loop_s": 1.5})["eval_seconds"] == 0.0  # clock skew


def test_ensemble_row_describes_the_ensemble():
    torch.manual_seed(0)
    inputs = InputSpec(2, (3,), 2)
    subs = [Subnetwork(SubnetworkArch(f"s{i}", depth=1, width=3, inputs=inputs)) for i in range(2)]
    ens = Ensemble(subs, mixture=[0.7, 0.4], bias=-0.2)
    it = record(kind=ITERATION, valid_objective=math.nan, train_seconds=9.0)
    row = ensemble_row(it, ens, "deeper-d2-w8", "/m/iter-2")
    assert set(row) == set(tables.TABLES[tables.ENSEMBLES].columns) - {"run_id", "dataset", "iteration"}
    assert row["n_subnetworks"] == 2 and row["mixture_weights"] == pytest.approx([0.7, 0.4])
    assert row["bias"] == pytest.approx(-0.2) and row["model_uri"] == "/m/iter-2"
    assert row["num_parameters"] == models.num_parameters(ens)
    assert row["valid_objective"] is None and row["valid_auc"] == 0.75 and row["train_seconds"] == 9.0
    assert row["is_final"] is False and row["test_auc"] is None
    assert '"s1"' in row["subnetworks"]
