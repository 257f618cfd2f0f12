"""benchmarks/scale.py: its entry point, the job config of a size, and what a phase is told."""
import os
import subprocess
import sys
from types import SimpleNamespace

from adanet_spark.paths import REPO_ROOT

sys.path.insert(0, os.path.join(REPO_ROOT, "benchmarks"))
import scale  # noqa: E402  (benchmarks import each other by bare name)

ARGS = SimpleNamespace(seed=7, top_k=1000, backend="spark", iterations=2, cache_max_bytes=-1,
                       set="baselines.lr_reg_params=[0.0]; adanet.max_steps=100; adanet.min_steps=50", score_rows=1000, probe_steps=10,
                       probe_repeats=1, probe_threads=1, batch_size=256)


def test_the_entry_point_parses_its_arguments(tmp_path):
    out = subprocess.run([sys.executable, os.path.join(REPO_ROOT, "benchmarks", "scale.py"), "--help"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    for option in ("--rows-small", "--rows-large", "--cache-max-bytes", "--no-docs"):
        assert option in out.stdout
    assert "--train-probe TRAIN_PROBE" not in out.stdout  # internal: not in the usage


def test_a_size_s_job_config_reads_the_synthetic_rows():
    cfg = scale.job_config(ARGS, "2M", "/data/raw")
    assert cfg.dataset == "synthetic_2m" and cfg.input.path == "/data/raw" and cfg.input.format == "parquet"
    assert cfg.features.split_key == "id" and "bayes_logit" not in cfg.features.numeric
    assert len(cfg.features.numeric) == 10 and len(cfg.features.categorical) == 5
    assert cfg.adanet.max_iterations == 2 and cfg.adanet.max_steps == 100
    assert cfg.training.backend == "spark" and cfg.training.cache_max_bytes is None
    capped = scale.job_config(SimpleNamespace(**{**vars(ARGS), "cache_max_bytes": 0}), "2M", "/data/raw")
    assert capped.training.cache_budget() == 0  # --cache-max-bytes 0 streams every split


def test_a_phase_gets_every_setting_of_the_run():
    argv = scale.phase_args(ARGS, 2_000_000)
    assert argv[:2] == ["--phase", "2000000"]
    pairs = dict(zip(argv[2::2], argv[3::2]))
    assert pairs["--cache-max-bytes"] == "-1" and pairs["--backend"] == "spark" and pairs["--probe-steps"] == "10"
