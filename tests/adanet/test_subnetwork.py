import torch

from adanet_spark.adanet.architecture import CandidateSpec, EnsembleArch, InputSpec, build_subnetwork_arch
from adanet_spark.adanet.subnetwork import Subnetwork, linear_of_parts
from tests.adanet.adanet_data import parity_data


def test_a_layer_over_parts_equals_the_layer_over_their_concatenation_with_the_same_gradients():
    torch.manual_seed(0)
    layer = torch.nn.Linear(7, 5)
    const, trained = torch.randn(32, 4), torch.randn(32, 3, requires_grad=True)
    split = linear_of_parts(layer, [const, trained])
    split.square().sum().backward()
    got = (layer.weight.grad.clone(), layer.bias.grad.clone(), trained.grad.clone())
    layer.zero_grad()
    trained.grad = None
    whole = layer(torch.cat([const, trained], dim=1))
    whole.square().sum().backward()
    torch.testing.assert_close(split, whole)
    torch.testing.assert_close(got, (layer.weight.grad, layer.bias.grad, trained.grad))
    with torch.no_grad():  # without a gradient (one matmul over the concatenation): the same output
        torch.testing.assert_close(linear_of_parts(layer, [const, trained]), whole)


def test_the_first_layer_differentiates_the_embeddings_but_not_the_numeric_encoding():
    inputs = InputSpec(2, (4, 6), 16, bins=((0.0, 0.5, 1.0), (-1.0, 1.0)))
    spec = CandidateSpec("c", 2, 8, 1e-3, inputs, encoding="ple")
    sub = Subnetwork(build_subnetwork_arch(spec, EnsembleArch()), generator=torch.Generator().manual_seed(0))
    torch.nn.init.normal_(sub.head.weight)
    d = parity_data(40, 0)
    numeric = d.numeric[:, :2].clone()
    parts = sub.inputs.parts(numeric, d.categorical)
    assert [p.requires_grad for p in parts] == [False, True]
    torch.testing.assert_close(torch.cat(parts, dim=1), sub.inputs(numeric, d.categorical))
    sub(numeric, d.categorical).sum().backward()
    assert sub.inputs.table.weight.grad.abs().sum() > 0 and sub.layers[0].weight.grad.abs().sum() > 0
