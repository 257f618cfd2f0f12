"""A real short AdaNet search (the core's train_fn) through every backend.

Same seed, groups of one: the backends must select the same architectures with
the same validation objectives, since training is seeded from the payload and
never from the worker.
"""
from __future__ import annotations

import dataclasses
import math

import pytest

train_mod = pytest.importorskip("adanet_spark.adanet.train")
from adanet_spark.adanet.search import AdaNetSearch  # noqa: E402
from adanet_spark.config import AdaNetConfig  # noqa: E402
from adanet_spark.data.spec import FeatureSpec  # noqa: E402
from adanet_spark.execution.base import COMPLETED  # noqa: E402
from adanet_spark.execution.local import LocalExecutor  # noqa: E402
from adanet_spark.execution.spark import SparkExecutor  # noqa: E402
from adanet_spark.execution.stragglers import StragglerPolicy  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")

# No dropping here: a timing-dependent drop would make the comparison flaky.
POLICY = StragglerPolicy(drop=False, max_retries=0)


def _search(executor, data):
    cfg = dataclasses.replace(AdaNetConfig(), max_iterations=2, widths=[8], candidates_per_iteration=2,
                              learning_rates=[3e-3], epochs=2, batch_size=64, patience=2)
    spec = FeatureSpec.from_json(data["train"].spec_json)
    search = AdaNetSearch(cfg, spec, executor=executor, seed=11).fit(data["train"], data["valid"])
    assert all(r.status == COMPLETED for r in search.reports_ if r.kind == "candidate"), \
        [(r.candidate, r.status, r.error) for r in search.reports_]
    return [(h["selected"], h["n_subnetworks"], h["valid_objective"]) for h in search.history_]


def test_same_search_selects_same_architectures_on_every_backend(exec_spark, parquet_data):
    local = _search(LocalExecutor(policy=POLICY, threads_per_worker=1), parquet_data)
    with SparkExecutor(exec_spark, workers=2, policy=POLICY) as ex:
        spark = _search(ex, parquet_data)
    horovod_mod = pytest.importorskip("adanet_spark.execution.horovod")
    with horovod_mod.HorovodExecutor(exec_spark, workers=2, group_size=1, policy=POLICY) as ex:
        horovod = _search(ex, parquet_data)
        assert ex.stats["pool_starts"] == 1  # one pool for the whole search
    assert len(local) >= 1
    for other in (spark, horovod):
        assert [h[:2] for h in other] == [h[:2] for h in local]
        for a, b in zip(other, local):
            assert math.isclose(a[2], b[2], rel_tol=1e-5, abs_tol=1e-6)
