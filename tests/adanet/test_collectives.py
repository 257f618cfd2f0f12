"""The collectives keep a data-parallel group's replicas identical; no-ops for a group of one."""
import math
import re
import threading
from dataclasses import replace

import numpy as np
import pytest
import torch
from torch import nn

from adanet_spark.adanet.architecture import CandidateSpec, InputSpec
from adanet_spark.adanet.collectives import allreduce_grads, mean_over_group, sync_buffers, synced
from adanet_spark.adanet.loop import CandidateDiverged
from adanet_spark.adanet.protocol import TrainContext
from adanet_spark.adanet.train import TrainBudget, train_candidate
from tests.adanet.adanet_data import parity_data

INPUTS = InputSpec(6, (4, 6), 16)
BUDGET = TrainBudget(batch_size=256, min_steps=30, max_steps=30, patience=0)


class ThreadGroup:
    """An in-process data-parallel group: allreduce_ averages across threads via a barrier
    (``timeout``: a rank left waiting alone gets BrokenBarrierError instead of hanging)."""

    def __init__(self, size, timeout=None):
        self.size, self.barrier = size, threading.Barrier(size, timeout=timeout)
        self.slots, self.calls = [None] * size, [0] * size

    def allreduce_for(self, rank):
        def allreduce_(tensors):
            for t in tensors if isinstance(tensors, list) else [tensors]:
                self.slots[rank] = t.clone()
                self.barrier.wait()
                mean = sum(self.slots) / self.size  # same order on every rank: identical results
                self.barrier.wait()
                t.copy_(mean)
            self.calls[rank] += 1
        return allreduce_


def in_group(size, work):
    """Run ``work(ctx)`` on ``size`` threads forming one group; their results in rank order."""
    group, results, errors = ThreadGroup(size), [None] * size, []

    def rank(r):
        try:
            results[r] = work(TrainContext(rank=r, size=size, allreduce_=group.allreduce_for(r)))
        except Exception as exc:  # surface thread failures in the test
            errors.append(exc)
            group.barrier.abort()

    threads = [threading.Thread(target=rank, args=(r,)) for r in range(size)]
    [t.start() for t in threads]
    [t.join(timeout=120) for t in threads]
    assert not errors, errors
    return group, results


def test_a_group_of_one_or_without_allreduce_is_not_synced():
    assert not synced(TrainContext())
    assert not synced(TrainContext(rank=0, size=2))  # no allreduce given
    assert synced(TrainContext(size=2, allreduce_=lambda t: None))
    assert mean_over_group(0.25, TrainContext()) == 0.25


def test_mean_over_group_averages_a_number():
    _, means = in_group(2, lambda ctx: mean_over_group(float(ctx.rank) + 1.0, ctx))
    assert means == [1.5, 1.5]


def test_allreduce_grads_joins_with_zeros_for_unused_parameters():
    def work(ctx):
        used, unused = nn.Parameter(torch.ones(2)), nn.Parameter(torch.ones(3))
        (used * (ctx.rank + 1)).sum().backward()
        allreduce_grads([used, unused], ctx)
        return used.grad, unused.grad

    group, results = in_group(2, work)
    for used, unused in results:
        torch.testing.assert_close(used, torch.full((2,), 1.5))
        torch.testing.assert_close(unused, torch.zeros(3))
    assert group.calls == [1, 1]  # one grouped call per step, not one per parameter


def test_sync_buffers_averages_batch_norm_statistics_only():
    def work(ctx):
        bn = nn.BatchNorm1d(2)
        bn.running_mean.fill_(float(ctx.rank))
        sync_buffers(bn, ctx)
        return bn.running_mean.clone(), int(bn.num_batches_tracked)

    _, results = in_group(2, work)
    for mean, tracked in results:
        torch.testing.assert_close(mean, torch.full((2,), 0.5))
        assert tracked == 0  # an integer counter is left alone


@pytest.mark.parametrize("batch_norm,patience", [(False, 0), (True, 0), (False, 1)])
def test_data_parallel_group_of_two_stays_in_sync(batch_norm, patience):
    data = {"train": parity_data(1001, 0), "valid": parity_data(300, 1)}  # odd: unequal shards
    spec = CandidateSpec("same-d2-w16", 2, 16, 3e-3, INPUTS, batch_norm=batch_norm)
    budget = replace(BUDGET, patience=patience)
    group, (a, b) = in_group(2, lambda ctx: train_candidate(spec, data, budget, ctx, seed=4))
    # the same steps and checks on both ranks (early stopping included), or a collective would hang
    assert (a.steps_run, a.best_step, a.checks) == (b.steps_run, b.best_step, b.checks)
    assert (a.steps_run < a.total_steps) == bool(patience)
    assert (a.n_train, b.n_train) == (501, 500)
    assert group.calls[0] == group.calls[1] > 0
    for k in a.ensemble_weights:  # averaged gradients keep the replicas identical
        np.testing.assert_array_equal(a.ensemble_weights[k], b.ensemble_weights[k])
    assert a.valid == b.valid and a.train["loss"] == b.train["loss"]


def test_a_nan_on_one_rank_ends_every_rank_at_the_same_step():
    train = parity_data(1000, 0)
    train.numeric[0, 0] = float("nan")  # row 0: rank 0's shard only
    data = {"train": train, "valid": parity_data(300, 1)}
    spec = CandidateSpec("same-d2-w16", 2, 16, 3e-3, INPUTS)
    budget = TrainBudget(batch_size=100, min_steps=10, max_steps=10, checks=10, patience=0)  # every step checks
    # No abort on an error (the other rank may still be leaving the last allreduce's barrier): a
    # rank that stopped alone would leave the other waiting, and the timeout would break it.
    group, outcomes = ThreadGroup(2, timeout=60), [None, None]

    def rank(r):
        try:
            train_candidate(spec, data, budget, TrainContext(rank=r, size=2, allreduce_=group.allreduce_for(r)),
                            seed=4)
        except Exception as exc:
            outcomes[r] = exc

    threads = [threading.Thread(target=rank, args=(r,)) for r in range(2)]
    [t.start() for t in threads]
    [t.join(timeout=120) for t in threads]
    # both raise CandidateDiverged (not a broken barrier: neither waits for the other) ...
    assert isinstance(outcomes[0], CandidateDiverged), outcomes
    assert isinstance(outcomes[1], CandidateDiverged), outcomes
    (loss0, step0), (loss1, step1) = (re.match(r"training loss became (\S+) at step (\d+)", str(e)).groups()
                                      for e in outcomes)
    assert step0 == step1  # ... at the same step,
    assert loss0 == "nan" and math.isfinite(float(loss1))  # rank 1 stops on the group's flag, not its own loss
