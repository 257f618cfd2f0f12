"""The cluster benchmark's job arguments and its table (the runs themselves are the benchmark)."""
import os
import sys

from adanet_spark.config import load_config
from adanet_spark.paths import REPO_ROOT

sys.path.insert(0, os.path.join(REPO_ROOT, "benchmarks"))
import cluster  # noqa: E402


def test_every_backend_gets_a_valid_config_of_the_same_small_search():
    for backend in cluster.BACKENDS:
        args = cluster.nightly_args(backend, "/data/tiny.parquet", "/tmp/wh", f"local-{backend}-0")
        overrides = [args[i + 1] for i, a in enumerate(args) if a == "--set"]
        cfg = load_config(os.path.join(REPO_ROOT, args[1]), overrides)
        assert (cfg.training.backend, cfg.training.workers, cfg.adanet.max_iterations) == (backend, 2, 1)
        assert cfg.baselines.models == []


def test_the_table_gives_medians_and_the_ratio():
    result = {"repeats": 3, "rows": 3000, "master_local": "local[3]", "master_cluster": "standalone",
              "median_s": {"spark": {"local": 40.0, "cluster": 60.0}}}
    text = cluster.markdown(result, ".venv/bin/python benchmarks/cluster.py")
    assert "| spark | 40 | 60 | 1.50 |" in text and "median of 3" in text
