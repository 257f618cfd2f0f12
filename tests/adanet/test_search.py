import json
import math

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from adanet_spark.adanet import AdaNetSearch, Ensemble, InMemorySink, replay
from adanet_spark.adanet.architecture import CandidateSpec, InputSpec
from adanet_spark.adanet.generator import DefaultGenerator, SearchSpace
from adanet_spark.adanet.metrics import roc_auc
from adanet_spark.adanet.protocol import COMPLETED, FAILED, InProcessExecutor
from adanet_spark.adanet.train import TrainBudget
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
    search = AdaNetSearch(linear["spec"], **fast_params(max_iterations=4, beta=0.005)).fit(
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
    params = fast_params(max_iterations=2, epochs=2)
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
    search = AdaNetSearch(spec, **params)
    return cls(search.search_space(), InputSpec.from_feature_spec(spec, search.embedding_dim_cap))


def test_failed_candidate_is_reported_and_search_still_returns(linear):
    params = fast_params(max_iterations=2, epochs=2)
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


def test_all_candidates_failing_still_returns_an_ensemble(linear):
    params = fast_params(max_iterations=2)
    search = AdaNetSearch(linear["spec"], **params, generator=_generator(_AllBroken, linear["spec"], params)).fit(
        linear["train"], linear["valid"])
    assert len(search.ensemble_) == 0 and search.iterations_ == 1
    assert search.predict_proba(linear["test"]).shape == (len(linear["test"]),)


def test_parameters_map_onto_the_search_space_and_the_budget():
    search = AdaNetSearch(make_spec(3, (5,)), **fast_params(max_depth=3, dropout=0.1, lambda_=0.2,
                                                            mixture_epochs=0))
    assert search.search_space() == SearchSpace(widths=(32,), learning_rates=(3e-3,), max_depth=3,
                                                candidates_per_iteration=2, dropout=0.1)
    assert search.train_budget() == TrainBudget(epochs=4, batch_size=256, patience=2, lambda_=0.2,
                                                mixture_epochs=0)


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
])
def test_bad_parameter_is_named_by_fit_not_init(overrides, name):
    data = parity_data(50, 0)
    search = AdaNetSearch(make_spec(6, (4, 6)), **fast_params(**overrides))  # scikit-learn style: stores
    with pytest.raises(ValueError, match=name):
        search.fit(data, data)
