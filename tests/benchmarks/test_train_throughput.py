"""benchmarks/train_throughput.py: its arithmetic (FLOPs of a shape, fraction of peak, ratios),
the layer shapes of a real subnetwork, the bare MLP's shapes and the JSON record's keys.
Nothing here times anything: the benchmark itself runs for minutes."""
import os
import sys

import pytest
import torch

from adanet_spark.adanet.architecture import InputSpec, SubnetworkArch
from adanet_spark.adanet.inputs import embedding_dim
from adanet_spark.errors import BadInputError
from adanet_spark.paths import REPO_ROOT

sys.path.insert(0, os.path.join(REPO_ROOT, "benchmarks"))  # the script imports _common by bare name
import train_throughput as tt  # noqa: E402

LAYERS = [[54, 256], [512, 256], [256, 1]]  # a depth-2 candidate reading one frozen width-256 layer


def test_matmul_and_training_flops():
    assert tt.matmul_gflops(2048, 1.0) == pytest.approx(2 * 2048 ** 3 / 1e9)
    assert tt.forward_macs(LAYERS) == 54 * 256 + 512 * 256 + 256
    assert tt.train_flops_per_row(LAYERS) == 6 * (54 * 256 + 512 * 256 + 256)
    assert tt.gflops(1e6, 20_000, 2.0) == pytest.approx(10.0)
    assert tt.gflops(1e6, 20_000, 0.0) == 0.0


def test_fraction_of_peak():
    assert tt.fraction_of_peak(44.0, 88.0) == pytest.approx(0.5)
    assert tt.fraction_of_peak(44.0, 0.0) == 0.0


def test_layer_shapes_count_encoding_embeddings_and_connections():
    inputs = InputSpec(3, (10, 1000), 16, bins=((-1.0, 0.0, 1.0), (0.5,), ()))
    arch = SubnetworkArch(name="c", depth=2, width=32, inputs=inputs, encoding="ple",
                          reads=((), (0,)), extra_in=(0, 64))
    # 3 numerics + 2 piecewise-linear bins (a feature with one edge has none) + embeddings
    first = 3 + 2 + embedding_dim(10, 16) + embedding_dim(1000, 16)
    assert tt.layer_shapes(arch) == [[first, 32], [32 + 64, 32], [32, 1]]
    plain = SubnetworkArch(name="p", depth=1, width=8, inputs=inputs)
    assert tt.layer_shapes(plain) == [[first - 2, 8], [8, 1]]


def test_bare_mlp_has_the_layer_shapes_and_reads_random_connection_inputs():
    model = tt.bare_mlp(LAYERS, batch=4)
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    assert [[m.in_features, m.out_features] for m in linears] == LAYERS
    assert model(torch.randn(4, 54)).shape == (4, 1)
    split = tt.bare_runner(LAYERS, batch=4, pool=2)(3)
    assert set(split) == {"forward_backward", "optimizer"}


def test_breakdown_fractions_cover_the_end_to_end_time():
    timings = {"data_s": 1.0, "forward_backward_s": 5.0, "optimizer_s": 1.0, "validation_s": 1.0,
               "other_s": 0.5, "loop_s": 8.5, "total_s": 10.0}
    parts = tt.breakdown(timings)
    assert parts["other"] == pytest.approx(2.0) and parts["outside_loop"] == pytest.approx(1.5)
    frac = tt.fractions(parts)
    assert sum(frac[k] for k in (*tt.PARTS, "other")) == pytest.approx(1.0)
    assert frac["forward_backward"] == pytest.approx(0.5)
    # a part the trainer adds later is kept by name, not hidden in "other"
    assert tt.breakdown({**timings, "compile_s": 1.0})["compile"] == 1.0


def _measured(trainer_rows_per_s: float, bare_rows_per_s: float) -> tuple:
    shape = {"dataset": "d", "iteration": 0, "name": "c", "key": "d/0/c", "layers": LAYERS, "batch_size": 1024,
             "architecture": {}}
    trainer = {"rows_per_s": trainer_rows_per_s, "rows_per_s_wall": trainer_rows_per_s / 2, "rows": 40960.0,
               "breakdown_s": tt.breakdown({"forward_backward_s": 2.0, "optimizer_s": 1.0, "total_s": 4.0,
                                            "loop_s": 4.0})}
    bare = {"rows_per_s": bare_rows_per_s, "rows_per_s_wall": bare_rows_per_s / 2}
    return shape, trainer, bare


def test_record_holds_the_issue_s_keys_and_consistent_ratios():
    peak = {"gflops": 80.0}
    res = tt.record(peak, {"gflops": 100.0}, [_measured(40_000, 80_000), _measured(70_000, 80_000)], {}, {})
    assert res["peak_gflops_per_core"] == pytest.approx(90.0)
    flops = tt.train_flops_per_row(LAYERS)
    first = res["shapes"][0]
    for key in ("trainer_gflops", "bare_gflops", "trainer_fraction_of_peak", "bare_fraction_of_peak",
                "trainer_vs_bare", "breakdown", "breakdown_s", "flops_per_row", "layers", "batch_size"):
        assert key in first
    assert first["trainer_gflops"] == pytest.approx(flops * 40_000 / 1e9)
    assert first["trainer_fraction_of_peak"] == pytest.approx(first["trainer_gflops"] / 90.0)
    assert first["trainer_vs_bare"] == pytest.approx(0.5)
    assert first["trainer_steps_gflops_wall"] == pytest.approx(flops * 40960 / 3.0 / 1e9)
    assert res["summary"]["trainer_vs_bare_min"] == pytest.approx(0.5)
    # 70k rows/s: 0.875x bare and 6 * 145,152 * 70,000 = 61 GFLOP/s = 68% of 90: both targets met
    assert res["summary"]["meet_targets"] == 1


def test_search_params_are_the_library_defaults_with_overrides():
    params = tt.search_params([], {})
    from adanet_spark.config.adanet import AdaNetConfig
    defaults = AdaNetConfig().search_params()
    assert params["budget"] == defaults["budget"] and params["space"] == defaults["space"]
    assert params["max_iterations"] == tt.ITERATIONS
    quick = tt.search_params(["adanet.batch_size=2048", "features.top_k=10"], tt.QUICK["budget"])
    assert quick["budget"].batch_size == 2048 and quick["budget"].max_steps == 40
    with pytest.raises(BadInputError, match="adanet.batch_size"):
        tt.search_params(["adanet.batch_size=0"], {})


def test_render_md_shows_every_shape():
    res = tt.record({"gflops": 88.0}, {"gflops": 88.0}, [_measured(40_000, 80_000)],
                    {"d": {"train_rows": 10, "valid_rows": 5, "train_rows_table": 20, "valid_rows_table": 5,
                           "n_numeric": 6, "cardinalities": [3], "numeric_bin_edges": 0}},
                    {"command": "x", "cpu": "cpu", "cpus": 2, "avx2": True, "avx512f": False, "torch": "t",
                     "threads": 1, "when": "now", "repeats": 3, "quick": False})
    text = tt.render_md(res)
    assert "| d | 0 | c | 54x256, 512x256, 256x1 | 1024 |" in text
    assert "88.0 GFLOP/s per core" in text and "no piecewise-linear" in text
