"""benchmarks/scale_measure.py: Spark jobs counted, split layouts, memory peaks, size labels."""
import os
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "benchmarks"))
import scale_measure  # noqa: E402  (benchmarks import each other by bare name)

from adanet_spark.data.spec import FeatureSpec, NumericFeature  # noqa: E402
from adanet_spark.data.tensors import ParquetSplit  # noqa: E402


def test_size_labels_and_medians():
    assert [scale_measure.label_of(n) for n in (2_000_000, 20_000_000, 200_000, 1500)] == ["2M", "20M", "200k", "1500"]
    assert scale_measure.median([3, None, 1, 2]) == 2 and scale_measure.median([4, 1]) == 2.5
    assert scale_measure.median([None]) is None


def test_jobs_are_counted_inside_the_block_only(spark):
    sc = spark.sparkContext
    spark.range(10).count()  # before: not counted
    with scale_measure.count_jobs(sc, "t-count") as jobs:
        spark.range(100).count()
        spark.range(100, numPartitions=3).selectExpr("sum(id)").collect()
    spark.range(10).count()  # after: not counted
    assert jobs["group"] >= 2 and jobs["all"] >= jobs["group"]
    assert sum(jobs["where"].values()) == jobs["all"]
    assert any("test_scale_measure.py" in site for site in jobs["where"]), jobs["where"]  # call sites
    assert sc.getLocalProperty("spark.jobGroup.id") is None  # the group does not outlive the block
    with scale_measure.count_jobs(sc, "t-none") as none:
        pass
    assert none == {"group": 0, "all": 0, "where": {}}
    with scale_measure.count_jobs(sc, "t-one") as once:
        spark.range(100).count()
    with scale_measure.count_jobs(sc, "t-one") as again:  # the same group name: only the new jobs count
        spark.range(100).count()
    assert again["group"] == once["group"] >= 1


def test_split_layout_reads_metadata_and_the_cache_decision(tmp_path):
    spec = FeatureSpec("toy", (NumericFeature("a", 0.0, 1.0, 0.0),), ())
    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"a": np.zeros(1000, np.float32), "label": np.zeros(1000, np.int32)}), path,
                   row_group_size=300)
    refs = {"train": ParquetSplit((str(path),), spec.to_json(), cache_max_bytes=4000),
            "valid": ParquetSplit((str(path),), spec.to_json(), cache_max_bytes=10_000)}
    layout = scale_measure.split_layout(refs)
    assert layout["train"] == {"files": 1, "row_groups": 4, "rows": 1000, "largest_row_group": 300,
                               "in_memory_bytes": 8000, "budget_bytes": 4000,
                               "decision": "streamed 8.0 KB > budget 4.0 KB"}
    assert layout["valid"]["decision"] == "cached 8.0 KB"


def test_the_monitor_reports_this_process_and_its_children():
    import subprocess
    monitor = scale_measure.RssMonitor(every_s=0.05).start()
    with monitor.window("child"):
        subprocess.run([sys.executable, "-c", "import time; b = bytearray(200 * 2**20); time.sleep(1.0)"], check=True)
    out = monitor.stop()
    assert out["python_peak_rss_mb"] > 10
    assert out["windows"]["child"]["worker_mb"] > 150  # the child held 200 MB
    assert out["worker_peak_rss_mb"] >= out["windows"]["child"]["worker_mb"]
