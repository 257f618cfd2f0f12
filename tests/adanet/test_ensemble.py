import numpy as np
import pytest
import torch

from adanet_spark.adanet.architecture import (CandidateSpec, EnsembleArch, InputSpec, SubnetworkArch,
                                              build_subnetwork_arch)
from adanet_spark.adanet.ensemble import Ensemble, safetensors_metadata
from adanet_spark.adanet.inputs import InputLayer, embedding_dim
from adanet_spark.adanet.subnetwork import Subnetwork, complexity
from tests.adanet.adanet_data import parity_data

INPUTS = InputSpec(6, (4, 6), 16)


def _grown_ensemble() -> Ensemble:
    """Three subnetworks with connections and random (not zero) heads, built by hand."""
    gen = torch.Generator().manual_seed(0)
    arch, subs = EnsembleArch(), []
    for i, depth in enumerate((1, 2, 3)):
        spec = CandidateSpec(f"s{i}", depth, 8, 1e-3, INPUTS, batch_norm=(i == 2))
        sub = Subnetwork(build_subnetwork_arch(spec, arch), generator=gen)
        torch.nn.init.normal_(sub.head.weight, generator=gen)
        arch, subs = arch.extended(sub.arch), subs + [sub]
    return Ensemble(subs, mixture=[0.5, -1.0, 2.0], bias=0.25)


def test_connections_read_earlier_hidden_layers():
    ens = _grown_ensemble()
    last = ens.architecture.subnetworks[2]
    assert last.reads == ((), (0, 1), (1,))  # layer k reads layer k-1 of those deep enough
    assert last.extra_in == (0, 16, 8)
    assert ens.subnetworks[2].layers[1].in_features == 8 + 16


def test_forward_is_bias_plus_weighted_subnetwork_logits():
    ens = _grown_ensemble()
    d = parity_data(50, 0)
    z, _ = ens.subnetwork_outputs(d.numeric, d.categorical)
    assert z.shape == (50, 3)
    torch.testing.assert_close(ens(d.numeric, d.categorical), 0.25 + z @ torch.tensor([0.5, -1.0, 2.0]))
    assert not any(p.requires_grad for s in ens.subnetworks for p in s.parameters())


def test_save_load_bytes_and_parts_give_identical_predictions(tmp_path):
    ens = _grown_ensemble()
    d = parity_data(300, 1)
    expected = ens.predict_proba(d)
    ens.save(str(tmp_path / "m"))
    assert (tmp_path / "m" / "architecture.json").exists()
    for other in (Ensemble.load(str(tmp_path / "m")), Ensemble.from_bytes(ens.to_bytes()),
                  Ensemble.from_parts(*ens.to_parts()),
                  Ensemble.from_parts(ens.to_parts()[0], {k: v.numpy() for k, v in ens.to_parts()[1].items()})):
        assert other.architecture == ens.architecture
        np.testing.assert_array_equal(other.predict_proba(d), expected)
    np.testing.assert_array_equal(ens.predict_proba((d.numeric, d.categorical)), expected)
    assert EnsembleArch.from_json(safetensors_metadata(ens.to_bytes())["architecture"]) == ens.architecture


def test_bias_only_ensemble_round_trips():
    ens = Ensemble(bias=-1.5)
    back = Ensemble.from_bytes(ens.to_bytes())
    assert len(back) == 0
    np.testing.assert_allclose(back.predict_proba(parity_data(5, 0)), 1 / (1 + np.exp(1.5)), rtol=1e-6)


def test_embedding_dims_are_capped_and_padding_stays_out():
    assert embedding_dim(2, 16) == 2 and embedding_dim(10_000, 16) == 16 and embedding_dim(5, 1) == 1
    layer = InputLayer(InputSpec(2, (3, 500), 8))
    assert layer.out_dim == 2 + embedding_dim(3, 8) + 8
    out = layer(torch.zeros(4, 2), torch.tensor([[0, 0], [2, 499], [1, 7], [2, 3]]))
    assert out.shape == (4, layer.out_dim)


def test_complexities():
    ens = _grown_ensemble()
    assert ens.complexities("sqrt_depth", 100) == pytest.approx([1.0, 2 ** 0.5, 3 ** 0.5])
    r = ens.complexities("rademacher", 1000)
    assert all(v > 0 for v in r)
    sub = ens.subnetworks[0]
    with torch.no_grad():
        sub.head.weight.mul_(2.0)  # r scales with the weights, unlike sqrt_depth
    assert complexity(sub, "rademacher", 1000) == pytest.approx(2 * r[0])
    assert complexity(sub, "rademacher", 4000) == pytest.approx(r[0])  # 1/sqrt(m)


def test_architecture_json_round_trip_and_format_check():
    arch = _grown_ensemble().architecture
    assert EnsembleArch.from_json(arch.to_json()) == arch
    assert SubnetworkArch.from_dict(arch.subnetworks[2].to_dict()) == arch.subnetworks[2]
    with pytest.raises(ValueError, match="not an AdaNet ensemble"):
        EnsembleArch.from_dict({"subnetworks": []})


def test_chunked_inference_matches_one_pass(monkeypatch):
    from adanet_spark.adanet import ensemble as ensemble_mod
    ens = _grown_ensemble()
    d = parity_data(50, 3)
    monkeypatch.setattr(ensemble_mod, "FORWARD_CHUNK", 7)  # 50 rows: 8 chunks, the last one short
    torch.testing.assert_close(ens.predict_logits(d), ens(d.numeric, d.categorical))
