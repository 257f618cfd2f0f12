import json
import math

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from adanet_spark.adanet import AdaNetSearch, Ensemble, InMemorySink, replay
from adanet_spark.adanet.architecture import CandidateSpec, InputSpec
from adanet_spark.adanet.generator import AdaptiveGenerator, DefaultGenerator, SearchSpace
from adanet_spark.adanet.metrics import roc_auc
from adanet_spark.adanet.protocol import COMPLETED, FAILED, InProcessExecutor
from adanet_spark.adanet.budget import TrainBudget
from tests.adanet.adanet_data import fast_params, make_spec, parity_data


def _one_hot(data, width=8):
    cats = np.eye(width)[data.categorical.numpy()].reshape(len(data), -1)
    return np.hstack([data.numeric.numpy(), cats])


@pytest.fixture(scope="module")
def parity_search():
    """One search on the parity data, shared by the tests that only read its results."""
    data = {"spec": make_spec(6, (4, 6)), "train": parity_data(4000, 0), "valid": parity_data(1000, 1),
            "test": parity_data(2000, 2)}
    calls = []
    search = AdaNetSearch(data["spec"], **fast_params(), seed=7,
                          on_iteration_end=lambda it, ens, recs: calls.append((it, len(ens), len(recs))))
    search.fit(data["train"], data["valid"])
    return search, data, calls


def test_linear_data_stops_after_one_or_two_subnetworks(linear):
    search = AdaNetSearch(linear["spec"], **fast_params(max_iterations=4, beta=0.005, min_improvement=1e-3)).fit(
        linear["train"], linear["valid"])
    assert 1 <= len(search.ensemble_) <= 2
    assert search.stopped_early_
    lr = LogisticRegression(max_iter=1000).fit(_one_hot(linear["train"]), linear["train"].label.numpy())
    lr_auc = roc_auc(linear["test"].label, lr.decision_function(_one_hot(linear["test"])))
    assert roc_auc(linear["test"].label, search.predict_proba(linear["test"])) > lr_auc - 0.01


def test_parity_grows_deeper_and_beats_logistic_regression(parity_search):
    search, data, _ = parity_search
    assert max(search.ensemble_.architecture.depths) >= 2
    auc = roc_auc(data["test"].label, search.predict_proba(data["test"]))
    lr = LogisticRegression(max_iter=1000).fit(_one_hot(data["train"]), data["train"].label.numpy())
    lr_auc = roc_auc(data["test"].label, lr.decision_function(_one_hot(data["test"])))
    print(f"parity: AdaNet AUC {auc:.4f}, logistic regression AUC {lr_auc:.4f}")
    assert auc > lr_auc + 0.2


def test_selected_objective_never_increases(parity_search):
    search, _, _ = parity_search
    hist = search.objective_history_
    assert len(hist) == search.iterations_ and all(not math.isnan(h) for h in hist)
    assert all(b <= a for a, b in zip(hist, hist[1:]))
    assert all(not math.isnan(h) for h in search.train_objective_history_)


def test_reports_cover_every_candidate_and_iteration(parity_search):
    search, _, calls = parity_search
    recs = search.reports_
    assert search.sink_.records == recs  # no sink given: an in-memory one
    for it in range(search.iterations_):
        mine = [r for r in recs if r.iteration == it]
        kinds = [r.kind for r in mine]
        assert kinds.count("candidate") == 2 and kinds.count("previous") == 1 and kinds.count("iteration") == 1
        assert sum(r.selected for r in mine if r.kind in ("candidate", "previous")) == 1
        for r in mine:
            json.loads(r.architecture_json)
            json.loads(r.hyperparameters_json)
            assert set(r.to_dict()) >= {"iteration", "candidate", "status", "selected", "valid_objective",
                                        "train_objective", "valid_auc", "complexity", "train_seconds",
                                        "attempts", "worker"}
    assert [c[0] for c in calls] == list(range(search.iterations_))


def test_replay_rebuilds_the_same_ensemble(parity_search):
    search, data, _ = parity_search
    rebuilt = replay(search.reports_)
    assert rebuilt.architecture == search.ensemble_.architecture
    np.testing.assert_array_equal(rebuilt.predict_proba(data["test"]), search.predict_proba(data["test"]))
    # Records survive a trip through plain dicts (what a table sink stores).
    rebuilt = replay([r.to_dict() for r in search.reports_])
    np.testing.assert_array_equal(rebuilt.predict_proba(data["test"]), search.predict_proba(data["test"]))


def test_warm_start_continues_from_saved_ensemble(parity_search, tmp_path):
    search, data, _ = parity_search
    search.ensemble_.save(str(tmp_path / "model"))
    saved = Ensemble.load(str(tmp_path / "model"))
    n = len(saved)
    more = AdaNetSearch(data["spec"], **fast_params(max_iterations=1), seed=7, warm_start=saved).fit(
        data["train"], data["valid"])
    assert {r.iteration for r in more.reports_} == {n}  # numbering continues
    assert more.ensemble_.architecture.subnetworks[:n] == saved.architecture.subnetworks
    for old, new in zip(saved.subnetworks, more.ensemble_.subnetworks):
        assert old is new or all((a == b).all() for a, b in zip(old.state_dict().values(),
                                                               new.state_dict().values()))
    previous = next(r for r in more.reports_ if r.kind == "previous")
    assert previous.valid_objective == pytest.approx(search.objective_history_[-1], abs=1e-5)
    assert more.objective_history_[-1] <= previous.valid_objective


def test_same_seed_same_search(linear):
    params = fast_params(max_iterations=2, min_steps=40, max_steps=40)
    a = AdaNetSearch(linear["spec"], **params, seed=3).fit(linear["train"], linear["valid"])
    b = AdaNetSearch(linear["spec"], **params, seed=3).fit(linear["train"], linear["valid"])
    assert [r.valid_objective for r in a.reports_] == [r.valid_objective for r in b.reports_]
    np.testing.assert_array_equal(a.predict_proba(linear["test"]), b.predict_proba(linear["test"]))


class _OneBroken(DefaultGenerator):
    """Adds a candidate whose activation does not exist: it raises on the worker."""

    def generate(self, previous, reports, iteration):
        specs = super().generate(previous, reports, iteration)
        bad = CandidateSpec(name="broken", depth=1, width=8, learning_rate=1e-3,
                            inputs=self.inputs, activation="no-such-activation")
        return specs + [bad]


def _generator(cls, spec, params):
    return cls(params["space"], InputSpec.from_feature_spec(spec, AdaNetSearch(spec).embedding_dim_cap))


def test_failed_candidate_is_reported_and_search_still_returns(linear):
    params = fast_params(max_iterations=2, min_steps=40, max_steps=40)
    sink = InMemorySink()
    # Retries are the execution layer's (tests/execution); the core's executor tries once.
    search = AdaNetSearch(linear["spec"], **params, executor=InProcessExecutor(), sink=sink,
                          generator=_generator(_OneBroken, linear["spec"], params)).fit(
        linear["train"], linear["valid"])
    broken = [r for r in sink.records if r.candidate == "broken"]
    assert broken and all(r.status == FAILED and not r.selected and r.error for r in broken)
    assert broken[0].attempts == 1 and "no-such-activation" in broken[0].error
    assert len(search.ensemble_) >= 1
    assert any(r.status == COMPLETED and r.selected for r in sink.records if r.kind == "candidate")


class _AllBroken(DefaultGenerator):
    def generate(self, previous, reports, iteration):
        return [CandidateSpec(name="broken", depth=1, width=8, learning_rate=1e-3, inputs=self.inputs,
                              activation="no-such-activation")]


@pytest.mark.parametrize("patience", [0, 1])
def test_all_candidates_failing_still_returns_an_ensemble(linear, patience):
    params = fast_params(max_iterations=4, search_patience=patience)
    search = AdaNetSearch(linear["spec"], **params, generator=_generator(_AllBroken, linear["spec"], params)).fit(
        linear["train"], linear["valid"])
    assert len(search.ensemble_) == 0 and search.iterations_ == patience + 1 and search.stopped_early_
    assert search.predict_proba(linear["test"]).shape == (len(linear["test"]),)


def test_parameters_reach_the_space_the_budget_and_every_candidates_record(linear):
    params = fast_params(max_depth=3, dropout=0.1, lambda_=0.2, mixture_epochs=0, min_steps=20, max_steps=20,
                         max_iterations=1)
    assert params["space"] == SearchSpace(widths=(32,), learning_rates=(3e-3,), max_depth=3,
                                          candidates_per_iteration=2, dropout=0.1)
    assert params["budget"] == TrainBudget(batch_size=256, min_steps=20, max_steps=20, patience=4, lambda_=0.2,
                                           mixture_epochs=0)
    search = AdaNetSearch(linear["spec"], **params).fit(linear["train"], linear["valid"])
    assert search.space_ is params["space"] and search.budget_ is params["budget"]
    records = [r for r in search.reports_ if r.kind == "candidate"]
    assert len(records) == 2
    for r in records:  # the candidate's effective settings, and where early stopping found its best
        h = json.loads(r.hyperparameters_json)
        assert (h["lambda_"], h["mixture_epochs"], h["dropout"], h["batch_size"], h["weight_decay"]) == \
            (0.2, 0, 0.1, 256, params["budget"].weight_decay)
        assert h["total_steps"] == 20 and 0 <= h["best_step"] <= h["steps_run"] <= 20
        assert (h["name"], h["rationale"], h["seed"]) == (r.candidate, "first iteration", r.seed)


def test_no_space_or_budget_means_the_defaults(linear):
    search = AdaNetSearch(linear["spec"], budget=TrainBudget(min_steps=5, max_steps=5), max_iterations=1).fit(
        linear["train"], linear["valid"])
    assert search.space is None and search.space_ == SearchSpace()
    assert isinstance(search.generator_, AdaptiveGenerator)  # the default rules read the reports


@pytest.mark.parametrize("overrides,name", [
    ({"lambda_": -0.1}, "lambda_"),
    ({"max_depth": 0}, "max_depth"),
    ({"widths": ()}, "widths"),
    ({"generator": "no-such-generator"}, "no-such-generator"),
    ({"beta": -1.0}, "beta"),
    ({"learning_rates": ()}, "learning_rates"),
    ({"patience": -1}, "patience"),
    ({"complexity": "vc"}, "complexity"),
    ({"activation": "sigmoid"}, "activation"),
    ({"min_steps": 500, "max_steps": 100}, "budget steps"),
    ({"checks": 0}, "checks"),
    ({"weight_decay": -1e-3}, "weight_decay"),
    ({"search_patience": -1}, "search_patience"),
    ({"dropout": 1.0}, "dropout"),
    ({"encodings": ("onehot",)}, "space.encodings"),
    ({"encodings": ()}, "space.encodings"),
    *(({key: 0}, key) for key in ("check_rows", "refit_rows")),
])
def test_bad_parameter_is_named_by_fit_not_init(overrides, name):
    data = parity_data(50, 0)
    search = AdaNetSearch(make_spec(6, (4, 6)), **fast_params(**overrides))  # scikit-learn style: stores
    with pytest.raises(ValueError, match=name):
        search.fit(data, data)


def _candidates(search, iteration):
    return [json.loads(r.hyperparameters_json) for r in search.reports_
            if r.kind == "candidate" and r.iteration == iteration]


def test_search_patience_grants_one_more_more_regularised_iteration_then_stops(linear):
    """Linear data: one subnetwork is nearly all it needs (a second gains ~0.003 at most), so
    iteration 1 improves nothing by min_improvement; iteration 2 tries more regularised
    candidates, improves nothing either, and the search stops."""
    params = fast_params(max_iterations=5, min_improvement=5e-3)
    search = AdaNetSearch(linear["spec"], **params).fit(linear["train"], linear["valid"])
    assert [h["selected"] for h in search.history_][1:] == ["previous", "previous"]
    assert search.iterations_ == 3 and search.stopped_early_ and len(search.ensemble_) == 1
    failed, extra = _candidates(search, 1), _candidates(search, 2)
    assert len(extra) == 2
    for before, after in zip(failed, extra):
        assert after["dropout"] > before["dropout"] and after["weight_decay"] > before["weight_decay"]
        assert after["learning_rate"] < before["learning_rate"]
        assert "1 iteration(s) improved nothing since" in after["rationale"]
    # the candidate's own weight decay is what its record says, not the search's
    assert {h["weight_decay"] for h in extra} != {params["budget"].weight_decay}
    impatient = AdaNetSearch(linear["spec"], **fast_params(max_iterations=5, min_improvement=5e-3,
                                                            search_patience=0)).fit(linear["train"], linear["valid"])
    assert impatient.iterations_ == 2 and impatient.stopped_early_


class _OneDiverging(DefaultGenerator):
    """Adds a candidate whose learning rate is absurd: its loss turns NaN."""

    def generate(self, previous, reports, iteration):
        specs = super().generate(previous, reports, iteration)
        return specs + [CandidateSpec(name="diverging", depth=1, width=8, learning_rate=1e30, inputs=self.inputs)]


def test_a_diverging_candidate_fails_with_its_reason_and_the_search_goes_on(linear):
    params = fast_params(max_iterations=1, min_steps=40, max_steps=40)
    search = AdaNetSearch(linear["spec"], **params, executor=InProcessExecutor(),
                          generator=_generator(_OneDiverging, linear["spec"], params)).fit(
        linear["train"], linear["valid"])
    (bad,) = [r for r in search.reports_ if r.candidate == "diverging"]
    assert bad.status == FAILED and not bad.selected and math.isnan(bad.valid_loss)
    assert bad.error.startswith("CandidateDiverged: training loss became nan at step ")
    assert len(search.ensemble_) == 1
