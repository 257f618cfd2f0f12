"""The per-process split cache: hashable references read once, LRU, in-memory data untouched."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
import torch

from adanet_spark.data.tensors import TensorData
from adanet_spark.execution import split_cache


@dataclass(frozen=True)
class Ref:
    name: str
    spec_json: str = "{}"

    def load(self):
        Ref.reads.append(self.name)
        return TensorData(torch.zeros(2, 1), torch.zeros(2, 0, dtype=torch.long), torch.zeros(2))


Ref.reads = []


@pytest.fixture(autouse=True)
def empty_cache():
    split_cache.clear()
    Ref.reads.clear()
    yield
    split_cache.clear()


def test_hashable_references_are_read_once_per_process():
    first = split_cache.cached({"train": Ref("a")})
    again = split_cache.cached({"train": Ref("a")})  # an equal reference, e.g. the next candidate's
    assert first["train"].load() is again["train"].load()
    assert Ref.reads == ["a"]
    assert first["train"].spec_json == "{}"  # fields of the reference stay readable


def test_in_memory_data_and_plain_values_pass_through():
    tensors = TensorData(torch.zeros(1, 1), torch.zeros(1, 0, dtype=torch.long), torch.zeros(1))
    out = split_cache.cached({"train": tensors, "note": "x"})
    assert out["train"] is tensors and out["note"] == "x"
    assert split_cache.size() == 0


def test_preload_reads_now():
    data = split_cache.preload(split_cache.cached({"train": Ref("a"), "valid": Ref("b")}))
    assert sorted(Ref.reads) == ["a", "b"] and split_cache.size() == 2
    data["train"].load()
    assert len(Ref.reads) == 2


def test_least_recently_used_goes_first():
    refs = [Ref(f"r{i}") for i in range(split_cache.CAPACITY)]
    for r in refs:
        split_cache.cached({"x": r})["x"].load()
    split_cache.cached({"x": refs[0]})["x"].load()  # r0 is now the most recent
    split_cache.cached({"x": Ref("new")})["x"].load()  # pushes out r1
    assert split_cache.size() == split_cache.CAPACITY
    Ref.reads.clear()
    split_cache.cached({"x": refs[0]})["x"].load()
    split_cache.cached({"x": refs[1]})["x"].load()
    assert Ref.reads == ["r1"]


def test_wrapping_twice_does_not_nest():
    once = split_cache.cached({"train": Ref("a")})
    assert split_cache.cached(once)["train"] is once["train"]
