import dataclasses
import json

import pytest

from adanet_data import fast_config, make_spec
from adanet_spark.adanet.architecture import CandidateSpec, EnsembleArch, InputSpec, build_subnetwork_arch
from adanet_spark.adanet.generator import Generator, generator_names, make_generator, register_generator
from adanet_spark.adanet.search import AdaNetSearch
from adanet_spark.config import AdaNetConfig, validate_adanet
from adanet_spark.errors import BadInputError

INPUTS = InputSpec(3, (5,), 16)


def _ensemble_of(*depths):
    arch = EnsembleArch()
    for d in depths:
        arch = arch.extended(build_subnetwork_arch(CandidateSpec(f"d{d}", d, 8, 1e-3, INPUTS), arch))
    return arch


def test_default_rules_same_and_deeper_with_readable_names():
    gen = make_generator("default", fast_config(widths=[32], learning_rates=[1e-3]), INPUTS)
    assert [s.name for s in gen.generate(EnsembleArch(), [], 0)] == ["same-d1-w32", "deeper-d2-w32"]
    assert [s.name for s in gen.generate(_ensemble_of(1, 2), [], 2)] == ["same-d2-w32", "deeper-d3-w32"]
    capped = make_generator("default", fast_config(max_depth=2), INPUTS)
    assert [s.depth for s in capped.generate(_ensemble_of(2), [], 1)] == [2]


def test_widths_and_learning_rates_vary_and_names_stay_unique():
    cfg = fast_config(widths=[32, 64], learning_rates=[3e-3, 1e-3], candidates_per_iteration=6)
    specs = make_generator("default", cfg, INPUTS).generate(_ensemble_of(1), [], 1)
    names = [s.name for s in specs]
    assert len(specs) == 6 and len(set(names)) == 6
    assert names[:4] == ["same-d1-w32-lr0.003", "deeper-d2-w32-lr0.003", "same-d1-w64-lr0.001",
                         "deeper-d2-w64-lr0.001"]
    for s in specs:  # plain and JSON-serialisable
        assert CandidateSpec.from_dict(json.loads(s.to_json())) == s


def test_registry_accepts_new_generators():
    @register_generator("only-shallow")
    class OnlyShallow(Generator):
        def generate(self, previous, reports, iteration):
            return [CandidateSpec(f"shallow-{iteration}", 1, 8, 1e-3, self.inputs)]

    assert "only-shallow" in generator_names()
    cfg = dataclasses.replace(AdaNetConfig(), generator="only-shallow")
    validate_adanet(cfg)
    search = AdaNetSearch(cfg, make_spec(3, (5,)))
    assert [s.name for s in search.generator.generate(EnsembleArch(), [], 4)] == ["shallow-4"]


@pytest.mark.parametrize("overrides,key", [
    ({"lambda_": -0.1}, "adanet.lambda"),
    ({"max_depth": 0}, "adanet.max_depth"),
    ({"widths": []}, "adanet.widths"),
    ({"generator": "no-such-generator"}, "adanet.generator"),
    ({"beta": -1.0}, "adanet.beta"),
    ({"learning_rates": []}, "adanet.learning_rates"),
    ({"patience": -1}, "adanet.patience"),
])
def test_bad_config_names_the_key(overrides, key):
    cfg = dataclasses.replace(AdaNetConfig(), **overrides)
    with pytest.raises(BadInputError, match=f"'{key}'"):
        validate_adanet(cfg)
    with pytest.raises(BadInputError, match=f"'{key}'"):
        AdaNetSearch(cfg, make_spec(3, (5,)))


def test_unknown_generator_in_yaml_is_bad_input(tmp_path):
    from adanet_spark.config import load_config
    path = tmp_path / "job.yaml"
    path.write_text("adanet:\n  generator: nope\n")
    with pytest.raises(BadInputError, match="'adanet.generator'.*default"):
        load_config(str(path))
