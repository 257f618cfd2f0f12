"""Config sections of training: ``training``, ``straggler`` and ``testing`` (faults).

``Backend`` and ``Mode`` are defined here, the one place that owns them; the
execution factory keys its builders on the same Literals.
"""
from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field, model_validator

from adanet_spark.config.base import Section, Text, require

Backend = Literal["local", "spark", "horovod"]
Mode = Literal["async", "sync"]
FailMode = Literal["raise", "kill", "always"]


class TrainingConfig(Section):
    backend: Backend = "horovod"
    mode: Mode = "async"
    workers: int = Field(2, ge=1)
    group_size: int = 1
    threads_per_worker: int = 1

    @model_validator(mode="after")
    def _group_fits_workers(self) -> "TrainingConfig":
        require(1 <= self.group_size <= self.workers, "group_size",
                f"must be between 1 and training.workers ({self.workers}), got {self.group_size}")
        return self


class StragglerConfig(Section):
    quorum: float = Field(0.5, gt=0.0, le=1.0)
    deadline_factor: float = Field(1.5, ge=1.0)
    max_retries: int = Field(1, ge=0)


class FaultConfig(Section):
    candidate: Optional[Text] = None
    iteration: Optional[int] = None
    worker: Optional[int] = None
    slow_factor: float = Field(1.0, ge=1.0)
    fail: Optional[FailMode] = None


class TestingConfig(Section):
    __test__ = False  # not a pytest test class, despite its name

    enabled: bool = False
    faults: list[FaultConfig] = Field(default_factory=list)

    @model_validator(mode="after")
    def _faults_need_testing(self) -> "TestingConfig":
        require(not self.faults or self.enabled, "faults",
                "needs testing.enabled: true (fault injection is refused in production runs)")
        return self
