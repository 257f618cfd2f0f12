"""The split cache's memory budget: a split under it is held in memory once per process, a
split over it is handed to the trainer as a stream; the choice is logged per split."""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import pytest
import torch

from adanet_spark.adanet.protocol import BatchStream
from adanet_spark.config import TrainingConfig
from adanet_spark.execution import split_cache
from adanet_spark.execution.split_cache import CACHED, STREAMED, CachedSplit, StreamedSplit

TRAIN_BYTES = 400 * (3 * 4 + 4)  # the fixture's train split: 400 rows, 3 numeric features
VALID_BYTES = 100 * (3 * 4 + 4)


@pytest.fixture(autouse=True)
def empty_cache():
    split_cache.clear()
    yield
    split_cache.clear()


@pytest.fixture
def budgeted(parquet_data):
    """The tiny table's splits with a 3 KB budget: train (6.4 KB) over it, valid (1.6 KB) under."""
    return {name: replace(ref, cache_max_bytes=3000) for name, ref in parquet_data.items()}


def test_the_estimate_comes_from_metadata_and_decides(budgeted):
    train, valid = budgeted["train"], budgeted["valid"]
    assert train.in_memory_bytes() == TRAIN_BYTES and valid.in_memory_bytes() == VALID_BYTES
    assert split_cache.decide(train) == (STREAMED, TRAIN_BYTES, 3000)
    assert split_cache.decide(valid) == (CACHED, VALID_BYTES, 3000)
    assert split_cache.decide(train, max_bytes=TRAIN_BYTES)[0] == CACHED  # at the budget: still fits
    assert split_cache.decide(valid, max_bytes=0)[0] == STREAMED  # 0 streams everything


def test_without_a_budget_the_worker_uses_the_config_default(parquet_data):
    default = TrainingConfig().cache_budget()
    assert parquet_data["train"].cache_max_bytes is None
    assert split_cache.decide(parquet_data["train"]) == (CACHED, TRAIN_BYTES, default)
    assert default > 0


def test_over_the_budget_the_trainer_gets_a_stream_without_load(budgeted, caplog):
    with caplog.at_level(logging.INFO, logger=split_cache.__name__):
        data = split_cache.cached(budgeted)
    train, valid = data["train"], data["valid"]
    assert isinstance(train, StreamedSplit) and isinstance(train, BatchStream)
    assert not hasattr(train, "load")  # what tells the core to read it batch by batch
    assert isinstance(valid, CachedSplit) and not isinstance(valid, StreamedSplit)
    assert "train split: streamed, 6.4 KB > budget 3.0 KB" in caplog.text
    assert "valid split: cached 1.6 KB" in caplog.text
    assert train.num_rows() == 400 and train.spec_json == budgeted["train"].spec_json
    streamed = torch.cat([b.numeric for b in train.batches(128, shuffle=False)])
    assert torch.equal(streamed, budgeted["train"].load().numeric)
    assert split_cache.cached(data)["train"] is train  # wrapping twice does not nest


def test_preload_reads_the_cached_splits_only(budgeted):
    data = split_cache.preload(split_cache.cached(budgeted))
    assert split_cache.size() == 1  # valid; train is read while the candidate trains
    assert data["valid"].load() is split_cache.cached(budgeted)["valid"].load()


def test_a_cached_split_s_rank_share_is_cached_too(parquet_data):
    train = split_cache.cached(parquet_data)["train"]
    share = train.for_rank(1, 2)
    assert isinstance(share, CachedSplit) and share.ref == parquet_data["train"].for_rank(1, 2)
    first = share.load()
    assert len(first) == parquet_data["train"].num_rows(1, 2) and split_cache.size() == 1
    assert train.for_rank(1, 2).load() is first  # the next candidate's rank 1 reads nothing


@dataclass(frozen=True)
class Unsized:
    """A reference that cannot say its size, nor stream."""

    name: str

    def load(self):
        return torch.zeros(1)


@dataclass(frozen=True)
class Huge(Unsized):
    def in_memory_bytes(self) -> int:
        return 10**15


def test_what_cannot_stream_or_has_no_size_is_cached(caplog):
    with caplog.at_level(logging.INFO, logger=split_cache.__name__):
        data = split_cache.cached({"a": Unsized("a"), "b": Huge("b")}, max_bytes=1)
    assert isinstance(data["a"], CachedSplit) and isinstance(data["b"], CachedSplit)
    assert "a split: cached (size unknown)" in caplog.text
    assert "b split: 1000000.0 GB > budget 1 B, but it cannot be streamed: cached" in caplog.text
    assert not hasattr(data["a"], "for_rank")  # nothing to delegate: the core shards in memory


def test_sizes_read_in_decimal_units():
    assert [split_cache.human_bytes(n) for n in (512, 6400, 1.2e9, 8.1e12)] == [
        "512 B", "6.4 KB", "1.2 GB", "8100.0 GB"]


@pytest.mark.parametrize("budget, wrapper", [(0, StreamedSplit), (10**9, CachedSplit)])
def test_the_core_trains_on_what_the_cache_hands_over(parquet_data, budget, wrapper):
    """Streamed or cached, the same candidate trains on the same rows (the real core)."""
    from adanet_spark.adanet.architecture import CandidateSpec, InputSpec
    from adanet_spark.adanet.train import TrainBudget, train_candidate
    from adanet_spark.data.spec import FeatureSpec
    data = split_cache.cached({k: replace(v, cache_max_bytes=budget) for k, v in parquet_data.items()})
    assert isinstance(data["train"], wrapper) and isinstance(data["valid"], wrapper)
    spec = FeatureSpec.from_json(parquet_data["train"].spec_json)
    candidate = CandidateSpec(name="d1-w8", depth=1, width=8, learning_rate=1e-2,
                              inputs=InputSpec.from_feature_spec(spec, 4))
    budget_ = TrainBudget.from_dict({"batch_size": 64, "epochs": 2, "min_steps": 40, "max_steps": 40})
    res = train_candidate(candidate, data, budget_, seed=3)
    assert res.n_train == 400 and res.valid["auc"] > 0.7  # the label follows x0 + x1 / 2
