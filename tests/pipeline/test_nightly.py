"""pipeline.nightly's baselines step (the whole job runs in tests/jobs/test_nightly.py)."""
from adanet_spark.config import load_config
from adanet_spark.pipeline import nightly


class FakeSpark:
    class sparkContext:  # noqa: N801  (the attribute of a SparkSession)
        descriptions = []

        @classmethod
        def setJobDescription(cls, text):
            cls.descriptions.append(text)


def test_no_baselines_configured_runs_none(monkeypatch):
    monkeypatch.setattr(nightly, "run_baselines", lambda *a, **k: (_ for _ in ()).throw(AssertionError("ran")))
    nightly.compare_baselines(FakeSpark(), load_config(None, ["baselines.models=[]"]), "table", "writer")


def test_baselines_run_on_the_run_s_table_and_writer(monkeypatch):
    calls = []
    monkeypatch.setattr(nightly, "run_baselines", lambda spark, cfg, table, writer: calls.append((table, writer)))
    cfg = load_config(None, ["baselines.models=[logistic_regression, manual_nn]", "run.id=n1", "dataset=w"])
    writer = type("W", (), {"run_id": "n1"})()
    nightly.compare_baselines(FakeSpark(), cfg, "table", writer)
    assert calls == [("table", writer)]
    assert FakeSpark.sparkContext.descriptions[-2:] == ["baselines w run n1", None]
