"""Generators: the registry, the simple (same/deeper) rules, and the adaptive rules that read the
last winner's report (overfit -> regularise, underfit -> more steps) and say why."""
import json

import pytest

from adanet_spark.adanet.architecture import CandidateSpec, EnsembleArch, InputSpec, build_subnetwork_arch
from adanet_spark.adanet.generator import (AdaptiveGenerator, DefaultGenerator, Generator, SearchSpace,
                                           generator_names, make_generator, register_generator)
from adanet_spark.adanet.reports import ReportRecord
from adanet_spark.adanet.search import AdaNetSearch
from tests.adanet.adanet_data import fast_params, make_spec, parity_data

INPUTS = InputSpec(3, (5,), 16)
BINNED = InputSpec(3, (5,), 16, bins=((-1.0, 0.0, 1.0), (), (0.0, 2.0)))


def _space(**overrides) -> SearchSpace:
    """The search space of the fast test parameters."""
    return fast_params(**overrides)["space"]


def _ensemble_of(*depths):
    arch = EnsembleArch()
    for d in depths:
        arch = arch.extended(build_subnetwork_arch(CandidateSpec(f"d{d}", d, 8, 1e-3, INPUTS), arch))
    return arch


# -- the simple generator ------------------------------------------------------------------
def test_simple_rules_same_and_deeper_with_readable_names():
    gen = make_generator("simple", _space(widths=(32,), learning_rates=(1e-3,)), INPUTS)
    assert isinstance(gen, DefaultGenerator) and gen.inputs == INPUTS
    assert [s.name for s in gen.generate(EnsembleArch(), [], 0)] == ["same-d1-w32", "deeper-d2-w32"]
    assert [s.name for s in gen.generate(_ensemble_of(1, 2), [], 2)] == ["same-d2-w32", "deeper-d3-w32"]
    capped = make_generator("simple", _space(max_depth=2), INPUTS)
    assert [s.depth for s in capped.generate(_ensemble_of(2), [], 1)] == [2]


def test_widths_and_learning_rates_vary_and_names_stay_unique():
    space = _space(widths=(32, 64), learning_rates=(3e-3, 1e-3), candidates_per_iteration=6)
    specs = make_generator("simple", space, INPUTS).generate(_ensemble_of(1), [], 1)
    names = [s.name for s in specs]
    assert len(specs) == 6 and len(set(names)) == 6
    assert names[:4] == ["same-d1-w32-lr0.003", "deeper-d2-w32-lr0.003", "same-d1-w64-lr0.001",
                         "deeper-d2-w64-lr0.001"]
    for s in specs:  # plain and JSON-serialisable
        assert CandidateSpec.from_dict(json.loads(s.to_json())) == s


@pytest.mark.parametrize("name", ["simple", "adaptive"])
def test_search_space_options_reach_every_candidate(name):
    space = SearchSpace(widths=(16,), learning_rates=(1e-2,), activation="tanh", dropout=0.25,
                        batch_norm=True, connections=False)
    for s in make_generator(name, space, INPUTS).generate(EnsembleArch(), [], 0):
        assert (s.activation, s.dropout, s.batch_norm, s.connections, s.inputs, s.width) == \
            ("tanh", 0.25, True, False, INPUTS, 16)


def test_registry_accepts_new_generators():
    @register_generator("only-shallow")
    class OnlyShallow(Generator):
        def generate(self, previous, reports, iteration):
            return [CandidateSpec(f"shallow-{iteration}", 1, 8, 1e-3, self.inputs)]

    assert {"only-shallow", "simple", "adaptive"} <= set(generator_names())
    assert [s.name for s in make_generator("only-shallow", SearchSpace(), INPUTS).generate(
        EnsembleArch(), [], 4)] == ["shallow-4"]
    data = parity_data(300, 0)
    search = AdaNetSearch(make_spec(6, (4, 6)), **fast_params(generator="only-shallow", max_iterations=1,
                                                              min_steps=20, max_steps=20)).fit(data, data)
    assert isinstance(search.generator_, OnlyShallow)
    assert {r.candidate for r in search.reports_ if r.kind == "candidate"} == {"shallow-0"}


def test_unknown_generator_is_a_value_error_listing_the_registered_ones():
    with pytest.raises(ValueError, match="unknown generator 'nope'.*adaptive.*simple"):
        make_generator("nope", SearchSpace(), INPUTS)


# -- the adaptive generator ----------------------------------------------------------------
def adaptive(inputs=INPUTS, **space):
    return AdaptiveGenerator(_space(**{"candidates_per_iteration": 3, **space}), inputs)


def winner(best_step, total_steps=100, iteration=0, name="first-d2-w32-plain", n_subnetworks=1, **hyper):
    """The report of a selected candidate, as the ReportMaterializer writes it."""
    hyper = {"depth": 2, "width": 32, "learning_rate": 2e-3, "dropout": 0.1, "weight_decay": 1e-5,
             "steps_scale": 1.0, "encoding": "plain", "steps_run": total_steps, "best_step": best_step,
             "total_steps": total_steps, **hyper}
    return ReportRecord(kind="candidate", iteration=iteration, candidate=name, status="completed", selected=True,
                        architecture_json="{}", hyperparameters_json=json.dumps(hyper),
                        n_subnetworks=n_subnetworks)


def iteration(number, selected):
    return ReportRecord(kind="iteration", iteration=number, candidate=selected or "previous", status="completed",
                        selected=True, architecture_json="{}")


def settings(specs):
    """The distinct (dropout, weight decay, learning rate, steps scale) of ``specs``, to 10 digits."""
    def r(x):
        return None if x is None else float(f"{x:.10g}")
    return {(r(s.dropout), r(s.weight_decay), r(s.learning_rate), r(s.steps_scale)) for s in specs}


def test_the_first_iteration_tries_each_encoding_when_the_inputs_have_bins():
    specs = adaptive(BINNED, candidates_per_iteration=4).generate(EnsembleArch(), [], 0)
    assert [s.name for s in specs] == ["first-d2-w32-ple", "first-d1-w32-ple", "first-d2-w32-plain",
                                       "first-d1-w32-plain"]
    assert [s.encoding for s in specs] == ["ple", "ple", "plain", "plain"]
    assert {(s.learning_rate, s.rationale) for s in specs} == {(3e-3, "first iteration")}


def test_the_first_iteration_proposes_only_plain_without_bins():
    specs = adaptive(INPUTS, candidates_per_iteration=4).generate(EnsembleArch(), [], 0)
    assert [s.name for s in specs] == ["first-d2-w32-plain", "first-d1-w32-plain"]
    only_plain = adaptive(BINNED, candidates_per_iteration=4, encodings=("plain",))
    assert {s.encoding for s in only_plain.generate(EnsembleArch(), [], 0)} == {"plain"}


def test_an_overfit_winner_gets_more_dropout_and_decay_and_half_the_rate():
    specs = adaptive().generate(_ensemble_of(2), [winner(best_step=20)], 1)
    assert [s.name for s in specs] == ["same-d2-w32-plain", "deeper-d3-w32-plain", "wider-d2-w64-plain"]
    assert [(s.kind, s.depth, s.width) for s in specs] == [("same", 2, 32), ("deeper", 3, 32), ("wider", 2, 64)]
    # half the rate for overfitting, and half again as the first candidate joining an ensemble (shrinkage)
    assert settings(specs) == {(0.25, 1e-4, 5e-4, 1.0)}
    assert all("peaked at 20% of its budget: regularised x1" in s.rationale for s in specs)
    joined = adaptive().generate(_ensemble_of(2, 2), [winner(best_step=20, n_subnetworks=2, learning_rate=1e-3)], 2)
    assert {lr for _, _, lr, _ in settings(joined)} == {5e-4}  # its rate was already shrunk


def test_an_underfit_winner_gets_twice_the_steps():
    specs = adaptive().generate(_ensemble_of(2), [winner(best_step=95)], 1)
    assert settings(specs) == {(0.1, 1e-5, 1e-3, 2.0)}
    assert all("still improved at 95%" in s.rationale and "twice the steps" in s.rationale for s in specs)
    capped = adaptive().generate(_ensemble_of(2), [winner(best_step=100, steps_scale=4.0)], 1)
    assert {s.steps_scale for s in capped} == {4.0}


def test_a_winner_that_peaked_midway_keeps_its_settings_and_its_encoding():
    specs = adaptive().generate(_ensemble_of(2), [winner(best_step=60, encoding="ple")], 1)
    assert settings(specs) == {(0.1, 1e-5, 1e-3, 1.0)}
    assert {s.encoding for s in specs} == {"ple"} and all(s.name.endswith("-ple") for s in specs)
    assert all("peaked at 60%: same settings" in s.rationale for s in specs)


def test_the_latest_winner_is_read_and_shapes_are_capped():
    reports = [winner(best_step=95), iteration(0, "first-d2-w32-plain"),
               winner(best_step=50, iteration=1, name="deeper-d3-w32-plain", n_subnetworks=2, depth=3,
                      learning_rate=1e-3), iteration(1, "deeper-d3-w32-plain")]
    specs = adaptive(max_depth=3, max_width=32).generate(_ensemble_of(2, 3), reports, 2)
    assert [s.name for s in specs] == ["same-d3-w32-plain"]  # deeper and wider are past the caps
    assert "deeper-d3-w32-plain (iteration 1)" in specs[0].rationale


def after(best_step, failed, **hyper):
    """The settings proposed after a winner that peaked at ``best_step`` of 100 and then
    ``failed`` iterations that improved nothing: (settings, specs)."""
    reports = [winner(best_step=best_step, **hyper), iteration(0, "first-d2-w32-plain")]
    reports += [iteration(n, None) for n in range(1, failed + 1)]
    specs = adaptive().generate(_ensemble_of(2), reports, failed + 1)
    (one,) = settings(specs)
    return one, specs


def test_after_an_iteration_that_improved_nothing_it_regularises_whatever_the_report():
    (d1, w1, lr1, _), _ = after(best_step=60, failed=0)
    (d2, w2, lr2, _), again = after(best_step=60, failed=1)
    assert (d2, w2, lr2) == (0.25, 1e-4, 5e-4) and d2 > d1 and w2 > w1 and lr2 < lr1
    assert all("1 iteration(s) improved nothing since first-d2-w32-plain: regularised x1" in s.rationale
               for s in again)
    (_, _, _, steps), _ = after(best_step=95, failed=1)  # an underfit winner: regularised, not longer
    assert steps == 1.0


def test_after_an_overfit_winner_and_a_failed_iteration_it_regularises_further():
    """The failed iteration already had the overfit winner's regularisation (strength 1):
    the extra iteration gets strength 2, not the failed candidates' settings again."""
    tried, _ = after(best_step=20, failed=0)
    (d, w, lr, _), specs = after(best_step=20, failed=1)
    assert tried == (0.25, 1e-4, 5e-4, 1.0)
    assert (d, w, lr) == (0.4, 4e-4, 2.5e-4)  # dropout +0.15 x2, decay x4, rate x0.5 x2 (x0.5 joining)
    assert all("regularised x2" in s.rationale for s in specs)


def test_each_failed_iteration_in_a_row_regularises_once_more_and_dropout_is_capped():
    strengths = [after(best_step=60, failed=n)[0] for n in range(4)]
    decays = [w for _, w, _, _ in strengths]
    rates = [lr for _, _, lr, _ in strengths]
    assert [d for d, _, _, _ in strengths] == [0.1, 0.25, 0.4, 0.5]  # +0.15 a step, capped at 0.5
    assert decays == [1e-5, 1e-4, 4e-4, 1.6e-3]  # at least 1e-4, then x4 a step
    assert rates == [1e-3, 5e-4, 2.5e-4, 1.25e-4]
    (_, heavy, _, _), _ = after(best_step=60, failed=2, weight_decay=1e-3)  # a decay above the floor
    assert heavy == 4e-3


def test_failed_iterations_before_the_latest_winner_do_not_count():
    reports = [winner(best_step=60), iteration(0, "first-d2-w32-plain"), iteration(1, None), iteration(2, None),
               winner(best_step=60, iteration=3, name="same-d2-w32-plain", n_subnetworks=2, learning_rate=1e-3),
               iteration(3, "same-d2-w32-plain")]
    specs = adaptive().generate(_ensemble_of(2, 2), reports, 4)
    assert settings(specs) == {(0.1, 1e-5, 1e-3, 1.0)}  # the new winner's settings, unregularised
    assert all("same-d2-w32-plain (iteration 3) peaked at 60%: same settings" in s.rationale for s in specs)
    failed_since = reports + [iteration(4, None)]
    assert settings(adaptive().generate(_ensemble_of(2, 2), failed_since, 5)) == {(0.25, 1e-4, 5e-4, 1.0)}
