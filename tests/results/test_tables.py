"""The table definitions: NULL for missing metrics, and value lists derived from their one source."""
import math
from typing import get_args

import numpy as np

from adanet_spark.adanet.protocol import STATUSES
from adanet_spark.config import BaselineModel
from adanet_spark.results import tables


def test_nan_to_none_keeps_numbers_and_drops_nan():
    assert tables.nan_to_none(None) is None
    assert tables.nan_to_none(math.nan) is None
    assert tables.nan_to_none(np.float32("nan")) is None
    value = tables.nan_to_none(np.float32(0.5))
    assert value == 0.5 and type(value) is float
    assert tables.nan_to_none(3) == 3.0 and type(tables.nan_to_none(3)) is float
    assert tables.nan_to_none(-math.inf) == -math.inf  # only NaN is "no value"


def test_models_are_adanet_and_the_configs_baselines():
    assert tables.MODELS[0] == "adanet"
    assert tables.MODELS[1:] == get_args(BaselineModel)
    assert "random_search_nn" in tables.MODELS


def test_column_comments_list_the_allowed_values():
    def comment(table, column):
        return tables.TABLES[table].schema[column].metadata["comment"]

    assert comment(tables.CANDIDATES, "status") == "completed, dropped_straggler or failed"
    assert all(s in comment(tables.CANDIDATES, "status") for s in STATUSES)
    assert comment(tables.RUNS, "status") == "running, succeeded or failed"
    assert comment(tables.AUC_REPORTS, "model") == ", ".join(tables.MODELS[:-1]) + " or " + tables.MODELS[-1]
