"""Candidate-training throughput against the machine's own matmul peak (issue 14).

In one run, on this machine, with one intra-op thread (one worker per core):

1. **Peak.** float32 ``torch.mm`` of two 2048 x 2048 matrices: GFLOP/s = 2 n^3 / s,
   median of repeats, measured before and after the shapes (the median of both is
   ``peak_gflops_per_core``).
2. **The search's own shapes.** Each dataset's feature table is built by the project's
   job (``jobs/prepare_features.py`` through ``cli.run_job``, conf/<dataset>.yaml, in a
   temporary warehouse); then a real 2-iteration ``AdaNetSearch`` with the library
   defaults (``AdaNetConfig().search_params()``, generator "adaptive") runs in process
   (``InProcessExecutor``). Every candidate it trains is one measured shape, with its
   real inputs: numeric encoding (plain or piecewise-linear), embeddings, and the
   inputs its connections read from the frozen subnetwork.
3. **Per shape**, interleaved: the project's trainer end to end (``train_candidate`` with
   the candidate's own payload: budget, seed, frozen previous ensemble, data), and a
   bare torch MLP of the same layer shapes (``nn.Sequential`` of Linear/ReLU,
   BCE-with-logits, fused AdamW, random inputs of the same width, the trainer's batch
   size; a layer that reads frozen inputs concatenates random ones of that width).

FLOPs per training row = 3 x 2 x (multiply-adds of the forward pass), the forward pass
being the hidden layers and the head (sum of in x out); embeddings, the piecewise-linear
encoding, activations, the loss and the optimizer are not counted. The formula includes
the first layer's input gradient, which the trainer computes (embeddings learn) and the
bare MLP skips (random inputs need none): a small bias in the bare MLP's favour, at most
in/(3 x sum) of the first layer's share. The trainer's rows are
its steps x batch size; its time is the whole ``train_candidate`` call (setup, frozen
rows, validation checks, mixture refit and final metrics included). Rates are on CPU
time (``time.process_time``), stable on a shared machine; wall-clock rates sit beside
them in the JSON. The time split is ``CandidateResult.timings`` (wall clock), as
fractions of the trainer's end-to-end time; "other" is everything else (in the loop:
the schedule, progress reports, snapshots; outside it: setup, refit, metrics).

    .venv/bin/python benchmarks/train_throughput.py                 # full: both datasets, 3 repeats
    .venv/bin/python benchmarks/train_throughput.py --quick         # orientation, under ~3 minutes
    .venv/bin/python benchmarks/train_throughput.py --datasets adult --set adanet.batch_size=2048

The full run takes about 20 minutes on 2 quiet cores (flights' candidates train ~1000
steps each). It writes docs/benchmarks/train_throughput.json and the train_throughput
section of docs/BENCHMARKS.md; ``--quick`` (a subsample of rows, 40 steps per candidate,
4 checks, fewer repeats) writes train_throughput_quick.json and prints the section: a
quick run never replaces the full run's record.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import platform
import statistics
import sys
import tempfile
import time
from typing import Any, Callable, Optional, Sequence

# _common first: it puts the repository on sys.path for adanet_spark
from _common import OUT_DIR, REPO_ROOT, command_line, parser, spark_environment, write_json, write_section

log = logging.getLogger("bench.train_throughput")

JSON_PATH = os.path.join(OUT_DIR, "train_throughput.json")
DATASETS = ("flights", "adult")
ITERATIONS = 2
PEAK_N = 2048
PARTS = ("forward_backward", "optimizer", "data", "validation")  # named in CandidateResult.timings
FULL = {"repeats": 3, "peak_repeats": 7, "bare_steps": 200, "train_rows": 0, "valid_rows": 0, "budget": {}}
QUICK = {"repeats": 2, "peak_repeats": 3, "bare_steps": 30, "train_rows": 20_000, "valid_rows": 5_000,
         "budget": {"min_steps": 40, "max_steps": 40, "checks": 4}}
TARGET_FRACTION, TARGET_VS_BARE = 0.5, 0.8  # issue 14's "done when"


# -- pure arithmetic (tests/benchmarks/test_train_throughput.py) ----------------------------
def matmul_gflops(n: int, seconds: float) -> float:
    """GFLOP/s of one n x n by n x n matmul that took ``seconds``: 2 n^3 FLOPs."""
    return 2.0 * n ** 3 / seconds / 1e9


def forward_macs(layers: Sequence[Sequence[int]]) -> int:
    """Multiply-adds per row of the forward pass through ``layers`` [(in, out), ...]."""
    return int(sum(int(i) * int(o) for i, o in layers))


def train_flops_per_row(layers: Sequence[Sequence[int]]) -> int:
    """Training FLOPs per row: forward 2 x MACs, backward twice the forward (gradients of
    the inputs and of the weights), so 3 x 2 x MACs."""
    return 6 * forward_macs(layers)


def gflops(flops_per_row: float, rows: float, seconds: float) -> float:
    return flops_per_row * rows / seconds / 1e9 if seconds > 0 else 0.0


def fraction_of_peak(gflops_value: float, peak: float) -> float:
    return gflops_value / peak if peak > 0 else 0.0


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else 0.0


def breakdown(timings: dict) -> dict:
    """Seconds of each part of one ``CandidateResult.timings``; ``other`` is the end-to-end
    time not in a named part (in-loop other_s, and setup, refit and metrics outside it)."""
    total = float(timings.get("total_s") or 0.0)
    parts = {p: float(timings.get(f"{p}_s") or 0.0) for p in PARTS}
    extra = {k[:-2]: float(v) for k, v in timings.items()
             if k.endswith("_s") and k[:-2] not in PARTS and k not in ("other_s", "loop_s", "total_s")}
    parts.update(extra)  # parts the trainer may add later (e.g. compile), kept by name
    parts["other"] = max(0.0, total - sum(parts.values()))
    parts["other_in_loop"] = float(timings.get("other_s") or 0.0)
    parts["outside_loop"] = max(0.0, total - float(timings.get("loop_s") or total))
    parts["total"] = total
    return parts


def fractions(parts: dict) -> dict:
    total = parts.get("total") or 0.0
    return {k: (v / total if total else 0.0) for k, v in parts.items() if k != "total"}


def shape_record(shape: dict, peak: float, trainer: dict, bare: dict) -> dict:
    """One measured shape: ``shape`` (architecture, layers, batch), the trainer's and the bare
    MLP's medians (rows/s on CPU and wall time, breakdown seconds), and the ratios."""
    flops = train_flops_per_row(shape["layers"])
    t_gf = gflops(flops, trainer["rows_per_s"], 1.0)
    b_gf = gflops(flops, bare["rows_per_s"], 1.0)
    t_wall, b_wall = gflops(flops, trainer["rows_per_s_wall"], 1.0), gflops(flops, bare["rows_per_s_wall"], 1.0)
    parts = trainer["breakdown_s"]
    step_s = parts.get("forward_backward", 0.0) + parts.get("optimizer", 0.0)
    return {
        **shape, "flops_per_row": flops, "macs_per_row": forward_macs(shape["layers"]),
        "trainer_rows_per_s": trainer["rows_per_s"], "trainer_rows_per_s_wall": trainer["rows_per_s_wall"],
        "trainer_gflops": t_gf, "trainer_gflops_wall": t_wall,
        "trainer_fraction_of_peak": fraction_of_peak(t_gf, peak),
        "trainer_steps_gflops_wall": gflops(flops, trainer["rows"], step_s),
        "bare_rows_per_s": bare["rows_per_s"], "bare_rows_per_s_wall": bare["rows_per_s_wall"],
        "bare_gflops": b_gf, "bare_gflops_wall": b_wall, "bare_fraction_of_peak": fraction_of_peak(b_gf, peak),
        "trainer_vs_bare": t_gf / b_gf if b_gf else 0.0, "trainer_vs_bare_wall": t_wall / b_wall if b_wall else 0.0,
        "breakdown": fractions(parts), "breakdown_s": parts, "bare_split_s": bare.get("split_s", {}),
        "trainer_samples": trainer.get("samples", []), "bare_samples": bare.get("samples", []),
    }


def summary(shapes: Sequence[dict]) -> dict:
    frac = [s["trainer_fraction_of_peak"] for s in shapes]
    vs = [s["trainer_vs_bare"] for s in shapes]
    return {"shapes": len(shapes), "trainer_fraction_of_peak_median": median(frac),
            "trainer_fraction_of_peak_min": min(frac, default=0.0), "trainer_vs_bare_median": median(vs),
            "trainer_vs_bare_min": min(vs, default=0.0),
            "bare_fraction_of_peak_median": median([s["bare_fraction_of_peak"] for s in shapes]),
            "meet_targets": sum(f >= TARGET_FRACTION and v >= TARGET_VS_BARE for f, v in zip(frac, vs)),
            "targets": {"fraction_of_peak": TARGET_FRACTION, "vs_bare": TARGET_VS_BARE}}


# -- measuring ------------------------------------------------------------------------------
def timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall and CPU seconds of ``fn()`` (CPU time: all of this process's threads)."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, out


def measure_peak(n: int, repeats: int) -> dict:
    import torch
    a, b, out = torch.randn(n, n), torch.randn(n, n), torch.empty(n, n)
    torch.mm(a, b, out=out)  # warm-up
    samples = [timed(lambda: torch.mm(a, b, out=out))[:2] for _ in range(repeats)]
    return {"gflops": median([matmul_gflops(n, c) for _, c in samples]),
            "gflops_wall": median([matmul_gflops(n, w) for w, _ in samples]),
            "samples_cpu_s": [round(c, 4) for _, c in samples], "n": n, "repeats": repeats}


def layer_shapes(arch: Any) -> list[list[int]]:
    """[(in, out)] of the real subnetwork's hidden layers and head, built from ``arch``."""
    from adanet_spark.adanet.subnetwork import Subnetwork
    sub = Subnetwork(arch)
    return [[m.in_features, m.out_features] for m in list(sub.layers) + [sub.head]]


def trained_rows(result: Any, payload: dict) -> float:
    """Rows the candidate trained on: steps x batch (its loop's rows/s x the loop's seconds)."""
    loop_s = float(result.timings.get("loop_s") or 0.0)
    if loop_s and result.rows_per_s:
        return result.rows_per_s * loop_s
    return float(result.steps_run * int(payload["budget"]["batch_size"]))


def describe(dataset: str, payload: dict, result: Any) -> dict:
    """The measured shape of one candidate the search trained."""
    from adanet_spark.adanet.architecture import SubnetworkArch
    from adanet_spark.adanet.inputs import embedding_dim
    arch = SubnetworkArch.from_dict(json.loads(result.architecture_json))
    spec, inputs = payload["spec"], arch.inputs
    layers = layer_shapes(arch)
    emb = sum(embedding_dim(c, inputs.embedding_dim_cap) for c in inputs.cardinalities)
    rows = trained_rows(result, payload)
    batch = round(rows / result.steps_run) if result.steps_run else int(payload["budget"]["batch_size"])
    return {"dataset": dataset, "iteration": int(payload["iteration"]), "name": result.name,
            "key": f"{dataset}/{payload['iteration']}/{result.name}", "layers": layers, "batch_size": batch,
            "architecture": {"depth": arch.depth, "width": arch.width, "encoding": arch.encoding,
                             "input_width": layers[0][0], "numeric_width": layers[0][0] - emb,
                             "n_numeric": inputs.n_numeric, "embedding_width": emb,
                             "cardinalities": list(inputs.cardinalities), "extra_in": list(arch.extra_in),
                             "reads": [list(r) for r in arch.reads], "dropout": arch.dropout,
                             "batch_norm": arch.batch_norm, "learning_rate": spec["learning_rate"],
                             "weight_decay": spec.get("weight_decay"), "steps_scale": spec.get("steps_scale")},
            "search_run": {"valid_auc": result.valid["auc"], "steps_run": result.steps_run,
                           "total_steps": result.total_steps, "best_step": result.best_step,
                           "total_s": result.timings.get("total_s")}}


def bare_mlp(layers: Sequence[Sequence[int]], batch: int):
    """nn.Sequential of Linear/ReLU with ``layers``' shapes; a layer wider than the previous
    output also reads fixed random inputs of the difference (the trainer's connections)."""
    import torch
    from torch import nn

    class Concat(nn.Module):
        def __init__(self, width: int):
            super().__init__()
            self.register_buffer("noise", torch.randn(batch, width))

        def forward(self, h):
            return torch.cat([h, self.noise], dim=1)

    mods: list = []
    for k, (i, o) in enumerate(layers):
        if k and i > layers[k - 1][1]:
            mods.append(Concat(i - layers[k - 1][1]))
        mods.append(nn.Linear(i, o))
        if k < len(layers) - 1:
            mods.append(nn.ReLU())
    return nn.Sequential(*mods)


def bare_runner(layers: Sequence[Sequence[int]], batch: int, pool: int = 8) -> Callable[[int], dict]:
    """``run(steps)``: training steps of the bare MLP on a pool of random batches; returns
    the forward/backward and optimizer seconds."""
    import torch
    from torch import nn
    gen = torch.Generator().manual_seed(0)
    model = bare_mlp(layers, batch)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, fused=True)
    loss_fn = nn.BCEWithLogitsLoss()
    x = torch.randn(pool * batch, layers[0][0], generator=gen)
    y = (torch.rand(pool * batch, generator=gen) < 0.3).float()

    def run(steps: int) -> dict:
        split = {"forward_backward": 0.0, "optimizer": 0.0}
        for s in range(steps):
            lo = (s % pool) * batch
            t0 = time.perf_counter()
            loss = loss_fn(model(x[lo:lo + batch]).squeeze(-1), y[lo:lo + batch])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            t1 = time.perf_counter()
            opt.step()
            split["forward_backward"] += t1 - t0
            split["optimizer"] += time.perf_counter() - t1
        return split
    return run


def trainer_runner(payload: dict, data: dict) -> Callable[[], Any]:
    """``train_candidate`` on one candidate's payload, as the executors' train_fn calls it."""
    from adanet_spark.adanet.architecture import CandidateSpec
    from adanet_spark.adanet.budget import TrainBudget
    from adanet_spark.adanet.ensemble import Ensemble
    from adanet_spark.adanet.train import train_candidate
    spec, budget = CandidateSpec.from_dict(payload["spec"]), TrainBudget.from_dict(payload["budget"])
    previous = Ensemble.from_parts(payload["ensemble"]["architecture"], payload["ensemble"]["weights"])
    return lambda: train_candidate(spec, data, budget, previous=previous, seed=int(payload["seed"]),
                                   iteration=int(payload["iteration"]))


def measure_shape(shape: dict, payload: dict, data: dict, repeats: int, bare_steps: int) -> tuple[dict, dict]:
    """The trainer and the bare MLP on one shape, repeats interleaved; medians of each."""
    train, run_bare = trainer_runner(payload, data), bare_runner(shape["layers"], shape["batch_size"])
    run_bare(5)  # warm-up (the search's own run warmed the trainer up)
    t_samples, b_samples, parts, splits = [], [], [], []
    for _ in range(repeats):
        wall, cpu, res = timed(train)
        rows = trained_rows(res, payload)
        t_samples.append({"rows": rows, "wall_s": wall, "cpu_s": cpu, "steps": res.steps_run})
        parts.append(breakdown(res.timings))
        wall, cpu, split = timed(lambda: run_bare(bare_steps))
        b_samples.append({"rows": bare_steps * shape["batch_size"], "wall_s": wall, "cpu_s": cpu})
        splits.append(split)
    trainer = _rates(t_samples)
    trainer["breakdown_s"] = {k: median([p.get(k, 0.0) for p in parts]) for k in parts[0]}
    trainer["rows"] = median([s["rows"] for s in t_samples])
    bare = _rates(b_samples)
    bare["split_s"] = {k: median([s[k] for s in splits]) for k in splits[0]}
    return trainer, bare


def _rates(samples: list[dict]) -> dict:
    return {"rows_per_s": median([s["rows"] / s["cpu_s"] for s in samples]),
            "rows_per_s_wall": median([s["rows"] / s["wall_s"] for s in samples]),
            "samples": [{k: round(v, 4) for k, v in s.items()} for s in samples]}


# -- the data and the search's shapes -------------------------------------------------------
def conf_path(name: str) -> str:
    return os.path.join(REPO_ROOT, "conf", f"{name}.yaml")


def prepare(name: str, warehouse: str, overrides: Sequence[str]) -> dict:
    """The dataset's feature table, built by jobs/prepare_features.py in ``warehouse``, and its
    train and valid splits loaded as the workers load them (ParquetSplit.load)."""
    from adanet_spark import cli
    from adanet_spark.data.feature_table import open_table
    from adanet_spark.data.refs import split_refs
    from jobs import prepare_features
    got: dict = {}

    def main(spark, cfg, args) -> None:
        prepare_features.main(spark, cfg, args)
        table = open_table(spark, cfg)
        refs = split_refs(spark, table.name, table.spec)
        got.update(spec=table.spec, train=refs["train"].load(), valid=refs["valid"].load())

    sets = [f"output.warehouse={warehouse}", *overrides]
    code = cli.run_job(f"train_throughput: prepare {name}", main,
                       argv=["--conf", conf_path(name)] + [a for s in sets for a in ("--set", s)])
    if code:
        raise SystemExit(code)
    return got


def subsample(data: Any, rows: int, seed: int) -> Any:
    """``rows`` random rows of ``data`` in storage order (all of them when ``rows`` is 0)."""
    import torch
    if rows <= 0 or rows >= len(data):
        return data
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))
    return data.subset(order[:rows].sort().values)


def search_params(overrides: Sequence[str], budget: dict) -> dict:
    """``AdaNetConfig().search_params()``: the library defaults, with the ``adanet.*``
    overrides of ``--set`` and ``budget`` (quick) applied, for ``ITERATIONS`` iterations."""
    from adanet_spark.config.adanet import AdaNetConfig
    from pydantic import ValidationError

    from adanet_spark.config.loader import bad_input, parse_override
    from adanet_spark.errors import BadInputError
    keys = dict(parse_override(s) for s in overrides)
    try:
        cfg = AdaNetConfig.model_validate({k[len("adanet."):]: v for k, v in keys.items()
                                           if k.startswith("adanet.")})
    except ValidationError as exc:  # one line naming the key, as the jobs' config errors do
        message = str(bad_input(exc, AdaNetConfig)).replace("config key '", "config key 'adanet.", 1)
        raise BadInputError(message) from None
    params = cfg.search_params()
    params["budget"] = dataclasses.replace(params["budget"], **budget)
    params["max_iterations"] = ITERATIONS
    return params


def search_candidates(spec: Any, data: dict, params: dict, seed: int) -> tuple[list, list]:
    """Run the search in process; every completed candidate's (payload, result), and its history."""
    from adanet_spark.adanet.protocol import COMPLETED, CandidateResult, InProcessExecutor
    from adanet_spark.adanet.search import AdaNetSearch

    class Recording(InProcessExecutor):
        def __init__(self):
            self.outcomes: list = []

        def run(self, tasks, train_fn, split_data):
            for outcome in super().run(tasks, train_fn, split_data):
                self.outcomes.append(outcome)
                yield outcome

    executor = Recording()
    search = AdaNetSearch(spec, **params, executor=executor, seed=seed).fit(data["train"], data["valid"])
    done = [(o.task.payload, CandidateResult.of(o.result)) for o in executor.outcomes
            if o.status == COMPLETED and o.result is not None]
    failed = [f"{o.task.name}: {o.status} {o.error}" for o in executor.outcomes if o.status != COMPLETED]
    return done, {"history": search.history_, "failed": failed}


# -- the run --------------------------------------------------------------------------------
def run_dataset(name: str, data: dict, params: dict, mode: dict, seed: int) -> tuple[list[dict], dict]:
    t0 = time.perf_counter()
    candidates, info = search_candidates(data["spec"], data, params, seed)
    log.info("%s: the search trained %d candidates in %.1f s", name, len(candidates), time.perf_counter() - t0)
    measured = []
    for payload, result in candidates:
        shape = describe(name, payload, result)
        trainer, bare = measure_shape(shape, payload, data, mode["repeats"], mode["bare_steps"])
        measured.append((shape, trainer, bare))
        log.info("%s: trainer %.0f rows/s, bare %.0f rows/s (CPU time)", shape["key"], trainer["rows_per_s"],
                 bare["rows_per_s"])
    info.update(train_rows=len(data["train"]), valid_rows=len(data["valid"]), wall_s=time.perf_counter() - t0)
    return measured, info


def inputs_info(spec: Any, params: dict) -> dict:
    """What the search's inputs look like: without quantile bins in the feature spec the
    generator proposes no piecewise-linear ("ple") candidate."""
    from adanet_spark.adanet.architecture import InputSpec
    inputs = InputSpec.from_feature_spec(spec, params["embedding_dim_cap"])
    return {"n_numeric": inputs.n_numeric, "cardinalities": list(inputs.cardinalities),
            "numeric_bin_edges": sum(len(b) for b in inputs.bins)}


def environment(args: argparse.Namespace, mode: dict, params: dict) -> dict:
    import torch
    info = open("/proc/cpuinfo").read() if os.path.exists("/proc/cpuinfo") else ""
    model = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")),
                 platform.processor())
    flags = next((line for line in info.splitlines() if line.startswith("flags")), "") + " "
    return {"quick": args.quick, "datasets": args.datasets, "threads": args.threads, "seed": args.seed,
            "repeats": mode["repeats"], "bare_steps": mode["bare_steps"], "peak_repeats": mode["peak_repeats"],
            "train_rows_cap": mode["train_rows"], "valid_rows_cap": mode["valid_rows"],
            "budget_overrides": mode["budget"], "set": list(args.overrides),
            "budget": dataclasses.asdict(params["budget"]), "space": dataclasses.asdict(params["space"]),
            "cpu": model, "avx2": " avx2 " in flags, "avx512f": " avx512f " in flags, "cpus": os.cpu_count(),
            "torch": torch.__version__, "python": platform.python_version(),
            "command": command_line(__file__, args.argv), "when": time.strftime("%Y-%m-%d %H:%M"),
            "flop_formula": "6 x sum(in x out) over hidden layers and head, per training row "
                            "(forward 2 x MACs, backward 2 x forward); embeddings, encoding and optimizer ignored"}


def measure(args: argparse.Namespace) -> dict:
    import torch
    mode = dict(QUICK if args.quick else FULL)
    mode.update({k: v for k, v in (("repeats", args.repeats), ("bare_steps", args.bare_steps)) if v})
    params = search_params(args.overrides, mode["budget"])
    prep_sets = [s for s in args.overrides if not s.startswith("adanet.")]
    with tempfile.TemporaryDirectory(prefix="train_throughput_") as warehouse:
        datasets = {name: prepare(name, warehouse, prep_sets) for name in args.datasets}
        from pyspark.sql import SparkSession
        active = SparkSession.getActiveSession()
        if active is not None:
            active.stop()  # the JVM must not compete with the timings
    torch.set_num_threads(args.threads)
    peak_start = measure_peak(PEAK_N, mode["peak_repeats"])
    measured, infos = [], {}
    for name, data in datasets.items():
        full = {"train_rows_table": len(data["train"]), "valid_rows_table": len(data["valid"])}
        data.update(train=subsample(data["train"], mode["train_rows"], args.seed),
                    valid=subsample(data["valid"], mode["valid_rows"], args.seed + 1))
        rows, infos[name] = run_dataset(name, data, params, mode, args.seed)
        infos[name].update(full, **inputs_info(data["spec"], params))
        measured += rows
    peak_end = measure_peak(PEAK_N, mode["peak_repeats"])
    return record(peak_start, peak_end, measured, infos, environment(args, mode, params))


def record(peak_start: dict, peak_end: dict, measured: Sequence[tuple], datasets: dict, setup: dict) -> dict:
    """The JSON record: the peak (median of the measurements before and after the shapes),
    one entry per shape from its (shape, trainer, bare) measurements, and their summary."""
    peak = median([peak_start["gflops"], peak_end["gflops"]])
    shapes = [shape_record(s, peak, t, b) for s, t, b in measured]
    return {"peak_gflops_per_core": peak, "peak": {"start": peak_start, "end": peak_end},
            "shapes": shapes, "summary": summary(shapes), "datasets": datasets,
            "load_average": round(os.getloadavg()[0], 2), "setup": setup}


# -- the report -----------------------------------------------------------------------------
def render_md(res: dict) -> str:
    s, peak, sm = res["setup"], res["peak"], res["summary"]
    pct = lambda x: f"{100 * x:.0f}%"  # noqa: E731
    lines = [
        "## Candidate training throughput", "", f"`{s['command']}`", "",
        f"{s['cpu']} ({s['cpus']} CPUs, AVX2 {'yes' if s['avx2'] else 'no'}, AVX-512 "
        f"{'yes' if s['avx512f'] else 'no'}), torch {s['torch']}, {s['threads']} thread(s); 1-min load average "
        f"{res['load_average']} at the end; {s['when']}.",
        "",
        f"**Peak: {res['peak_gflops_per_core']:.1f} GFLOP/s per core** (float32 `torch.mm` {PEAK_N}², 1 thread, "
        f"CPU time; {peak['start']['gflops']:.1f} before the shapes, {peak['end']['gflops']:.1f} after).",
        "",
        "Shapes: every candidate of a real 2-iteration search with the library defaults "
        "(`AdaNetConfig().search_params()`, generator adaptive) on the feature table "
        "`jobs/prepare_features.py` builds. Trainer: `train_candidate` end to end on that candidate's "
        "payload and data. Bare: `nn.Sequential` of Linear/ReLU of the same layer shapes, BCE, fused "
        "AdamW, random inputs, same batch. FLOPs per row = 6 x the forward multiply-adds (layers and "
        f"head; embeddings ignored). GFLOP/s on CPU time, medians of {s['repeats']} interleaved repeats; "
        "the time split is the trainer's (wall clock, fractions of its end-to-end time).",
    ]
    for name, d in res["datasets"].items():
        bins = ("" if d["numeric_bin_edges"] else "; its feature spec has no quantile bin edges, so the search "
                "proposed no piecewise-linear (ple) candidate")
        lines += ["", f"{name}: {d['train_rows']:,} train / {d['valid_rows']:,} valid rows (of "
                      f"{d['train_rows_table']:,} / {d['valid_rows_table']:,}); {d['n_numeric']} numeric and "
                      f"{len(d['cardinalities'])} categorical features{bins}."]
    if s["quick"]:
        lines += ["", f"**Quick run** ({s['train_rows_cap']:,} train / {s['valid_rows_cap']:,} valid rows sampled, "
                      f"budget overrides {s['budget_overrides']}): shapes and arithmetic only, not the record."]
    lines += ["", "| dataset | it. | candidate | layers (in x out) | batch | MFLOP/row | bare GFLOP/s | bare % peak "
              "| trainer GFLOP/s | trainer % peak | trainer / bare | fwd+bwd | optimizer | data | validation "
              "| other |", "|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in res["shapes"]:
        b = r["breakdown"]
        lines.append(
            f"| {r['dataset']} | {r['iteration']} | {r['name']} | "
            f"{layers_text(r['layers'])} | {r['batch_size']} | {r['flops_per_row'] / 1e6:.2f} "
            f"| {r['bare_gflops']:.1f} | {pct(r['bare_fraction_of_peak'])} | {r['trainer_gflops']:.1f} "
            f"| {pct(r['trainer_fraction_of_peak'])} | {r['trainer_vs_bare']:.2f} | {pct(b['forward_backward'])} "
            f"| {pct(b['optimizer'])} | {pct(b['data'])} | {pct(b['validation'])} | {pct(b['other'])} |")
    lines += ["", f"Median over the {sm['shapes']} shapes: trainer {pct(sm['trainer_fraction_of_peak_median'])} "
                  f"of peak (lowest {pct(sm['trainer_fraction_of_peak_min'])}), {sm['trainer_vs_bare_median']:.2f}x "
                  f"the bare MLP (lowest {sm['trainer_vs_bare_min']:.2f}x); bare MLP "
                  f"{pct(sm['bare_fraction_of_peak_median'])} of peak. Issue 14's targets (>= "
                  f"{pct(TARGET_FRACTION)} of peak and >= {TARGET_VS_BARE}x bare) are met on {sm['meet_targets']} "
                  f"of {sm['shapes']} shapes."]
    return "\n".join(lines)


def layers_text(layers: Sequence[Sequence[int]]) -> str:
    """``54x256, 512x256, 256x1``: in x out per layer (in includes the inputs connections read)."""
    return ", ".join(f"{i}x{o}" for i, o in layers)


def arguments(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    p = parser(__doc__, threads=1, seed=1)
    p.add_argument("--quick", action="store_true", help="sampled rows, 40 steps per candidate, fewer repeats")
    p.add_argument("--datasets", default=",".join(DATASETS), help="comma-separated, from conf/<name>.yaml")
    p.add_argument("--repeats", type=int, default=0, help="trainer and bare repeats per shape (default 3; quick 2)")
    p.add_argument("--bare-steps", type=int, default=0, help="bare MLP steps per repeat (default 200; quick 30)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="config override: adanet.* keys change the search, others the feature preparation")
    p.add_argument("--out-dir", default=OUT_DIR)
    args = p.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    args.datasets = [d for d in args.datasets.split(",") if d]
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = arguments(argv)
    missing = [d for d in args.datasets if not os.path.exists(conf_path(d))]
    if missing or not args.datasets:
        print(f"--datasets: no conf/<name>.yaml for {', '.join(missing) or '(none given)'}", file=sys.stderr)
        return 2
    spark_environment(driver_memory="2g")
    from adanet_spark.errors import BadInputError
    try:
        search_params(args.overrides, {})  # a bad --set fails here, before any work
    except (BadInputError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    res = measure(args)
    section = render_md(res)
    print(section)
    path = os.path.join(args.out_dir, "train_throughput_quick.json" if args.quick else "train_throughput.json")
    write_json(path, res)
    if not args.quick and not args.no_docs:  # a quick run never replaces the record
        write_section("train_throughput", section)
    print(f"wrote {os.path.relpath(path, REPO_ROOT)}" + ("" if args.quick or args.no_docs else
                                                         " and the train_throughput section of docs/BENCHMARKS.md"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
