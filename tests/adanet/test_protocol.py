"""The contracts: the in-process executor and plain candidate results."""
import pickle

import numpy as np
import pytest

from adanet_spark.adanet.protocol import (COMPLETED, DROPPED, FAILED, PRUNED, STATUSES, BatchStream,
                                          CandidateResult, CandidateTask, Executor, InProcessExecutor, Split,
                                          SplitData, TaskOutcome, TrainContext)
from tests.adanet.adanet_data import TensorStream, parity_data


def tasks(*names):
    return [CandidateTask(iteration=2, name=n, payload={"value": i}) for i, n in enumerate(names)]


def test_in_process_executor_runs_every_task_in_order_and_reports_failures():
    seen = []

    def train_fn(payload, data, ctx):
        seen.append((payload["value"], data["train"], ctx.rank, ctx.size))
        if payload["value"] == 1:
            raise ValueError("boom")
        return {"twice": payload["value"] * 2}

    with InProcessExecutor() as executor:
        outcomes = list(executor.run(tasks("a", "b", "c"), train_fn, {"train": "the split"}))
    assert [o.task.name for o in outcomes] == ["a", "b", "c"]  # a failure does not stop the rest
    assert [o.status for o in outcomes] == [COMPLETED, FAILED, COMPLETED]
    assert outcomes[0].result == {"twice": 0} and outcomes[2].result == {"twice": 4}
    assert outcomes[1].result is None and outcomes[1].error == "ValueError: boom"
    assert all(o.attempts == 1 and o.worker == "driver" for o in outcomes)
    assert seen == [(0, "the split", 0, 1), (1, "the split", 0, 1), (2, "the split", 0, 1)]


def test_executor_outcomes_stream_as_tasks_end():
    """``run`` is a generator: the first outcome is there before the second task starts."""
    started = []

    def train_fn(payload, data, ctx):
        started.append(payload["value"])
        return payload["value"]

    stream = InProcessExecutor().run(tasks("a", "b"), train_fn, {})
    assert next(stream).result == 0 and started == [0]
    assert isinstance(InProcessExecutor(), Executor)


def test_context_defaults_are_a_group_of_one_that_never_stops():
    ctx = TrainContext()
    assert (ctx.rank, ctx.size, ctx.allreduce_, ctx.slow_factor) == (0, 1, None, 1.0)
    assert ctx.should_stop() is False and ctx.report_progress(0.5) is None
    assert ctx.report_progress(0.5, valid_loss=0.6) is None  # checks report their validation loss
    assert set(STATUSES) == {COMPLETED, DROPPED, FAILED, PRUNED} and len(STATUSES) == 4


def test_split_protocols_are_structural():
    data = parity_data(10, 0)
    assert isinstance(data, SplitData) and isinstance(data, Split)
    assert not isinstance(object(), Split)
    stream = TensorStream(data)
    assert isinstance(stream, BatchStream) and not isinstance(stream, Split) and not isinstance(data, BatchStream)
    outcome = TaskOutcome(tasks("a")[0], COMPLETED)
    assert outcome.extra == {} and outcome.elapsed_s == 0.0


def _result(**kw):
    metrics = {"loss": 0.5, "auc": 0.7, "objective": 0.55}
    base = dict(name="same-d1-w8", iteration=0, seed=3, spec={"depth": 1}, architecture_json="{}",
                ensemble_architecture_json="{}", ensemble_weights={"w": np.arange(3.0)}, train=metrics,
                valid=metrics, previous_train=metrics, previous_valid=metrics, previous_bias=-0.2,
                complexity=1.0, complexities=[1.0], mixture=[1.0], epochs_run=2.5, best_epoch=1.25,
                refit_accepted=True, train_seconds=0.1, rows_per_s=10.0, n_train=100)
    return CandidateResult(**{**base, **kw})


def test_candidate_result_of_accepts_the_result_or_its_dict():
    res = _result(rank=1, size=2, timings={"loop_s": 0.05}, steps_run=20, best_step=10, total_steps=30,
                  checks=[[0, 0.69], [10, 0.5]])
    assert CandidateResult.of(res) is res
    back = CandidateResult.of(pickle.loads(pickle.dumps(res.to_dict())))  # what a Spark task ships back
    assert back.to_dict().keys() == res.to_dict().keys()
    assert (back.name, back.rank, back.size, back.timings, back.valid) == (res.name, 1, 2, {"loop_s": 0.05},
                                                                          res.valid)
    assert (back.steps_run, back.best_step, back.total_steps, back.checks, back.epochs_run) == \
        (20, 10, 30, [[0, 0.69], [10, 0.5]], 2.5)
    np.testing.assert_array_equal(back.ensemble_weights["w"], res.ensemble_weights["w"])


def test_candidate_result_from_a_newer_worker_ignores_unknown_keys():
    d = {**_result().to_dict(), "added_later": 1}
    assert CandidateResult.from_dict(d).name == "same-d1-w8"
    with pytest.raises(TypeError):  # but a missing field is an error, not a silent default
        CandidateResult.from_dict({"name": "x"})
