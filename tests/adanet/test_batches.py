"""Row sources: a split in memory or a BatchStream, and the same candidate from either."""
from dataclasses import replace

import numpy as np
import pytest
import torch

from adanet_spark.adanet import batches
from adanet_spark.adanet.architecture import CandidateSpec, EnsembleArch, InputSpec, build_subnetwork_arch
from adanet_spark.adanet.batches import MemoryRows, StreamRows, epoch_generator, row_source, spread
from adanet_spark.adanet.budget import StepPlan, TrainBudget
from adanet_spark.adanet.ensemble import Ensemble
from adanet_spark.adanet.protocol import BatchStream
from adanet_spark.adanet.subnetwork import Subnetwork
from adanet_spark.adanet.tensor_data import TensorData
from adanet_spark.adanet.train import train_candidate
from tests.adanet.adanet_data import TensorStream, parity_data

INPUTS = InputSpec(6, (4, 6), 16)
SPEC = CandidateSpec("same-d2-w16", 2, 16, 3e-3, INPUTS, dropout=0.1)
PLAN_BUDGET = TrainBudget(batch_size=100, epochs=1, min_steps=1, max_steps=1000)


def indexed(n: int) -> TensorData:
    """Parity data whose first numeric column is the row's storage index."""
    data = parity_data(n, 0)
    data.numeric[:, 0] = torch.arange(n, dtype=torch.float32)
    return data


def ids(rows) -> list[int]:
    return rows.numeric[:, 0].long().tolist()


def epoch_ids(rows, plan, epoch) -> list[int]:
    return [i for b in rows.epoch(plan, epoch) for i in ids(b)]


def candidate(previous: Ensemble = None) -> Subnetwork:
    arch = previous.architecture if previous is not None else EnsembleArch()
    return Subnetwork(build_subnetwork_arch(SPEC, arch), generator=torch.Generator().manual_seed(0))


def source(split, seed=0, rank=0, size=1, shuffle=True):
    return row_source("train", split, Ensemble(), candidate(), seed, rank, size, shuffle)


def the_epoch_order(rows: int, seed: int, epoch: int) -> torch.Tensor:
    """The contract both sources follow: a permutation from ``epoch_generator(seed, epoch)``."""
    return torch.randperm(rows, generator=epoch_generator(seed, epoch))


def test_spread_positions_are_evenly_spaced_sorted_and_all_rows_when_asked_for_as_many():
    assert spread(10, 3).tolist() == [0, 3, 6]
    assert spread(1000, 250).tolist() == list(range(0, 1000, 4))
    assert spread(7, 7).tolist() == list(range(7))
    assert spread(5, 10).tolist() == list(range(5))
    positions = spread(1050, 120).tolist()
    assert len(set(positions)) == 120 and positions == sorted(positions) and positions[-1] > 1000


def test_epoch_generator_depends_on_the_seed_and_the_epoch_only():
    first = the_epoch_order(100, 3, 0)
    torch.randperm(100, generator=epoch_generator(3, 0))  # draws elsewhere change nothing
    torch.manual_seed(123)
    assert torch.equal(the_epoch_order(100, 3, 0), first)
    assert not torch.equal(the_epoch_order(100, 3, 1), first)
    assert not torch.equal(the_epoch_order(100, 4, 0), first)


def test_memory_epochs_are_seeded_permutations_in_full_batches():
    plan = StepPlan.make(1000, PLAN_BUDGET)
    rows = source(indexed(1000), seed=1)
    assert isinstance(rows, MemoryRows) and len(rows) == 1000
    first = list(rows.epoch(plan, 0))
    assert len(first) == plan.steps_per_epoch == 10 and all(len(b) == 100 for b in first)
    order = [i for b in first for i in ids(b)]
    assert order == the_epoch_order(1000, 1, 0).tolist()  # the same contract as a stream's
    assert sorted(order) == list(range(1000)) and order != list(range(1000))
    second = epoch_ids(rows, plan, 1)
    assert sorted(second) == sorted(order) and second != order  # a new order every epoch
    assert second == the_epoch_order(1000, 1, 1).tolist()
    assert epoch_ids(source(indexed(1000), seed=1), plan, 0) == order  # the same seed, the same order
    assert epoch_ids(source(indexed(1000), seed=2), plan, 0) != order
    assert epoch_ids(rows, plan, 0) == order  # epoch 0 again, after epoch 1: a function of the epoch


def test_memory_epochs_without_shuffle_are_storage_order():
    plan = StepPlan.make(1050, PLAN_BUDGET)
    rows = source(indexed(1050), seed=1, shuffle=False)
    for epoch in (0, 3):
        batches_ = list(rows.epoch(plan, epoch))
        assert [len(b) for b in batches_] == [100] * 10
        assert [i for b in batches_ for i in ids(b)] == list(range(1000))


def test_memory_chunks_keep_storage_order(monkeypatch):
    monkeypatch.setattr(batches, "INFERENCE_CHUNK", 300)
    data = indexed(1000)
    rows = source(data)
    chunks = list(rows.chunks())
    assert [len(c) for c in chunks] == [300, 300, 300, 100]
    assert [i for c in chunks for i in ids(c)] == list(range(1000))
    assert rows.label_mean(10**6) == pytest.approx(float(data.label.double().mean()))


def test_memory_sample_is_the_spread_rows_whatever_the_seed_and_leaves_the_batch_order_alone():
    plan = StepPlan.make(1000, PLAN_BUDGET)
    rows = source(indexed(1000), seed=1)
    assert ids(rows.sample(10**6)) == list(range(1000))  # all rows when asked for as many
    sample = ids(rows.sample(250))
    assert sample == list(range(0, 1000, 4))  # spread over the split, not its first rows
    order = epoch_ids(rows, plan, 0)
    assert ids(rows.sample(250)) == sample  # fixed: every check scores the same rows
    assert ids(source(indexed(1000), seed=2).sample(250)) == sample  # the same rows a stream samples
    untouched = source(indexed(1000), seed=1)  # no sample drawn: the same first epoch
    assert epoch_ids(untouched, plan, 0) == order


def test_a_data_parallel_rank_takes_its_shard_or_its_own_row_groups():
    rows = source(indexed(1001), rank=1, size=2)
    assert len(rows) == 500 and ids(rows.sample(500)) == list(range(1, 1001, 2))  # every second row

    class RowGroups:
        """A split that knows each rank's own part (as ParquetSplit does)."""

        def __init__(self, data):
            self.data, self.asked = data, []

        def load(self):
            return self.data

        def for_rank(self, rank, size):
            self.asked.append((rank, size))
            return self.data.subset(slice(rank * 500, (rank + 1) * 500))

    split = RowGroups(indexed(1000))
    rows = source(split, rank=1, size=2)
    assert split.asked == [(1, 2)] and ids(rows.sample(500)) == list(range(500, 1000))
    assert len(source(split)) == 1000 and split.asked == [(1, 2)]  # a group of one loads it all


def test_a_stream_is_read_batch_by_batch_shuffled_per_epoch_and_in_storage_order_otherwise():
    stream = TensorStream(indexed(1050))
    assert isinstance(stream, BatchStream) and not hasattr(stream, "load")
    rows = source(stream, seed=7)
    assert isinstance(rows, StreamRows) and len(rows) == 1050
    plan = StepPlan.make(len(rows), PLAN_BUDGET)
    first = list(rows.epoch(plan, 0))
    # full batches only, as in memory: the short last batch of 50 rows is not trained on
    assert [len(b) for b in first] == [100] * 10
    assert stream.calls[-1] == {"batch_size": 100, "seed": 7, "epoch": 0, "rank": 0, "size": 1, "shuffle": True}
    order = [i for b in first for i in ids(b)]
    assert len(set(order)) == 1000 and order != sorted(order)
    second = epoch_ids(rows, plan, 1)
    assert stream.calls[-1]["epoch"] == 1 and second != order
    assert [i for c in rows.chunks() for i in ids(c)] == list(range(1050))
    assert stream.calls[-1]["shuffle"] is False
    unshuffled = source(stream, seed=7, shuffle=False)
    assert epoch_ids(unshuffled, plan, 2) == list(range(1000))
    assert stream.calls[-1] == {"batch_size": 100, "seed": 7, "epoch": 2, "rank": 0, "size": 1, "shuffle": False}


def test_a_stream_samples_the_same_rows_as_memory_in_one_pass(monkeypatch):
    monkeypatch.setattr(batches, "INFERENCE_CHUNK", 100)  # the sample spans many batches
    stream = TensorStream(indexed(1050))
    rows = source(stream)
    sample = ids(rows.sample(120))
    assert sample == spread(1050, 120).tolist() == ids(source(indexed(1050)).sample(120))
    assert len(stream.calls) == 1 and stream.calls[0]["shuffle"] is False  # one pass in storage order
    assert ids(rows.sample(120)) == sample and len(stream.calls) == 1  # kept: checks do not re-read
    assert ids(rows.sample(5000)) == list(range(1050))  # every row when asked for as many
    assert rows.label_mean(10**6) == pytest.approx(float(stream.data.label.double().mean()))


def test_a_stream_rank_reads_its_own_part():
    stream = TensorStream(indexed(1000))
    rows = source(stream, rank=1, size=2)
    assert len(rows) == 500 and ids(rows.sample(3)) == [1, 333, 667]  # rank 1's rows 0, 166, 333
    assert ids(rows.sample(3)) == ids(source(indexed(1000), rank=1, size=2).sample(3))
    assert {(c["rank"], c["size"]) for c in stream.calls} == {(1, 2)}


class Silent(TensorStream):
    """A stream that claims its rows but yields no training batch."""

    def batches(self, batch_size, **kw):
        return iter(()) if kw.get("shuffle", True) else super().batches(batch_size, **kw)


def test_empty_streams_and_bad_batches_are_named():
    empty = TensorData(torch.zeros(0, 6), torch.zeros(0, 2, dtype=torch.int64), torch.zeros(0))
    with pytest.raises(ValueError, match="split 'train' has no rows"):
        source(TensorStream(empty))
    bad = indexed(300)
    bad.categorical[250, 1] = 6  # cardinality 6: valid indices are 0..5
    rows = source(TensorStream(bad))
    with pytest.raises(ValueError, match="split 'train': categorical column 1"):
        list(rows.chunks())
    silent = source(Silent(indexed(300)))
    with pytest.raises(ValueError, match="split 'train' yielded no batch of 100 rows"):
        list(silent.epoch(StepPlan.make(300, PLAN_BUDGET), 0))  # an error, not an endless loop


def streamed_and_in_memory(data, spec, budget, previous, seed):
    """The same candidate trained on both splits in memory and on both as streams; the train
    stream shuffles by the contract MemoryRows follows (``epoch_generator(seed, epoch)``)."""
    memory = train_candidate(spec, data, budget, previous=previous, seed=seed)
    streams = {"train": TensorStream(data["train"], the_epoch_order), "valid": TensorStream(data["valid"])}
    streamed = train_candidate(spec, streams, budget, previous=previous, seed=seed)
    assert {c["shuffle"] for c in streams["train"].calls} == {budget.shuffle, False}
    assert {c["seed"] for c in streams["train"].calls} == {seed}
    assert {c["shuffle"] for c in streams["valid"].calls} == {False}
    return memory, streamed


def assert_same_candidate(a, b, tol):
    assert (a.steps_run, a.best_step, a.total_steps, a.n_train) == (b.steps_run, b.best_step, b.total_steps,
                                                                     b.n_train)
    assert a.refit_accepted == b.refit_accepted
    assert a.ensemble_weights.keys() == b.ensemble_weights.keys()
    for k in a.ensemble_weights:
        np.testing.assert_allclose(a.ensemble_weights[k], b.ensemble_weights[k], rtol=tol, atol=tol, err_msg=k)
    np.testing.assert_allclose(np.array(a.checks), np.array(b.checks), rtol=tol, atol=tol)
    for split in ("train", "valid", "previous_train", "previous_valid"):
        for key in ("loss", "auc", "objective"):
            assert getattr(a, split)[key] == pytest.approx(getattr(b, split)[key], rel=tol, abs=tol)


@pytest.fixture(scope="module")
def small():
    return {"train": parity_data(1000, 0), "valid": parity_data(300, 1)}


@pytest.fixture(scope="module")
def first(small):
    return train_candidate(SPEC, small, BUDGET, seed=3).ensemble()


# 25 steps of 100 rows over 1000 rows: two and a half passes, so three shuffles.
BUDGET = TrainBudget(batch_size=100, min_steps=25, max_steps=25, checks=5, patience=0, shrinkage=0.5,
                     refit_mixture_weights=False)
DEEPER = CandidateSpec("deeper-d3-w16", 3, 16, 3e-3, INPUTS, dropout=0.1)


@pytest.mark.parametrize("shuffle", [True, False])
def test_streamed_and_in_memory_training_give_the_same_first_candidate(small, shuffle):
    memory, streamed = streamed_and_in_memory(small, SPEC, replace(BUDGET, shuffle=shuffle), None, seed=3)
    assert memory.epochs_run == pytest.approx(2.5) and len(memory.checks) == 6
    assert_same_candidate(memory, streamed, 1e-5)


def test_shuffling_changes_the_candidate(small):
    """The equivalence above is not vacuous: the batch order reaches the weights."""
    shuffled = train_candidate(SPEC, small, BUDGET, seed=3)
    ordered = train_candidate(SPEC, small, replace(BUDGET, shuffle=False), seed=3)
    assert shuffled.checks[-1][1] != pytest.approx(ordered.checks[-1][1], rel=1e-4)


def test_streamed_and_in_memory_training_give_the_same_candidate_on_a_previous_ensemble(small, first):
    memory, streamed = streamed_and_in_memory(small, DEEPER, BUDGET, first, seed=4)
    assert len(memory.mixture) == 2 and memory.spec["depth"] == 3
    assert_same_candidate(memory, streamed, 1e-4)


def test_streamed_and_in_memory_refit_the_mixture_alike_on_the_same_sample(small, first):
    """The refit has its own generator (not the one training drew from) and both sources
    sample the same spread-out rows when refit_rows is below the split's size."""
    off = Ensemble(list(first.subnetworks), first.mixture.detach(), float(first.bias.detach()) + 1.5)
    refit = replace(BUDGET, refit_mixture_weights=True, mixture_epochs=2, refit_rows=500)
    memory, streamed = streamed_and_in_memory(small, SPEC, refit, off, seed=4)  # a bias the refit corrects
    unrefit = train_candidate(SPEC, small, replace(refit, refit_mixture_weights=False), previous=off, seed=4)
    assert memory.refit_accepted and memory.mixture != unrefit.mixture  # the refit happened and mattered
    assert_same_candidate(memory, streamed, 1e-4)


def test_streamed_and_in_memory_check_the_same_validation_rows(small):
    """check_rows below the validation split's size: both score the same spread-out rows."""
    memory, streamed = streamed_and_in_memory(small, SPEC, replace(BUDGET, check_rows=100), None, seed=3)
    everything = train_candidate(SPEC, small, BUDGET, seed=3)
    assert memory.checks != everything.checks  # a sample of 100 rows, not all 300
    assert_same_candidate(memory, streamed, 1e-5)


def test_frozen_contributions_too_big_to_precompute_are_computed_per_batch_to_the_same_candidate(
        small, first, monkeypatch):
    """A connected candidate on a large split: its frozen inputs would not fit, so the split
    in memory is read as a stream, and the candidate is the one precomputing would give."""
    precomputed = train_candidate(DEEPER, small, BUDGET, previous=first, seed=4)
    deeper = Subnetwork(build_subnetwork_arch(DEEPER, first.architecture), generator=torch.Generator())
    assert isinstance(row_source("train", small["train"], first, deeper, 4), MemoryRows)
    monkeypatch.setattr(batches, "PRECOMPUTE_MAX_BYTES", 0)
    per_batch = row_source("train", small["train"], first, deeper, 4)
    assert isinstance(per_batch, StreamRows) and isinstance(per_batch.stream, batches.MemoryStream)
    assert isinstance(source(small["train"]), MemoryRows)  # nothing frozen to precompute: as before
    assert_same_candidate(precomputed, train_candidate(DEEPER, small, BUDGET, previous=first, seed=4), 1e-5)
