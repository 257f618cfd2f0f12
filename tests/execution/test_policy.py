"""The default policy (stragglers, then pruning) and the policy a config or a mode asks for."""
from __future__ import annotations

import pytest

from adanet_spark.adanet.protocol import DROPPED, PRUNED
from adanet_spark.config import StragglerConfig, load_config
from adanet_spark.execution.policy import ProgressPolicy, policy_for_mode, policy_from_config
from adanet_spark.execution.pruning import MedianStopping
from adanet_spark.execution.stragglers import AttemptProgress, NeverDrop, Peer, QuorumDeadline, SlowWorker

FRACTIONS = [i / 20 for i in range(21)]
GOOD = tuple((f, 0.69 - 0.2 * f) for f in FRACTIONS)
PEERS = tuple(Peer(1.0, 1.0, 10.0, total_s=12.0, checks=GOOD) for _ in range(3))


def snapshot(rate, loss):
    """At 60% of its budget, reported from 5%; ``loss`` at every check."""
    checks = tuple((f, loss) for f in FRACTIONS if f <= 0.6)
    return AttemptProgress(2.0 + 0.55 * rate, progress=0.6, first_progress=0.05, report_elapsed_s=2.0 + 0.55 * rate,
                           report_span_s=0.55 * rate, checks=checks, peers=PEERS, n_tasks=4)


def test_a_slow_worker_is_a_straggler_a_bad_learner_is_pruned():
    p = ProgressPolicy()
    assert p.verdict(snapshot(10.0, 0.5)) is None  # on pace, as good as the others
    assert p.verdict(snapshot(40.0, 0.5)).status == DROPPED
    assert p.verdict(snapshot(10.0, 0.69)).status == PRUNED
    assert p.verdict(snapshot(40.0, 0.69)).status == DROPPED  # a slow worker first: not the candidate's fault
    assert p.should_stop(snapshot(10.0, 0.69)) and not p.should_stop(snapshot(10.0, 0.5))
    assert ProgressPolicy(prune=None).verdict(snapshot(10.0, 0.69)) is None
    assert p.deadline_s(snapshot(10.0, 0.5)) == SlowWorker().deadline_s(snapshot(10.0, 0.5))


def test_from_config():
    cfg = StragglerConfig(quorum=0.75, slow_factor=3.0, prune_margin=0.05, prune_min_progress=0.4)
    assert policy_from_config(cfg) == ProgressPolicy(SlowWorker(quorum=0.75, slow_factor=3.0),
                                                     MedianStopping(min_progress=0.4, margin=0.05))
    assert policy_from_config(StragglerConfig(prune=False)).prune is None
    old = StragglerConfig(policy="quorum_deadline", quorum=0.75, deadline_factor=2.0)
    assert policy_from_config(old) == QuorumDeadline(quorum=0.75, deadline_factor=2.0)


def test_the_default_config_gives_the_default_policy():
    assert policy_from_config(load_config(overrides=[]).straggler) == ProgressPolicy()


def test_policy_for_mode():
    mine = QuorumDeadline(quorum=0.3)
    assert policy_for_mode("async", mine) is mine
    assert policy_for_mode("async", None) == ProgressPolicy()
    assert policy_for_mode("sync", mine) == NeverDrop()
    with pytest.raises(ValueError, match="async or sync"):
        policy_for_mode("eventually", None)
