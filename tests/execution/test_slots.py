"""The one local-slot check, with the executor's (reserve 0) and the pipeline's (reserve 1) rule."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from adanet_spark.errors import BadInputError
from adanet_spark.execution.slots import check_local_slots


def sc(master="local[2]", slots=2):
    return SimpleNamespace(master=master, defaultParallelism=slots)


def test_executor_rule_workers_may_take_every_slot():
    check_local_slots(sc(), 2, reserve=0)
    with pytest.raises(BadInputError, match=r"training.workers' is 3.*local\[2\] has 2 task slots"):
        check_local_slots(sc(), 3, reserve=0)


def test_pipeline_rule_leaves_one_slot_for_the_driver():
    check_local_slots(sc(slots=3), 2, reserve=1)
    with pytest.raises(BadInputError, match=r"training.workers.*leave one.*use local\[3\] or more"):
        check_local_slots(sc(), 2, reserve=1)


def test_other_masters_pass():
    check_local_slots(sc(master="yarn", slots=1), 8, reserve=1)
    check_local_slots(SimpleNamespace(master=None, defaultParallelism=1), 8, reserve=0)
