"""The end-of-run report: Markdown + PNG beside the run's models, and the comparison table."""
import datetime as dt
import math
import os

from adanet_spark.config import load_config
from adanet_spark.results import models
from adanet_spark.results.report import REPORT_MD, REPORT_PNG, comparison_table, fmt_number, write_report

RUN = {"run_id": "rep-1", "dataset": "w", "run_date": dt.date(2024, 5, 1), "job": "nightly",
       "code_version": "abc123", "started_at": dt.datetime(2024, 5, 1, 3, 0), "attempts": 1}
ENSEMBLES = [
    {"iteration": 0, "selected_candidate": "same-d1-w8", "n_subnetworks": 1, "valid_auc": 0.71,
     "valid_objective": 0.52, "train_seconds": 4.0, "is_final": False, "test_auc": None, "num_parameters": 120,
     "model_uri": "/m/rep-1/iter-0", "subnetworks": '{"subnetworks": [{"name": "s0", "depth": 1, "width": 8}]}'},
    {"iteration": 1, "selected_candidate": "deeper-d2-w8", "n_subnetworks": 2, "valid_auc": 0.74,
     "valid_objective": 0.5, "train_seconds": 6.0, "is_final": True, "test_auc": 0.735, "num_parameters": 1234,
     "model_uri": "/m/rep-1/iter-1",
     "subnetworks": '{"subnetworks": [{"name": "s0", "depth": 1, "width": 8}, {"name": "s1", "depth": 2, '
                    '"width": 8}]}'},
]
CANDIDATES = [
    {"iteration": 0, "candidate": "same-d1-w8", "status": "completed", "attempts": 1, "worker": "local",
     "train_seconds": 4.0, "valid_auc": 0.71, "objective": 0.52, "selected": True},
    {"iteration": 1, "candidate": "deeper-d2-w8", "status": "completed", "attempts": 1, "worker": "local",
     "train_seconds": 5.5, "valid_auc": 0.74, "objective": 0.5, "selected": True},
    {"iteration": 1, "candidate": "same-d1-w16", "status": "dropped_straggler", "attempts": 1, "worker": "local",
     "train_seconds": None, "valid_auc": None, "objective": None, "selected": False},
]
AUCS = [{"model": "adanet", "train_seconds": 10.0, "eval_seconds": 1.25, "valid_auc": 0.74, "test_auc": 0.735,
         "trials": 3},
        {"model": "logistic_regression", "train_seconds": 2.0, "eval_seconds": None, "valid_auc": math.nan,
         "test_auc": None, "trials": 1}]


class FakeWriter:
    """The writer's read side, as the report uses it."""
    run_id = RUN["run_id"]

    def run_row(self):
        return RUN

    def ensemble_rows(self):
        return ENSEMBLES

    def candidate_rows(self):
        return CANDIDATES

    def auc_rows(self):
        return AUCS


def test_fmt_number():
    assert fmt_number(0.123456) == "0.1235"
    assert fmt_number(12.34, "{:.1f}") == "12.3"
    assert fmt_number(None) == "n/a" and fmt_number(math.nan) == "n/a"
    assert fmt_number(0) == "0.0000"


def test_comparison_table_one_line_per_model():
    lines = comparison_table(AUCS).splitlines()
    assert len(lines) == 2 + len(AUCS)
    assert lines[0].split()[0] == "model" and set(lines[1]) == {"-"}
    assert lines[2].split() == ["adanet", "10.0", "1.2", "0.7400", "0.7350"]
    assert lines[3].split() == ["logistic_regression", "2.0", "n/a", "n/a", "n/a"]


def test_report_written_beside_the_run_s_models(spark, tmp_path):
    cfg = load_config(None, ["dataset=w", f"output.warehouse={tmp_path}", "output.database=rep", "run.id=rep-1"])
    folder = write_report(spark, cfg, FakeWriter())
    assert folder == models.run_dir(str(tmp_path), "rep", "w", "rep-1")
    with open(os.path.join(folder, REPORT_PNG), "rb") as fh:
        png = fh.read()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 1000
    text = open(os.path.join(folder, REPORT_MD)).read()
    assert text.startswith("# AdaNet run `rep-1`")
    assert "- final ensemble: iteration 1, 2 subnetworks (s0 (depth 1, width 8), s1 (depth 2, width 8)), " \
           "1,234 parameters" in text
    assert "- final valid AUC 0.7400, test AUC 0.7350" in text
    assert "| adanet | 10.0 | 1.2 | 0.7400 | 0.7350 | 3 |" in text
    assert "| logistic_regression | 2.0 | n/a | n/a | n/a | 1 |" in text
    assert "| 1 | deeper-d2-w8 | 2 | 0.7400 | 0.5000 | 6.0 |" in text
    assert "| 1 | same-d1-w16 | dropped_straggler | 1 | local | n/a | n/a | n/a |  |" in text
    assert text.rstrip().endswith(f"![valid AUC per iteration]({REPORT_PNG})")
    assert not [f for f in os.listdir(folder) if f.endswith(".tmp")]
