"""The one executor factory: dispatch on training.backend, policy, retries and faults."""
from __future__ import annotations

import typing

import pytest

from adanet_spark.config import Backend, load_config
from adanet_spark.execution.factory import BUILDERS, make_executor
from adanet_spark.execution.local import LocalExecutor
from adanet_spark.execution.spark import SparkExecutor
from adanet_spark.execution.stragglers import NeverDrop, QuorumDeadline


def test_builders_cover_every_backend_of_the_config():
    assert set(BUILDERS) == set(typing.get_args(Backend))


def test_make_executor_local_from_config():
    cfg = load_config(overrides=["training.backend=local", "straggler.max_retries=2"])
    ex = make_executor(cfg)
    assert isinstance(ex, LocalExecutor) and ex.max_retries == 2 and ex.policy == NeverDrop()
    cfg = load_config(overrides=["training.backend=local", "training.mode=sync"])
    assert make_executor(cfg).policy == NeverDrop()


def test_faults_reach_the_executor_unless_left_out():
    cfg = load_config(overrides=["training.backend=local", "testing.enabled=true",
                                 "testing.faults=[{candidate: 'deeper*', fail: always}]"])
    assert make_executor(cfg).faults and make_executor(cfg).faults.faults[0].candidate == "deeper*"
    assert make_executor(cfg, drop_stragglers=False, inject_faults=False).faults is None


def test_spark_policy_from_config_and_mode(exec_spark):
    sets = ["training.backend=spark", "straggler.policy=quorum_deadline", "straggler.quorum=0.75",
            "straggler.deadline_factor=2.0", "straggler.max_retries=3"]
    with make_executor(load_config(overrides=sets), exec_spark) as ex:
        assert isinstance(ex, SparkExecutor) and ex.max_retries == 3
        assert ex.policy == QuorumDeadline(quorum=0.75, deadline_factor=2.0)
    # The baselines: retries kept, no dropping.
    with make_executor(load_config(overrides=sets), exec_spark, drop_stragglers=False) as ex:
        assert ex.policy == NeverDrop() and ex.max_retries == 3
    with make_executor(load_config(overrides=sets + ["training.mode=sync"]), exec_spark) as ex:
        assert ex.policy == NeverDrop()


def test_unknown_backend():
    cfg = load_config(overrides=["training.backend=local"])
    cfg.training.backend = "mpi"  # sections are mutable: the factory still refuses it
    with pytest.raises(ValueError, match="training.backend"):
        make_executor(cfg)
