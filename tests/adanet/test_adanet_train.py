import pickle
import threading
from dataclasses import dataclass

import numpy as np
import pytest
import torch

from adanet_data import linear_data, make_spec, parity_data
from adanet_spark.adanet import rows as rows_mod
from adanet_spark.adanet import train as train_mod
from adanet_spark.adanet.architecture import CandidateSpec, InputSpec
from adanet_spark.adanet.ensemble import Ensemble
from adanet_spark.adanet.train import (CandidateCancelled, CandidateResult, TrainBudget, adanet_train_fn,
                                       derive_seed, make_payload, train_candidate)
from adanet_spark.execution.base import TrainContext

INPUTS = InputSpec(6, (4, 6), 16)
BUDGET = TrainBudget(epochs=3, batch_size=256, patience=0)


def _spec(name="same-d2-w16", depth=2, width=16, **kw):
    return CandidateSpec(name=name, depth=depth, width=width, learning_rate=3e-3, inputs=INPUTS, **kw)


@pytest.fixture(scope="module")
def data():
    return {"train": parity_data(2000, 0), "valid": parity_data(500, 1)}


def test_result_is_plain_and_consistent(data):
    res = train_candidate(_spec(), data, BUDGET, seed=5)
    res = pickle.loads(pickle.dumps(res))  # what an executor ships back
    assert res.epochs_run == 3 and res.n_train == 2000
    for split in (res.train, res.valid, res.previous_train, res.previous_valid):
        assert set(split) == {"loss", "auc", "objective"}
    assert res.valid["loss"] < res.previous_valid["loss"]  # better than the base rate
    base_rate = float(data["train"].label.mean())
    assert res.previous_bias == pytest.approx(np.log(base_rate / (1 - base_rate)), abs=1e-5)
    ens = res.ensemble()
    logits = ens.predict_logits(data["valid"])
    loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, data["valid"].label)
    assert float(loss) == pytest.approx(res.valid["loss"], abs=1e-5)
    assert CandidateResult.from_dict(res.to_dict()).valid == res.valid


def test_objective_adds_the_complexity_penalty(data):
    budget = TrainBudget(epochs=1, batch_size=256, lambda_=0.1, beta=0.01, patience=0)
    res = train_candidate(_spec(depth=3), data, budget, seed=1)
    assert res.complexity == pytest.approx(3 ** 0.5)
    expected = res.valid["loss"] + (0.1 * 3 ** 0.5 + 0.01) * abs(res.mixture[0])
    assert res.valid["objective"] == pytest.approx(expected, rel=1e-6)
    budget.complexity = "rademacher"
    res = train_candidate(_spec(depth=3), data, budget, seed=1)
    assert 0 < res.complexity < float("inf")


def test_same_seed_same_result_and_seed_ignores_worker(data):
    a = train_candidate(_spec(), data, BUDGET, seed=11)
    b = train_candidate(_spec(), data, BUDGET, seed=11)
    assert a.valid == b.valid
    assert all(np.array_equal(a.ensemble_weights[k], b.ensemble_weights[k]) for k in a.ensemble_weights)
    assert derive_seed(0, 1, "same-d2-w16") == derive_seed(0, 1, "same-d2-w16")
    assert derive_seed(0, 1, "same-d2-w16") != derive_seed(0, 2, "same-d2-w16")


def test_train_fn_adapter_with_a_previous_ensemble_and_connections(data):
    first = train_candidate(_spec("same-d1-w16", depth=1), data, BUDGET, seed=2).ensemble()
    payload = make_payload(_spec("deeper-d2-w16", depth=2), first, BUDGET, seed=3, iteration=1)
    payload = pickle.loads(pickle.dumps(payload))
    res = adanet_train_fn(payload, data, TrainContext())
    grown = res.ensemble()
    assert len(grown) == 2 and grown.architecture.subnetworks[1].reads == ((), (0,))
    # The frozen subnetwork is untouched by training the new one.
    for k, v in first.subnetworks[0].state_dict().items():
        assert torch.equal(grown.subnetworks[0].state_dict()[k], v)
    # The previous ensemble's metrics match what the frozen ensemble predicts.
    loss = torch.nn.functional.binary_cross_entropy_with_logits(first.predict_logits(data["valid"]),
                                                                data["valid"].label)
    assert res.previous_valid["loss"] == pytest.approx(float(loss), abs=1e-5)


def test_context_hooks_progress_commit_cancel(data):
    progress, commits = [], []
    ctx = TrainContext(report_progress=progress.append, commit=lambda: commits.append(1))
    train_candidate(_spec(), data, BUDGET, ctx, seed=1)
    assert len(commits) == BUDGET.epochs
    assert len(progress) >= BUDGET.epochs * 2 and progress == sorted(progress) and progress[-1] == 1.0
    calls = []
    stopping = TrainContext(should_stop=lambda: calls.append(1) or len(calls) > 3)
    with pytest.raises(CandidateCancelled):
        train_candidate(_spec(), data, BUDGET, stopping, seed=1)
    assert len(calls) == 4  # checked every batch, stopped at once


def test_slow_factor_sleeps_after_each_step(data, monkeypatch):
    sleeps = []
    monkeypatch.setattr(train_mod.time, "sleep", sleeps.append)
    budget = TrainBudget(epochs=1, batch_size=500, patience=0, refit_mixture_weights=False)
    train_candidate(_spec(), data, budget, TrainContext(slow_factor=3.0), seed=1)
    assert len(sleeps) == 4 and all(s >= 0 for s in sleeps)


class _ThreadGroup:
    """An in-process data-parallel group: allreduce_ averages across threads via a barrier."""

    def __init__(self, size):
        self.size, self.barrier = size, threading.Barrier(size)
        self.slots, self.calls = [None] * size, [0] * size

    def allreduce_for(self, rank):
        def allreduce_(tensors):
            for t in tensors:  # one grouped call per step, as Horovod's grouped allreduce
                self.slots[rank] = t.clone()
                self.barrier.wait()
                mean = sum(self.slots) / self.size  # same order on every rank: identical results
                self.barrier.wait()
                t.copy_(mean)
            self.calls[rank] += 1
        return allreduce_


@pytest.mark.parametrize("batch_norm", [False, True])
def test_data_parallel_group_of_two_stays_in_sync(batch_norm):
    data = {"train": parity_data(1001, 0), "valid": parity_data(300, 1)}  # odd: unequal shards
    group, results, errors = _ThreadGroup(2), [None, None], []

    def rank(r):
        try:
            ctx = TrainContext(rank=r, size=2, allreduce_=group.allreduce_for(r))
            results[r] = train_candidate(_spec(batch_norm=batch_norm), data, BUDGET, ctx, seed=4)
        except Exception as exc:  # surface thread failures in the test
            errors.append(exc)
            group.barrier.abort()

    threads = [threading.Thread(target=rank, args=(r,)) for r in range(2)]
    [t.start() for t in threads]
    [t.join(timeout=120) for t in threads]
    assert not errors, errors
    a, b = results
    assert (a.n_train, b.n_train) == (501, 500)
    assert group.calls[0] == group.calls[1] > 0
    for k in a.ensemble_weights:  # averaged gradients keep the replicas identical
        np.testing.assert_array_equal(a.ensemble_weights[k], b.ensemble_weights[k])
    assert a.valid == b.valid and a.train["loss"] == b.train["loss"]


@dataclass(frozen=True)
class _CountingRef:
    """A hashable lazy split reference, like ParquetSplit."""

    key: str
    loads: list

    def __hash__(self):
        return hash(self.key)

    def __eq__(self, other):
        return isinstance(other, _CountingRef) and other.key == self.key

    def load(self):
        self.loads.append(self.key)
        return linear_data(400, 0, n_numeric=6, cards=(4, 6)) if self.key == "train" else \
            linear_data(200, 1, n_numeric=6, cards=(4, 6))


def test_worker_reads_each_split_once_for_many_candidates():
    rows_mod.clear_cache()
    loads = []
    data = {"train": _CountingRef("train", loads), "valid": _CountingRef("valid", loads)}
    budget = TrainBudget(epochs=1, batch_size=128, patience=0)
    for name in ("a", "b", "c"):
        train_candidate(_spec(name), data, budget, seed=1)
    assert sorted(loads) == ["train", "valid"]
    rows_mod.clear_cache()


def test_bad_inputs_are_named(data):
    bad = parity_data(100, 0)
    bad.categorical[3, 1] = 6  # cardinality 6: valid indices are 0..5
    with pytest.raises(ValueError, match="categorical column 1"):
        train_candidate(_spec(), {"train": bad, "valid": data["valid"]}, BUDGET)
    wrong = CandidateSpec("x", 1, 8, 1e-3, InputSpec.from_feature_spec(make_spec(3, (4,)), 16))
    with pytest.raises(ValueError, match="expected 3 and 1"):
        train_candidate(wrong, data, BUDGET)


def test_batch_norm_dropout_and_previous_ensemble_round_trip(data):
    res = train_candidate(_spec(batch_norm=True, dropout=0.2), data, BUDGET, seed=1)
    ens = Ensemble.from_bytes(res.ensemble().to_bytes())
    np.testing.assert_array_equal(ens.predict_proba(data["valid"]), res.ensemble().predict_proba(data["valid"]))


def test_parquet_split_is_read_on_the_worker_and_cached(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from adanet_spark.data.tensors import ParquetSplit
    spec = make_spec(6, (4, 6))
    refs = {}
    for split, seed, n in (("train", 0, 600), ("valid", 1, 200)):
        d = parity_data(n, seed)
        cols = {f"x{i}": d.numeric[:, i].numpy() for i in range(6)}
        cols.update({f"c{j}": d.categorical[:, j].numpy() for j in range(2)})
        cols["label"] = d.label.numpy().astype("int32")
        path = str(tmp_path / f"{split}.parquet")
        pq.write_table(pa.table(cols), path)
        refs[split] = ParquetSplit((path,), spec.to_json())
    rows_mod.clear_cache()
    res = train_candidate(_spec(), refs, TrainBudget(epochs=1, batch_size=128, patience=0), seed=1)
    assert res.n_train == 600
    assert rows_mod.load_split(refs["train"]) is rows_mod.load_split(refs["train"])  # cached
    rows_mod.clear_cache()
