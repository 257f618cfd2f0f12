"""The training, straggler and testing sections: backends, groups, quorum, faults."""
import typing

import pytest
from pydantic import ValidationError

import adanet_spark.config as C
from adanet_spark.config import Backend, FaultConfig, Mode, StragglerConfig, TrainingConfig, load_config


def test_backend_and_mode_literals_are_owned_here():
    assert typing.get_args(Backend) == ("local", "spark", "horovod", "torch_distributor")
    assert typing.get_args(Mode) == ("async", "sync")
    assert TrainingConfig.model_fields["backend"].annotation is Backend
    assert TrainingConfig.model_fields["mode"].annotation is Mode
    assert TrainingConfig().backend == "horovod" and TrainingConfig().mode == "async"


@pytest.mark.parametrize("backend", typing.get_args(Backend))
def test_every_backend_is_accepted(backend):
    assert load_config(overrides=[f"training.backend={backend}"]).training.backend == backend


def test_group_size_between_1_and_workers(names_key):
    with names_key("training.group_size") as info:
        load_config(overrides=["training.workers=2", "training.group_size=3"])
    assert "must be between 1 and training.workers" in str(info.value)
    cfg = load_config(overrides=["training.workers=4", "training.group_size=4"])
    assert cfg.training.group_size == 4


def test_use_gpu_is_for_the_torch_distributor_backend(names_key):
    assert TrainingConfig().use_gpu is False
    with names_key("training.use_gpu") as info:
        load_config(overrides=["training.backend=spark", "training.use_gpu=true"])
    assert "needs training.backend torch_distributor" in str(info.value)
    cfg = load_config(overrides=["training.backend=torch_distributor", "training.use_gpu=true"])
    assert cfg.training.use_gpu is True


def test_a_fault_needs_testing_enabled(names_key):
    with names_key("testing.faults") as info:
        load_config(overrides=["testing.faults=[{candidate: x, fail: kill}]"])
    assert "needs testing.enabled: true" in str(info.value)
    cfg = load_config(overrides=["testing={enabled: true, faults: [{candidate: x, fail: kill}]}"])
    assert cfg.testing.faults == [FaultConfig(candidate="x", fail="kill")]
    assert load_config(overrides=["testing.enabled=true"]).testing.faults == []




def test_fault_fields():
    f = FaultConfig(candidate="deep-*", iteration=2, worker=1, slow_factor=4, fail="raise")
    assert f.slow_factor == 4.0 and f.fail == "raise"
    assert FaultConfig().fail is None and FaultConfig().slow_factor == 1.0


def test_faults_without_testing_are_refused_on_construction_too():
    with pytest.raises(ValidationError, match="needs testing.enabled"):
        C.TestingConfig(enabled=False, faults=[FaultConfig(candidate="x")])
    testing = C.TestingConfig(enabled=True, faults=[FaultConfig(candidate="x")])
    with pytest.raises(ValidationError, match="needs testing.enabled"):
        C.JobConfig(testing=testing.model_copy(update={"enabled": False}))


def test_an_unvalidated_section_can_still_be_assigned():
    # How the executor's own re-check (defence in depth) is tested: model_construct
    # skips validation, and assignment is not validated.
    testing = C.TestingConfig.model_construct(enabled=False, faults=[FaultConfig(candidate="x")])
    cfg = C.JobConfig()
    cfg.testing = testing
    assert cfg.testing.faults[0].candidate == "x" and not cfg.testing.enabled


def test_straggler_defaults():
    s = StragglerConfig()
    assert (s.quorum, s.deadline_factor, s.max_retries) == (0.5, 1.5, 1)


def test_cache_max_bytes_is_the_budget_and_defaults_to_a_share_of_memory(names_key):
    from adanet_spark.config.training import machine_memory_bytes
    with names_key("training.cache_max_bytes"):
        load_config(overrides=["training.cache_max_bytes=-1"])
    with names_key("training.cache_max_bytes"):
        load_config(overrides=["training.cache_max_bytes=2.5"])
    assert load_config(overrides=["training.cache_max_bytes=3000000000"]).training.cache_budget() == 3_000_000_000
    assert load_config(overrides=["training.cache_max_bytes=0"]).training.cache_budget() == 0  # stream all
    memory = machine_memory_bytes()
    assert memory > 2**28
    assert TrainingConfig().cache_max_bytes is None
    assert TrainingConfig(workers=4).cache_budget() == memory // 16  # a quarter of memory, per worker


def test_straggler_policy_keys(names_key):
    s = StragglerConfig()
    assert (s.policy, s.slow_factor, s.prune, s.prune_margin, s.prune_min_progress) == ("progress", 2.0, True,
                                                                                        0.02, 0.5)
    cfg = load_config(overrides=["straggler.policy=quorum_deadline", "straggler.prune=false",
                                 "straggler.slow_factor=4", "straggler.prune_min_progress=0.7"])
    assert (cfg.straggler.policy, cfg.straggler.prune, cfg.straggler.slow_factor) == ("quorum_deadline", False, 4.0)
    for bad in ("policy=deadline", "slow_factor=1", "prune_margin=-0.1", "prune_min_progress=1.5", "prune=maybe"):
        with names_key(f"straggler.{bad.split('=')[0]}"):
            load_config(overrides=[f"straggler.{bad}"])
