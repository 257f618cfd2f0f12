"""The measurements of benchmarks/scale.py: memory, Spark jobs, the search, scoring, one worker.

Imported by scale.py (after _common has put the repository on sys.path).
"""
from __future__ import annotations

import contextlib
import os
import resource
import threading
import time
from typing import Any, Callable, Iterator, Optional

MB = 2 ** 20
STREAMING_HINT = ("the core does not train on a streamed split yet (the split cache streams splits over "
                  "training.cache_max_bytes); rerun with --cache-max-bytes above the split's size to cache it")


def label_of(rows: int) -> str:
    """2000000 -> '2M', 200000 -> '200k': the size keys of scale.json."""
    for unit, n in (("M", 1_000_000), ("k", 1_000)):
        if rows >= n and rows % n == 0:
            return f"{rows // n}{unit}"
    return str(rows)


def brief(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
    return text[:400]


class RssMonitor:
    """Peak RSS of this process (exact: ru_maxrss), of its JVM child and of its other
    descendants (Spark Python workers, Horovod workers: the largest one), sampled with psutil."""

    def __init__(self, every_s: float = 0.5):
        self.every_s = every_s
        self.peaks = {"jvm_mb": 0.0, "worker_mb": 0.0, "python_mb": 0.0}
        self.windows: dict = {}
        self._open: dict = {}
        self._stop = threading.Event()

    def start(self) -> "RssMonitor":
        threading.Thread(target=self._run, daemon=True).start()
        return self

    def _run(self) -> None:
        import psutil
        me = psutil.Process()
        while not self._stop.is_set():
            # This process too, sampled: ru_maxrss has its peak but not when it was reached.
            jvm, worker, python = 0.0, 0.0, me.memory_info().rss / MB
            for child in me.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    rss = child.memory_info().rss / MB
                    if "java" in child.name():
                        jvm += rss
                    else:
                        worker = max(worker, rss)
            for peaks in [self.peaks, *self._open.values()]:
                peaks["jvm_mb"] = max(peaks["jvm_mb"], jvm)
                peaks["worker_mb"] = max(peaks["worker_mb"], worker)
                peaks["python_mb"] = max(peaks["python_mb"], python)
            self._stop.wait(self.every_s)

    @contextlib.contextmanager
    def window(self, name: str) -> Iterator[None]:
        """Peaks of the children while the block runs, kept under ``name``."""
        self._open[name] = {"jvm_mb": 0.0, "worker_mb": 0.0, "python_mb": 0.0}
        try:
            yield
        finally:
            self.windows[name] = {k: round(v, 1) for k, v in self._open.pop(name).items()}

    def stop(self) -> dict:
        self._stop.set()
        return {"python_peak_rss_mb": round(peak_rss_mb(), 1), "jvm_peak_rss_mb": round(self.peaks["jvm_mb"], 1),
                "worker_peak_rss_mb": round(self.peaks["worker_mb"], 1), "windows": self.windows}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


@contextlib.contextmanager
def count_jobs(sc, group: str) -> Iterator[dict]:
    """Spark jobs started inside the block: ``group``, those tagged with a job group set here;
    ``all``, those plus new jobs without a group (threads that do not inherit it); ``where``,
    how many jobs each call site started (the name of a job's first stage), to find a count
    that grows with the data."""
    tracker = sc.statusTracker()
    before = set(tracker.getJobIdsForGroup(None)) | set(tracker.getJobIdsForGroup(group))
    sc.setJobGroup(group, f"{group}: jobs counted by benchmarks/scale.py")
    counts: dict = {}
    try:
        yield counts
    finally:
        sc.setLocalProperty("spark.jobGroup.id", None)
        sc.setLocalProperty("spark.job.description", None)
        mine = set(tracker.getJobIdsForGroup(group)) - before  # a group used before counts anew
        jobs = mine | (set(tracker.getJobIdsForGroup(None)) - before)
        counts.update(group=len(mine), all=len(jobs), where=job_sites(tracker, jobs))


def job_sites(tracker, jobs: set) -> dict:
    """``{call site: jobs}`` for the given job ids (what the status tracker still remembers)."""
    sites: dict = {}
    for job in sorted(jobs):
        info = tracker.getJobInfo(job)
        stage = tracker.getStageInfo(min(info.stageIds)) if info and info.stageIds else None
        name = stage.name if stage else "(forgotten)"
        sites[name] = sites.get(name, 0) + 1
    return sites


def split_layout(refs: dict) -> dict:
    """Files, row groups, rows and the split cache's decision per split (metadata only)."""
    from adanet_spark.execution.split_cache import decide, human_bytes
    out = {}
    for name, ref in refs.items():
        pieces = ref.row_pieces()
        choice, size, budget = decide(ref)
        out[name] = {"files": len(ref.paths), "row_groups": len(pieces), "rows": ref.num_rows(),
                     "largest_row_group": max((p.rows for p in pieces), default=0),
                     "in_memory_bytes": size, "budget_bytes": budget,
                     "decision": f"{choice} {human_bytes(size)}" + (
                         f" > budget {human_bytes(budget)}" if choice == "streamed" else "")}
    return out


def measure_search(spark, cfg, table, refs) -> tuple[dict, Any]:
    """A short AdaNet search through the public API; ``(measurements, ensemble or None)``."""
    from adanet_spark.adanet.search import AdaNetSearch
    from adanet_spark.baselines.auc import ensemble_auc
    from adanet_spark.execution.factory import make_executor
    executor = make_executor(cfg, spark)
    t0 = time.perf_counter()
    try:
        search = AdaNetSearch(table.spec, **cfg.adanet.search_params(), executor=executor, seed=cfg.run.seed)
        search.fit(refs["train"], refs["valid"])
    except Exception as exc:
        return {"error": brief(exc), "hint": STREAMING_HINT}, None
    finally:
        executor.close()
    wall = time.perf_counter() - t0
    if not len(search.ensemble_):
        return {"error": "no candidate was trained (see the log)", "hint": STREAMING_HINT,
                "wall_s": round(wall, 1)}, None
    auc, score_s, rows = ensemble_auc(spark, search.ensemble_, table.spec, table.name, "test", name="bench-scale")
    return {"wall_s": round(wall, 1), "test_auc": round(float(auc), 5), "test_rows": rows,
            "test_scoring_s": round(score_s, 1), "iterations": search.iterations_,
            "subnetworks": len(search.ensemble_),
            "valid_auc": [round(float(h.get("valid_auc", float("nan"))), 5) for h in search.history_]}, search.ensemble_


def scoring_throughput(spark, ensemble, table, torch_rate: Callable[[], dict]) -> dict:
    """Rows/s of Spark scoring (``score_features``: the ensemble in ``mapInArrow``, the path of
    every test AUC and of jobs/score.py) over the test split, per core, against in-process
    torch scoring of the same ensemble on one thread (best of 2 and of 3 runs). ``torch_rate()``
    gives the latter (``torch_scoring``), run in its own process by scale.py: the rows it
    holds are the benchmark's reference, not the job's, and must not count as the driver's."""
    if ensemble is None:
        return {"error": "no ensemble to score: the search did not complete"}
    from pyspark.sql import functions as F

    from adanet_spark.data.feature_table import split_frame
    from adanet_spark.results.models import SavedModel
    from adanet_spark.scoring.spark import score_features
    saved = SavedModel(uri="memory:bench-scale", ensemble_bytes=ensemble.to_bytes(), spec=table.spec)
    scored = score_features(spark, saved, split_frame(spark, table.name, "test"))
    cores = min(os.cpu_count() or 1, spark.sparkContext.defaultParallelism)
    udf_s, rows = [], 0
    for _ in range(2):  # the first run also starts Python workers and deserialises the model
        t0 = time.perf_counter()
        rows = scored.agg(F.count("*").alias("n"), F.sum("probability").alias("s")).first()["n"]
        udf_s.append(time.perf_counter() - t0)
    reference = torch_rate()
    if "error" in reference:
        return {"udf_rows": rows, "udf_s": [round(s, 2) for s in udf_s], "error": reference["error"]}
    n, torch_rate_value = reference["rows"], reference["rows_per_s"]
    udf_rate = rows / min(udf_s)
    return {"udf_rows": rows, "udf_s": [round(s, 2) for s in udf_s], "cores": cores,
            "udf_rows_per_s": round(udf_rate), "udf_rows_per_s_per_core": round(udf_rate / cores),
            "torch_rows": n, "torch_rows_per_s": round(torch_rate_value),
            "udf_vs_torch_per_core": round(udf_rate / cores / torch_rate_value, 3)}


def torch_scoring(spec: dict) -> dict:
    """Rows/s of ``ensemble.predict_proba`` on one thread, on the test split's first ``rows`` rows
    (read as one batch in storage order: only the row groups that hold them), in this fresh
    process. ``spec``: the test split's files and feature spec, the saved ensemble's path."""
    import torch

    from adanet_spark.adanet.ensemble import Ensemble
    from adanet_spark.data.tensors import ParquetSplit
    with open(spec["ensemble"], "rb") as f:
        ensemble = Ensemble.from_bytes(f.read())
    test_ref = ParquetSplit(tuple(spec["test"]), spec["spec_json"])
    rate, n = _torch_rate(ensemble, test_ref, spec["rows"])
    return {"rows_per_s": rate, "rows": n, "peak_rss_mb": round(peak_rss_mb(), 1)}


def _torch_rate(ensemble, test_ref, rows: int) -> tuple[float, int]:
    import torch
    batch = next(iter(test_ref.batches(rows, shuffle=False)))
    saved_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        ensemble.predict_proba(batch)  # warm-up
        best = min(_timed(lambda: ensemble.predict_proba(batch)) for _ in range(3))
    finally:
        torch.set_num_threads(saved_threads)
    return len(batch) / best, len(batch)


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def train_probe(spec: dict) -> dict:
    """One candidate trained as a worker trains it (split cache, then ``train_candidate``), in
    this fresh process: ``mode`` stream (budget 0) or cache (no limit)."""
    import torch

    from adanet_spark.adanet.architecture import CandidateSpec, InputSpec
    from adanet_spark.adanet.train import TrainBudget, train_candidate
    from adanet_spark.data.spec import FeatureSpec
    from adanet_spark.data.tensors import ParquetSplit
    from adanet_spark.execution import split_cache
    torch.set_num_threads(spec["threads"])
    budget_bytes = 0 if spec["mode"] == "stream" else 2 ** 62
    refs = {s: ParquetSplit(tuple(spec[s]), spec["spec_json"], cache_max_bytes=budget_bytes)
            for s in ("train", "valid")}
    t0 = time.perf_counter()
    data = split_cache.preload(split_cache.cached(refs))
    load_s = time.perf_counter() - t0
    feature_spec = FeatureSpec.from_json(spec["spec_json"])
    candidate = CandidateSpec(name="probe-d2-w128", depth=2, width=128, learning_rate=3e-3,
                              inputs=InputSpec.from_feature_spec(feature_spec, 16))
    steps = spec["steps"]
    budget = TrainBudget.from_dict({"batch_size": spec["batch_size"], "epochs": 1, "min_steps": steps,
                                    "max_steps": steps, "patience": 0, "refit_mixture_weights": False})
    try:
        res = train_candidate(candidate, data, budget, seed=1)
    except Exception as exc:
        return {"mode": spec["mode"], "error": brief(exc), "hint": STREAMING_HINT,
                "peak_rss_mb": round(peak_rss_mb(), 1)}
    return {"mode": spec["mode"], "wrapped_as": type(data["train"]).__name__, "load_s": round(load_s, 2),
            "rows_per_s": round(res.rows_per_s), "train_seconds": round(res.train_seconds, 2),
            "n_train": res.n_train, "valid_auc": round(float(res.valid["auc"]), 5),
            "timings": {k: round(v, 2) for k, v in (res.timings or {}).items()},
            "peak_rss_mb": round(peak_rss_mb(), 1)}


def median(values: list) -> Optional[float]:
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2
