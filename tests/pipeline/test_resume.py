"""Where a run starts: over, after its last committed iteration, or from a warm start.
No Spark: the writer is a fake recording what the plan clears, and models load from a dict."""
import pytest

from adanet_spark.config import load_config
from adanet_spark.data.spec import CategoricalFeature, FeatureSpec, NumericFeature
from adanet_spark.errors import BadInputError
from adanet_spark.pipeline import resume
from adanet_spark.results import models

SPEC = FeatureSpec("w", (NumericFeature("x", 0.0, 1.0, 0.0),), (CategoricalFeature("c", ("a", "b")),))
OTHER = FeatureSpec("w", (NumericFeature("x", 5.0, 2.0, 0.0),), (CategoricalFeature("c", ("a", "b")),))


class FakeWriter:
    run_id = "r1"

    def __init__(self, rows=()):
        self.rows = list(rows)
        self.cleared = []  # clear_iterations' arguments, in order
        self.auc_cleared = False

    def ensemble_rows(self):
        return self.rows

    def candidate_rows(self):
        return []

    def clear_iterations(self, from_iteration=None):
        self.cleared.append(from_iteration)

    def clear_auc_reports(self):
        self.auc_cleared = True


class FakeSaved:
    def __init__(self, uri, spec, size):
        self.uri, self.spec, self.size = uri, spec, size

    def ensemble(self):
        return f"ensemble of {self.size} from {self.uri}"


def row(iteration, selected="deeper", uri=None):
    return {"iteration": iteration, "selected_candidate": selected, "n_subnetworks": iteration + 1,
            "valid_auc": 0.7, "model_uri": uri or f"/m/iter-{iteration}"}


@pytest.fixture
def saved(monkeypatch):
    """uri -> FakeSaved; an unknown URI is unreadable (BadInputError), like models.load_model."""
    store = {}

    def load(spark, uri):
        if uri not in store:
            raise BadInputError(f"unknown model URI '{uri}'")
        return store[uri]
    monkeypatch.setattr(models, "load_model", load)
    return store


def cfg(*sets):
    return load_config(None, ["dataset=w", "run.id=r1", "adanet.max_iterations=4", *sets])


def test_no_progress_starts_over_with_the_whole_budget(saved):
    writer = FakeWriter()
    plan = resume.plan(None, cfg(), writer, SPEC, fresh=False)
    assert plan == resume.ResumePlan(warm_start=None, remaining=4)
    assert writer.cleared == [None] and not writer.auc_cleared


def test_resumes_after_the_last_committed_iteration(saved):
    saved["/m/iter-1"] = FakeSaved("/m/iter-1", SPEC, 2)
    writer = FakeWriter([row(0), row(1)])
    plan = resume.plan(None, cfg(), writer, SPEC, fresh=False)
    assert (plan.start_iteration, plan.remaining, plan.done, plan.resumed_at) == (2, 2, False, 2)
    assert plan.warm_start == "ensemble of 2 from /m/iter-1" and plan.last_uri == "/m/iter-1"
    assert writer.cleared == [2]  # only what a crashed attempt left beyond iteration 1


@pytest.mark.parametrize("rows", [[row(0), row(1, selected="previous", uri="/m/iter-1")],
                                  [row(k) for k in range(4)]])
def test_a_finished_search_is_only_finalised(saved, rows):
    saved[rows[-1]["model_uri"]] = FakeSaved(rows[-1]["model_uri"], SPEC, 2)
    plan = resume.plan(None, cfg(), FakeWriter(rows), SPEC, fresh=False)
    assert plan.done and plan.resumed_at is None and plan.remaining == 4 - len(rows)


@pytest.mark.parametrize("spec, readable", [(OTHER, True), (SPEC, False)])
def test_unusable_progress_starts_over(saved, spec, readable):
    if readable:
        saved["/m/iter-1"] = FakeSaved("/m/iter-1", spec, 2)
    writer = FakeWriter([row(0), row(1)])
    plan = resume.plan(None, cfg(), writer, SPEC, fresh=False)
    assert (plan.start_iteration, plan.remaining, plan.done, plan.warm_start) == (None, 4, False, None)
    assert writer.cleared == [None]


def test_fresh_discards_progress_and_auc_rows(saved):
    saved["/m/iter-1"] = FakeSaved("/m/iter-1", SPEC, 2)
    writer = FakeWriter([row(0), row(1)])
    plan = resume.plan(None, cfg(), writer, SPEC, fresh=True)
    assert plan.remaining == 4 and plan.start_iteration is None
    assert writer.auc_cleared and writer.cleared == [None]


def test_warm_start_from_a_uri_or_the_latest_run(saved, monkeypatch):
    saved["/old/iter-3"] = FakeSaved("/old/iter-3", SPEC, 4)
    plan = resume.plan(None, cfg("adanet.warm_start=/old/iter-3"), FakeWriter(), SPEC, fresh=False)
    assert plan.warm_start == "ensemble of 4 from /old/iter-3" and plan.start_iteration is None
    with pytest.raises(BadInputError, match="trained on other features"):
        resume.plan(None, cfg("adanet.warm_start=/old/iter-3"), FakeWriter(), OTHER, fresh=False)

    asked = []
    monkeypatch.setattr(resume, "latest_final_model",
                        lambda spark, c, exclude_run=None: asked.append(exclude_run) or "/old/iter-3")
    assert resume.warm_start(None, cfg("adanet.warm_start=latest"), FakeWriter(), SPEC) == \
        "ensemble of 4 from /old/iter-3"
    assert asked == ["r1"]  # never this run's own model
    assert resume.warm_start(None, cfg("adanet.warm_start=latest"), FakeWriter(), OTHER) is None
    monkeypatch.setattr(resume, "latest_final_model", lambda spark, c, exclude_run=None: None)
    assert resume.warm_start(None, cfg("adanet.warm_start=latest"), FakeWriter(), SPEC) is None


def test_history_replays_committed_iterations_so_the_generator_adapts():
    from adanet_spark.adanet.architecture import EnsembleArch, InputSpec
    from adanet_spark.adanet.generator import AdaptiveGenerator, SearchSpace
    hyper = '{"depth": 2, "width": 8, "learning_rate": 0.01, "encoding": "plain", "best_step": 90, "total_steps": 100}'
    ensembles = [{"iteration": 0, "selected_candidate": "first-d2-w8-plain", "n_subnetworks": 1}]
    candidates = [{"iteration": 0, "candidate": "first-d2-w8-plain", "selected": True, "hyperparameters": hyper},
                  {"iteration": 0, "candidate": "first-d1-w8-plain", "selected": False, "hyperparameters": "{}"}]
    records = resume.history(ensembles, candidates)
    assert [(r["kind"], r["candidate"]) for r in records] == [
        ("candidate", "first-d2-w8-plain"), ("candidate", "first-d1-w8-plain"), ("iteration", "first-d2-w8-plain")]
    assert records[0]["n_subnetworks"] == 1
    gen = AdaptiveGenerator(SearchSpace(widths=(8,), encodings=("plain",)), InputSpec(n_numeric=1, cardinalities=()))
    previous = EnsembleArch(subnetworks=(object(),))
    specs = gen.generate(previous, records, iteration=1)
    # the winner still improved at 90% of its budget: it grows with twice the steps
    assert [s.kind for s in specs] == ["same", "deeper", "wider"]
    assert all(s.steps_scale == 2.0 for s in specs)
