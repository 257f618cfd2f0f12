"""The input layer: numeric features plus per-feature embeddings, initialised to the scale of
one standardised numeric feature whatever their width."""
import torch

from adanet_spark.adanet.architecture import InputSpec
from adanet_spark.adanet.inputs import InputLayer, embedding_dim


def test_embedding_width_grows_slowly_with_cardinality_up_to_the_cap():
    assert [embedding_dim(c, 16) for c in (2, 5, 30, 100, 5000)] == [2, 4, 11, 16, 16]
    assert embedding_dim(5000, 8) == 8 and embedding_dim(1, 1) == 1


def test_embeddings_start_with_unit_expected_norm_and_zero_padding():
    layer = InputLayer(InputSpec(2, (4000, 5), 16), generator=torch.Generator().manual_seed(0))
    dims = [embedding_dim(4000, 16), embedding_dim(5, 16)]
    assert dims == [16, 4] and layer.out_dim == 2 + 16 + 4
    table = layer.table.weight.detach()
    wide, narrow = table[:4000], table[4000:]
    # N(0, 1/d) entries: a row's squared norm is 1 on average, not d
    assert abs(float(wide.pow(2).sum(1).mean()) - 1.0) < 0.05
    assert abs(float(narrow[:, :4].pow(2).mean()) * 4 - 1.0) < 0.8 and torch.all(narrow[:, 4:] == 0)
    out = layer(torch.zeros(3, 2), torch.tensor([[0, 0], [1, 2], [3999, 4]]))
    assert out.shape == (3, 22)
    torch.testing.assert_close(out[1, 2:18], table[1])  # feature 0's row, its full width
    torch.testing.assert_close(out[1, 18:], table[4000 + 2, :4])  # feature 1's row, padding dropped


def test_the_same_generator_gives_the_same_table():
    spec = InputSpec(0, (50, 7), 16)
    a, b = (InputLayer(spec, generator=torch.Generator().manual_seed(3)) for _ in range(2))
    assert torch.equal(a.table.weight, b.table.weight)
