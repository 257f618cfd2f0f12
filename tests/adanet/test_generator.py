import json

import pytest

from adanet_spark.adanet.architecture import CandidateSpec, EnsembleArch, InputSpec, build_subnetwork_arch
from adanet_spark.adanet.generator import (DefaultGenerator, Generator, SearchSpace, generator_names,
                                           make_generator, register_generator)
from adanet_spark.adanet.search import AdaNetSearch
from tests.adanet.adanet_data import fast_params, make_spec, parity_data

INPUTS = InputSpec(3, (5,), 16)


def _space(**overrides) -> SearchSpace:
    """The search space of the fast test parameters."""
    return AdaNetSearch(make_spec(3, (5,)), **fast_params(**overrides)).search_space()


def _ensemble_of(*depths):
    arch = EnsembleArch()
    for d in depths:
        arch = arch.extended(build_subnetwork_arch(CandidateSpec(f"d{d}", d, 8, 1e-3, INPUTS), arch))
    return arch


def test_default_rules_same_and_deeper_with_readable_names():
    gen = make_generator("default", _space(widths=(32,), learning_rates=(1e-3,)), INPUTS)
    assert isinstance(gen, DefaultGenerator) and gen.inputs == INPUTS
    assert [s.name for s in gen.generate(EnsembleArch(), [], 0)] == ["same-d1-w32", "deeper-d2-w32"]
    assert [s.name for s in gen.generate(_ensemble_of(1, 2), [], 2)] == ["same-d2-w32", "deeper-d3-w32"]
    capped = make_generator("default", _space(max_depth=2), INPUTS)
    assert [s.depth for s in capped.generate(_ensemble_of(2), [], 1)] == [2]


def test_widths_and_learning_rates_vary_and_names_stay_unique():
    space = _space(widths=(32, 64), learning_rates=(3e-3, 1e-3), candidates_per_iteration=6)
    specs = make_generator("default", space, INPUTS).generate(_ensemble_of(1), [], 1)
    names = [s.name for s in specs]
    assert len(specs) == 6 and len(set(names)) == 6
    assert names[:4] == ["same-d1-w32-lr0.003", "deeper-d2-w32-lr0.003", "same-d1-w64-lr0.001",
                         "deeper-d2-w64-lr0.001"]
    for s in specs:  # plain and JSON-serialisable
        assert CandidateSpec.from_dict(json.loads(s.to_json())) == s


def test_search_space_options_reach_every_candidate():
    space = SearchSpace(widths=(16,), learning_rates=(1e-2,), activation="tanh", dropout=0.25,
                        batch_norm=True, connections=False)
    for s in DefaultGenerator(space, INPUTS).generate(_ensemble_of(1), [], 1):
        assert (s.activation, s.dropout, s.batch_norm, s.connections, s.inputs) == \
            ("tanh", 0.25, True, False, INPUTS)


def test_registry_accepts_new_generators():
    @register_generator("only-shallow")
    class OnlyShallow(Generator):
        def generate(self, previous, reports, iteration):
            return [CandidateSpec(f"shallow-{iteration}", 1, 8, 1e-3, self.inputs)]

    assert "only-shallow" in generator_names()
    assert [s.name for s in make_generator("only-shallow", SearchSpace(), INPUTS).generate(
        EnsembleArch(), [], 4)] == ["shallow-4"]
    data = parity_data(300, 0)
    search = AdaNetSearch(make_spec(6, (4, 6)), **fast_params(generator="only-shallow", max_iterations=1,
                                                              epochs=1)).fit(data, data)
    assert isinstance(search.generator_, OnlyShallow)
    assert {r.candidate for r in search.reports_ if r.kind == "candidate"} == {"shallow-0"}


def test_unknown_generator_is_a_value_error_listing_the_registered_ones():
    with pytest.raises(ValueError, match="unknown generator 'nope'.*default"):
        make_generator("nope", SearchSpace(), INPUTS)
