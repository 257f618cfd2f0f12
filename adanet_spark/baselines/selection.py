"""A baseline after its selection: every setting chosen on the valid split, test not yet read.

Each model's ``select_*`` function trains on the train split, picks its settings
(trial, regularisation, depth, learning rate) by the valid split's AUC and returns
a :class:`Selected`; only then does :meth:`Selected.test_auc` score the test split,
once. The split of what a model may read while it chooses from what it is judged
on is structural: selection gets the feature table (or a view of it without the
test rows) and the train/valid references only.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

# (spark, feature table, split name) -> (exact AUC, rows scored)
Scorer = Callable[[Any, Any, str], "tuple[float, int]"]
SELECTION_SPLITS = ("train", "valid")


@dataclass
class Selected:
    model: str
    train_seconds: float  # wall time of the whole selection: every fit / trial
    valid_auc: float  # of the chosen setting
    trials: int  # fits or trials that completed
    notes: str
    scorer: Scorer
    detail: Any = None  # the model module's full result (trials, fitted model)

    def test_auc(self, spark: Any, table: Any) -> tuple[float, float, int]:
        """``(auc, seconds, rows)`` on the test split of ``table`` (a FeatureTable)."""
        t0 = time.perf_counter()
        auc, rows = self.scorer(spark, table, "test")
        return float(auc), time.perf_counter() - t0, int(rows)


def selection_refs(refs: Any) -> dict:
    """Only the train and valid references: what selection may read (``refs['test']`` is absent)."""
    return {name: refs[name] for name in SELECTION_SPLITS}
