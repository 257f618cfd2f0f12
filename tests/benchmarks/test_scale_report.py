"""benchmarks/scale_report.py: the ratios of scale.json from two sizes' measurements, and its section."""
import os
import sys
from types import SimpleNamespace

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "benchmarks"))
import scale_report  # noqa: E402  (benchmarks import each other by bare name)

KEYS = {"worker_rss_ratio", "driver_rss_ratio", "stream_vs_cache_throughput", "prepare_spark_jobs",
        "prepare_time_ratio", "udf_vs_torch_per_core", "search_20m_wall_s", "search_20m_test_auc", "lr_20m_test_auc"}
ARGS = SimpleNamespace(rows_small=2_000_000, rows_large=20_000_000, driver_memory="6g", backend="horovod")


def phase(rows, rss, jobs, prep_s, stream, cache, search=None, lr=0.7):
    probes = {"stream": [{"rows_per_s": stream, "peak_rss_mb": rss}, {"rows_per_s": stream + 2, "peak_rss_mb": rss}],
              "cache": [{"rows_per_s": cache, "peak_rss_mb": rss * rows / 1e6}]}
    return {"rows": rows, "prepare": {"wall_s": prep_s, "spark_jobs": jobs}, "train": probes,
            "driver": {"python_peak_rss_mb": 800.0 + rows / 1e7}, "bayes_test_auc": 0.86,
            "search": search or {"wall_s": 900.0, "test_auc": 0.8}, "lr": {"test_auc": lr},
            "scoring": {"udf_vs_torch_per_core": 0.7}}


@pytest.fixture
def result():
    sizes = {"2M": phase(2_000_000, 500.0, 20, 60.0, 100, 110),
             "20M": phase(20_000_000, 550.0, 20, 300.0, 90, 100)}
    return scale_report.summarise(sizes, ARGS, "cmd", 1.0)


def test_the_ratios_are_large_over_small(result):
    assert KEYS <= set(result)
    assert result["worker_rss_ratio"] == 1.1 and result["worker_rss_ratio_cached"] == 11.0
    assert result["stream_vs_cache_throughput"] == 0.91  # medians: 91 streamed / 100 cached
    assert result["prepare_spark_jobs"] == {"2M": 20, "20M": 20} and result["prepare_time_ratio"] == 5.0
    assert result["driver_rss_ratio"] == round(802 / 800.2, 3)
    assert (result["search_20m_wall_s"], result["search_20m_test_auc"], result["lr_20m_test_auc"]) == (900.0, 0.8, 0.7)
    assert result["udf_vs_torch_per_core"] == 0.7 and result["notes"] == []


def test_the_section_states_each_target_and_whether_it_is_met(result):
    md = scale_report.render_md(result)
    assert "| training worker peak RSS, large / small (streamed) | 1.1000 | <= 1.2 | met |" in md
    assert "| Spark jobs of feature preparation, 2M / 20M | 20 / 20 | equal | met |" in md
    assert "| test AUC at 20M: AdaNet / logistic regression (Bayes-optimal) | 0.8000 / 0.7000 (0.8600)" in md
    assert "**not met**" not in md


def test_a_part_that_did_not_run_is_reported_not_measured():
    failed = {"error": "TypeError: x", "hint": "the core does not train on a streamed split yet"}
    sizes = {"2M": phase(2_000_000, 500.0, 20, 60.0, 100, 110),
             "20M": phase(20_000_000, 700.0, 25, 900.0, 50, 100, search=failed, lr=None)}
    sizes["20M"]["train"]["stream"] = [{"error": "AttributeError: load", "peak_rss_mb": 400.0}]
    r = scale_report.summarise(sizes, ARGS, "cmd", 1.0)
    assert r["search_20m_test_auc"] is None and r["stream_vs_cache_throughput"] is None
    assert "20M search: TypeError: x (the core does not train on a streamed split yet)" in r["notes"]
    assert "20M training probe (stream): AttributeError: load" in r["notes"]
    md = scale_report.render_md(r)
    assert "| 20 / 25 | equal | **not met** |" in md and "not measured" in md
    assert "Parts that did not run:" in md


def test_jobs_are_compared_by_call_site_without_sparks_unattributed_ones():
    sites = {"collect at adanet_spark/data/statistics.py:71": 10, "save at NativeMethodAccessorImpl.java:0": 1}
    small = phase(2_000_000, 500.0, 13, 60.0, 100, 110)
    large = phase(20_000_000, 550.0, 12, 300.0, 90, 100)
    small["prepare"]["jobs_by_call_site"] = {**sites, "(forgotten)": 2}
    large["prepare"]["jobs_by_call_site"] = {**sites, "(forgotten)": 1}
    r = scale_report.summarise({"2M": small, "20M": large}, ARGS, "cmd", 1.0)
    assert r["prepare_spark_jobs"] == {"2M": 13, "20M": 12}  # the totals stay as measured
    assert r["prepare_spark_jobs_by_site"] == {"2M": sites, "20M": sites}
    md = scale_report.render_md(r)
    assert "| 11 / 11 | equal | met |" in md and "| 13 / 12 | (shown) |" in md
    large["prepare"]["jobs_by_call_site"] = {**sites, "collect at adanet_spark/data/statistics.py:71": 11}
    md = scale_report.render_md(scale_report.summarise({"2M": small, "20M": large}, ARGS, "cmd", 1.0))
    assert "| 11 / 12 | equal | **not met** |" in md  # a site that runs more jobs on more rows
