"""A real short AdaNet search (the core's train_fn, the local executor) in which a candidate is pruned.

The cheapest candidate of every iteration reports a validation loss made clearly
worse (a fault of this test, like the slow fault of ``testing.faults``: the
candidate trains for real, only what it reports is changed). The pruned candidate
is absent from the results, like a dropped one, and the search goes on.
"""
from __future__ import annotations

import dataclasses

from adanet_spark.adanet.protocol import COMPLETED, PRUNED, Executor
from adanet_spark.adanet.search import AdaNetSearch
from adanet_spark.config import AdaNetConfig
from adanet_spark.data.spec import FeatureSpec
from adanet_spark.execution.local import LocalExecutor
from adanet_spark.execution.pruning import MedianStopping


class WorseLossForTheCheapest(Executor):
    """The local executor, with +1 on every validation loss the cheapest candidate reports."""

    def __init__(self):
        # One other candidate is enough to compare with here (the search may propose only two), and
        # a wide margin leaves the others' natural differences alone: only the +1 is pruned.
        self.inner = LocalExecutor(policy=MedianStopping(min_peers=1, margin=0.5))
        self.outcomes = []

    def run(self, tasks, train_fn, data):
        cheapest = min(tasks, key=lambda t: t.cost).name if len(tasks) > 1 else None

        def worse(payload, data, ctx):
            if payload["spec"]["name"] == cheapest:
                report = ctx.report_progress
                ctx = dataclasses.replace(ctx, report_progress=lambda f, valid_loss=None: report(
                    f, None if valid_loss is None else valid_loss + 1.0))
            return train_fn(payload, data, ctx)

        for outcome in self.inner.run(tasks, worse, data):
            self.outcomes.append((outcome, cheapest))
            yield outcome


def test_a_search_goes_on_without_its_pruned_candidates(parquet_data):
    cfg = AdaNetConfig().model_copy(update=dict(max_iterations=2, candidates_per_iteration=3, widths=[8],
                                                min_steps=40, max_steps=40, check_rows=100, refit_rows=400))
    spec = FeatureSpec.from_json(parquet_data["train"].spec_json)
    ex = WorseLossForTheCheapest()
    search = AdaNetSearch(spec, **cfg.search_params(), executor=ex, seed=3).fit(parquet_data["train"],
                                                                               parquet_data["valid"])
    pruned = [(o.task.name, o.task.iteration) for o, cheapest in ex.outcomes if o.status == PRUNED]
    assert pruned == [(cheapest, o.task.iteration) for o, cheapest in ex.outcomes if o.task.name == cheapest]
    assert {o.status for o, cheapest in ex.outcomes if o.task.name != cheapest} == {COMPLETED}
    assert all(0.5 <= o.extra["progress"] < 1.0 for o, _ in ex.outcomes if o.status == PRUNED)  # stopped early
    records = [r for r in search.reports_ if r.kind == "candidate" and r.status == PRUNED]
    assert len(records) == len(pruned) >= 1 and all(r.error.startswith("pruned: validation loss") for r in records)
    assert not any(r.selected for r in records)
    names = {name for name, _ in pruned}
    assert search.history_ and all(h["selected"] not in names for h in search.history_)
    assert search.history_[0]["selected"] != "previous"  # the others were trained and one was selected
