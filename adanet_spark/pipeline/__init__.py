"""The jobs' logic, one run_id across all steps: tune (AdaNet search -> result tables,
:mod:`.tune`) and nightly (prepare -> tune -> baselines -> report, :mod:`.nightly`).

Exactly once and resume: each iteration's rows are committed as it ends, and a rerun
with the same run_id continues after the last committed iteration (:mod:`.resume`;
see also :mod:`adanet_spark.results.writer`). Both jobs print the same run summary
(:mod:`.summary`).

The driver never reads the feature table's rows: training gets lazy split
references (file lists) and loads them on the workers, except with
``training.backend: local``, whose worker is the driver process by definition.
"""
from adanet_spark.pipeline.tune import after_iteration_hooks

__all__ = ["after_iteration_hooks"]
