"""benchmarks/scale.py's summary (the keys of docs/benchmarks/scale.json) and its Markdown section."""
from __future__ import annotations

import os
import platform
from typing import Any, Optional

from scale_measure import label_of, median

# Issue 13's targets: (key, how it reads, the test the value must pass)
TARGETS = (
    ("worker_rss_ratio", "training worker peak RSS, large / small (streamed)", lambda v: v <= 1.2, "<= 1.2"),
    ("driver_rss_ratio", "driver peak RSS, large / small", lambda v: v <= 1.2, "<= 1.2"),
    ("stream_vs_cache_throughput", "training rows/s, streamed / cached (large)", lambda v: v >= 0.8, ">= 0.8"),
    ("prepare_time_ratio", "feature preparation time, large / small", lambda v: v <= 10, "<= 10"),
    ("udf_vs_torch_per_core", "scoring rows/s per core, Spark (score_features) / in-process torch (large)", lambda v: v >= 0.5, ">= 0.5"),
    ("search_20m_wall_s", "AdaNet search wall time at the large size, s", lambda v: v <= 3600, "<= 3600"),
)


def pick(d: Any, *path: str) -> Any:
    """``d[path[0]][path[1]]...``, or None where a level is missing (a part that failed)."""
    for key in path:
        if not isinstance(d, dict) or key not in d:
            return None
        d = d[key]
    return d


def ratio(a: Optional[float], b: Optional[float]) -> Optional[float]:
    return round(a / b, 3) if a is not None and b else None


def probe_median(phase: dict, mode: str, key: str) -> Optional[float]:
    return median([r.get(key) for r in pick(phase, "train", mode) or [] if "error" not in r])


def errors(sizes: dict) -> list[str]:
    """Every part that did not run, with its hint: what the reader must know about missing numbers."""
    out = []
    for label, phase in sizes.items():
        if "error" in phase:
            out.append(f"{label}: the run failed: {phase['error']}")
        for part in ("search", "lr", "scoring"):
            err = pick(phase, part, "error")
            if err:
                out.append(f"{label} {part}: {err}" + (f" ({phase[part]['hint']})" if phase[part].get("hint") else ""))
        for mode in ("stream", "cache"):
            for r in pick(phase, "train", mode) or []:
                if "error" in r:
                    out.append(f"{label} training probe ({mode}): {r['error']}")
    return list(dict.fromkeys(out))


def summarise(sizes: dict, args: Any, command: str, load_before: float) -> dict:
    small, large = label_of(args.rows_small), label_of(args.rows_large)
    s, l = sizes.get(small, {}), sizes.get(large, {})
    lr_auc, search_auc = pick(l, "lr", "test_auc"), pick(l, "search", "test_auc")
    return {
        "command": command,
        "environment": {"cpus": os.cpu_count(), "load_before": round(load_before, 2),
                        "load_after": round(os.getloadavg()[0], 2), "machine": platform.machine(),
                        "spark_master": os.environ.get("SPARK_MASTER"), "driver_memory": args.driver_memory,
                        "backend": args.backend, "python": platform.python_version()},
        "rows": {"small": args.rows_small, "large": args.rows_large},
        "worker_rss_ratio": ratio(probe_median(l, "stream", "peak_rss_mb"), probe_median(s, "stream", "peak_rss_mb")),
        "worker_rss_ratio_cached": ratio(probe_median(l, "cache", "peak_rss_mb"),
                                         probe_median(s, "cache", "peak_rss_mb")),
        "driver_rss_ratio": ratio(pick(l, "driver", "python_peak_rss_mb"), pick(s, "driver", "python_peak_rss_mb")),
        "stream_vs_cache_throughput": ratio(probe_median(l, "stream", "rows_per_s"),
                                            probe_median(l, "cache", "rows_per_s")),
        "prepare_spark_jobs": {small: pick(s, "prepare", "spark_jobs"), large: pick(l, "prepare", "spark_jobs")},
        "prepare_spark_jobs_by_site": {small: own_jobs(s), large: own_jobs(l)},
        "prepare_time_ratio": ratio(pick(l, "prepare", "wall_s"), pick(s, "prepare", "wall_s")),
        "udf_vs_torch_per_core": pick(l, "scoring", "udf_vs_torch_per_core"),
        "search_20m_wall_s": pick(l, "search", "wall_s"),
        "search_20m_test_auc": search_auc,
        "lr_20m_test_auc": lr_auc,
        "bayes_20m_test_auc": pick(l, "bayes_test_auc"),
        "notes": errors(sizes),
        "sizes": sizes,
    }


def own_jobs(size: dict) -> Optional[dict]:
    """``{call site: jobs}`` of the jobs the preparation's own actions started; what is left out
    is Spark's own asynchronous work (query stages, Delta's log upkeep), named by no line of the
    job and varying between runs of the same code on the same rows (4, 2 or 10 jobs)."""
    sites = pick(size, "prepare", "jobs_by_call_site")
    if not sites:
        return None
    return {k: v for k, v in sorted(sites.items()) if k != "(forgotten)" and "CompletableFuture" not in k}


def verdict(key: str, value: Any, test) -> str:
    if value is None:
        return "not measured"
    return "met" if test(value) else "**not met**"


def render_md(r: dict) -> str:
    env, rows = r["environment"], r["rows"]
    small, large = label_of(rows["small"]), label_of(rows["large"])
    lines = ["## Scale: streamed training data, synthetic rows", "", f"`{r['command']}`", "",
             f"{env['cpus']} CPUs (1-min load average {env['load_before']:.1f} before, {env['load_after']:.1f} "
             f"after), Spark {env['spark_master']}, driver memory {env['driver_memory']}, backend {env['backend']}; "
             f"benchmarks/synthetic.py rows at {small} and {large}.", "",
             "| measure | value | target | |", "|---|---:|---|---|"]
    for key, text, test, target in TARGETS:
        lines.append(f"| {text} | {_fmt(r.get(key))} | {target} | {verdict(key, r.get(key), test)} |")
    lines += _jobs_rows(r, small, large)
    auc, lr, bayes = r["search_20m_test_auc"], r["lr_20m_test_auc"], r["bayes_20m_test_auc"]
    beats = None if auc is None or lr is None else auc > lr
    lines.append(f"| test AUC at {large}: AdaNet / logistic regression (Bayes-optimal) | {_fmt(auc)} / "
                 f"{_fmt(lr)} ({_fmt(bayes)}) | AdaNet > LR | "
                 f"{'not measured' if beats is None else ('met' if beats else '**not met**')} |")
    lines += ["", *_size_table(r, small, large), ""]
    if r["notes"]:
        lines += ["Parts that did not run:", "", *[f"- {n}" for n in r["notes"]], ""]
    lines += ["The worker ratio is a streamed training worker's peak RSS (a fresh process that runs the split "
              "cache and `train_candidate`, as a worker does); the cached worker's ratio, which grows with the "
              "rows, is in scale.json (`worker_rss_ratio_cached`). The driver is the Python driver process; its "
              "JVM, which in local mode also runs the executors, is listed apart. Bayes-optimal AUC: the exact "
              "AUC of the generator's own logit f(x) on the test rows (the label is Bernoulli(sigmoid(f))).", ""]
    return "\n".join(lines)


def _jobs_rows(r: dict, small: str, large: str) -> list[str]:
    """The jobs target: by call site when the sites were recorded (then the total, with
    Spark's unattributed jobs, is shown beside it), else the totals."""
    jobs, sites = r["prepare_spark_jobs"], r.get("prepare_spark_jobs_by_site") or {}
    if sites.get(small) is None or sites.get(large) is None:
        same = None if None in jobs.values() else len(set(jobs.values())) == 1
        return [f"| Spark jobs of feature preparation, {small} / {large} | {jobs[small]} / {jobs[large]} "
                f"| equal | {verdict('prepare_spark_jobs', same, bool)} |"]
    same = sites[small] == sites[large]
    counts = f"{sum(sites[small].values())} / {sum(sites[large].values())}"
    return [f"| Spark jobs of feature preparation's own actions, {small} / {large} (the same at each of "
            f"{len(sites[small])} call sites: {'yes' if same else 'no'}) | {counts} | equal | "
            f"{verdict('prepare_spark_jobs_by_site', same, bool)} |",
            f"| all its Spark jobs, with Spark's own asynchronous ones (no call site), {small} / {large} | "
            f"{jobs[small]} / {jobs[large]} | (shown) | |"]


def _size_table(r: dict, small: str, large: str) -> list[str]:
    out = ["| | " + " | ".join((small, large)) + " |", "|---|---:|---:|"]
    rows = (("prepare wall s", ("prepare", "wall_s")), ("prepare Spark jobs (all)", ("prepare", "spark_jobs_all")),
            ("train split", ("layout", "train", "decision")), ("train row groups", ("layout", "train", "row_groups")),
            ("driver peak RSS MB", ("driver", "python_peak_rss_mb")), ("JVM peak RSS MB", ("driver", "jvm_peak_rss_mb")),
            ("search wall s", ("search", "wall_s")), ("search test AUC", ("search", "test_auc")),
            ("LR test AUC", ("lr", "test_auc")), ("Bayes test AUC", ("bayes_test_auc",)),
            ("Spark scoring rows/s per core", ("scoring", "udf_rows_per_s_per_core")),
            ("torch rows/s (1 thread)", ("scoring", "torch_rows_per_s")))
    for name, path in rows:
        out.append(f"| {name} | " + " | ".join(_fmt(pick(r["sizes"].get(k, {}), *path)) for k in (small, large)) + " |")
    for mode, how in (("stream", "streamed"), ("cache", "cached")):
        for key, name in (("rows_per_s", "training rows/s"), ("peak_rss_mb", "worker peak RSS MB")):
            out.append(f"| {name}, {how} | " + " | ".join(
                _fmt(probe_median(r["sizes"].get(k, {}), mode, key)) for k in (small, large)) + " |")
    return out


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.4f}" if abs(v) < 10 else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,d}"
    return str(v)
