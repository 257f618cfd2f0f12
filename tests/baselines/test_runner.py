"""The baselines runner: its rows, the executor it builds, and a failing model reported
without costing the others (through jobs/baselines.py, on the tiny feature table)."""
import math

from adanet_spark import cli
from adanet_spark.baselines import runner
from adanet_spark.baselines.nets import NetBaselineResult, Trial
from adanet_spark.baselines.search_space import NetParams
from adanet_spark.data.feature_table import FeatureTable
from adanet_spark.config import load_config
from jobs import baselines as baselines_job
from tests.baselines.checks import auc_rows, check_row


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
    monkeypatch.setattr(runner, "tune_net_baseline", broken)
    assert cli.run_job("baselines", baselines_job.main, argv=argv) == 1  # rerun of the run id: replaced
    rows = auc_rows(spark, database, "bl-job-1")
    assert len(rows) == 1 and rows["manual_nn"]["notes"].startswith("failed: RuntimeError: boom")
    assert rows["manual_nn"]["test_auc"] is None


class FakeExecutor:
    closed = False

    def close(self):
        self.closed = True


def fake_nets(monkeypatch):
    """run_baselines' collaborators replaced: returns the make_executor calls and the executors used."""
    built, used = [], []

    def make_executor(cfg, spark, **kwargs):
        built.append(kwargs)
        return FakeExecutor()

    def tune_net_baseline(model, cfg, spec, refs, executor, seed=None):
        used.append(executor)
        assert set(refs) == {"train", "valid"}  # tuning never gets the test split
        trial = Trial(f"{model}-00", NetParams(1, 8, 0.01, 0.0, 32, 0.0), "completed", valid_auc=0.7)
        return NetBaselineResult(model, 2.0, 0.7, [trial], trial)

    def score(self, spark, table, split):
        return 0.65, 10
    monkeypatch.setattr(runner, "make_executor", make_executor)
    monkeypatch.setattr(runner, "tune_net_baseline", tune_net_baseline)
    monkeypatch.setattr(NetBaselineResult, "score", score)
    return built, used


def test_nets_train_without_straggler_dropping_on_an_executor_closed_after(monkeypatch):
    built, used = fake_nets(monkeypatch)
    cfg = load_config(None, ["baselines.models=[manual_nn, grid_search_nn]", "training.backend=spark"])
    table = FeatureTable("db.tiny", "/nowhere", None, {})
    refs = {"train": "train files", "valid": "valid files", "test": "test files"}
    rows = runner.run_baselines(None, cfg, table=table, refs=refs, write=False)
    assert built == [{"drop_stragglers": False, "inject_faults": False}]  # one executor for every net
    assert len(used) == 2 and used[0] is used[1] and used[0].closed
    assert [r["model"] for r in rows] == ["manual_nn", "grid_search_nn"]
    assert rows[0]["notes"].endswith("; backend spark async, 2 workers")
    given = FakeExecutor()
    runner.run_baselines(None, cfg, table=table, refs=refs, executor=given, write=False)
    assert len(built) == 1 and not given.closed  # the caller's executor stays open


def test_failed_model_row_and_table():
    ok = runner.report_row("manual_nn", 2.0, 0.5, 0.7, 0.65, 1, "chosen d1")
    bad = runner.report_row("grid_search_nn", 1.0, math.nan, math.nan, math.nan, 0, "failed: RuntimeError: x")
    assert runner.failed_models([ok, bad]) == ["grid_search_nn"]
    assert set(ok) == set(runner.AUC_COLUMNS)
    lines = runner.format_rows([ok, bad]).splitlines()
    assert lines[0].split() == ["model", "train", "s", "eval", "s", "valid", "AUC", "test", "AUC", "trials"]
    assert lines[1].split() == ["manual_nn", "2.0", "0.5", "0.7000", "0.6500", "1"]
    assert lines[2].split() == ["grid_search_nn", "1.0", "nan", "nan", "nan", "0"]
