"""Model save/load through Hadoop FS: a round trip, and an unknown URI named in the error."""
import numpy as np
import pytest
import torch

from adanet_spark.adanet.architecture import InputSpec, SubnetworkArch
from adanet_spark.adanet.ensemble import Ensemble
from adanet_spark.adanet.subnetwork import Subnetwork
from adanet_spark.data.spec import CategoricalFeature, FeatureSpec, NumericFeature
from adanet_spark.errors import BadInputError
from adanet_spark.results import models

SPEC = FeatureSpec(dataset="m", numeric=(NumericFeature("x", 0.5, 2.0, 0.5), NumericFeature("flag", 0.1, 1.0, 0.1)),
                   categorical=(CategoricalFeature("c", ("red", "blue")), CategoricalFeature("n", ("3", "7"))))


def small_ensemble(spec=SPEC):
    torch.manual_seed(0)
    inputs = InputSpec(len(spec.numeric), tuple(spec.cardinalities), 4)
    subs = [Subnetwork(SubnetworkArch(f"s{i}", depth=1 + i, width=3, inputs=inputs)) for i in range(2)]
    return Ensemble(subs, mixture=[0.7, 0.4], bias=-0.2)


def test_save_load_roundtrip(spark, tmp_path):
    ens = small_ensemble()
    uri = models.save_model(spark, f"file://{tmp_path}/m/iter-1", ens, SPEC, run_id="r", iteration=1)
    saved = models.load_model(spark, uri)
    assert saved.spec == SPEC and saved.meta["run_id"] == "r" and saved.meta["n_subnetworks"] == 2
    assert saved.meta["num_parameters"] == models.num_parameters(ens)
    x = (torch.randn(5, 2), torch.tensor([[0, 1], [1, 2], [2, 0], [1, 1], [0, 0]]))
    assert np.allclose(saved.ensemble().predict_proba(x), ens.predict_proba(x), atol=0)


def test_unknown_uri_names_it(spark, tmp_path):
    missing = f"{tmp_path}/nowhere/iter-0"
    with pytest.raises(BadInputError, match="nowhere/iter-0"):
        models.load_model(spark, missing)

