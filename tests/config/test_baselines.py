"""The baselines section: models, the manual net, the search space and the grid inside it."""
import typing

import pytest

from adanet_spark.config import (NET_PARAMS, BaselineModel, BaselinesConfig, GridConfig, NetConfig, RangeConfig,
                                 SearchSpaceConfig, load_config)
from adanet_spark.errors import BadInputError


def test_defaults():
    b = BaselinesConfig()
    assert b.models == ["logistic_regression"] and b.seed is None
    assert b.search_space.width == RangeConfig(low=16, high=512, log=True)
    assert b.search_space.depth.low == 1 and b.search_space.depth.high == 4
    assert b.grid.depth == [1, 2, 3] and b.manual.width == 128
    assert list(NET_PARAMS) == list(NetConfig.model_fields) == list(GridConfig.model_fields) \
        == list(SearchSpaceConfig.model_fields)


def test_default_sections_are_not_shared():
    a, b = SearchSpaceConfig(), SearchSpaceConfig()
    a.depth.high = 8
    assert b.depth.high == 4


def test_every_baseline_model_is_accepted():
    models = list(typing.get_args(BaselineModel))
    assert load_config(overrides=[f"baselines.models={models}"]).baselines.models == models


def test_grid_value_outside_the_search_space(names_key):
    with names_key("baselines.grid.depth"):
        load_config(overrides=["baselines.grid.depth=[1, 9]"])
    with pytest.raises(BadInputError, match=r"value 1024 is outside baselines.search_space.width \[16, 512\]"):
        load_config(overrides=["baselines.grid.width=[1024]"])
    # widening the space lets the same grid value in
    cfg = load_config(overrides=["baselines.grid.width=[1024]", "baselines.search_space.width={low: 16, high: 2048, log: true}"])
    assert cfg.baselines.grid.width == [1024]


@pytest.mark.parametrize("override,key,message", [
    ("baselines.search_space.depth={low: 3, high: 2}", "baselines.search_space.depth", "needs low <= high"),
    ("baselines.search_space.dropout={low: 0, high: 0.2, log: true}", "baselines.search_space.dropout",
     "with log: true needs low > 0"),
    ("baselines.search_space.depth={low: 1.5, high: 3}", "baselines.search_space.depth", "whole number"),
    ("baselines.search_space.learning_rate={low: 0, high: 0.1}", "baselines.search_space.learning_rate",
     "must be > 0"),
    ("baselines.search_space.dropout={low: 0, high: 1}", "baselines.search_space.dropout", "must be < 1"),
    ("baselines.search_space.width={low: 0, high: 8}", "baselines.search_space.width", "must be >= 1"),
    ("baselines.search_space.width.lo=1", "baselines.search_space.width.lo", "unknown config key"),
    ("baselines.manual.depth=0", "baselines.manual.depth", "must be >= 1"),
    ("baselines.manual.learning_rate=0", "baselines.manual.learning_rate", "must be > 0"),
    ("baselines.manual.dropout=1", "baselines.manual.dropout", "must be < 1"),
    ("baselines.manual.weight_decay=-1", "baselines.manual.weight_decay", "must be >= 0"),
    ("baselines.manual.width=1.5", "baselines.manual.width", "must be an integer"),
    ("baselines.grid.width=[]", "baselines.grid.width", "at least one value"),
    ("baselines.grid.depth=[1, 1]", "baselines.grid.depth", "must not repeat a value"),
    ("baselines.models=[manual_nn, manual_nn]", "baselines.models", "must not repeat a model"),
    ("baselines.models=[lightgbm]", "baselines.models[0]", "must be one of"),
    ("baselines.models=manual_nn", "baselines.models", "must be a list"),
    ("baselines.random_trials=0", "baselines.random_trials", ">= 1"),
    ("baselines.lr_reg_params=[-1]", "baselines.lr_reg_params[0]", ">= 0"),
    ("baselines.lr_reg_params=[]", "baselines.lr_reg_params", "at least 1"),
    ("baselines.lr_reg_params=[0.1, 0.1]", "baselines.lr_reg_params", "must not repeat a value"),
    ("baselines.xgboost.max_depth=[0]", "baselines.xgboost.max_depth[0]", ">= 1"),
    ("baselines.xgboost.learning_rate=[0]", "baselines.xgboost.learning_rate[0]", "> 0"),
    ("baselines.xgboost.early_stopping_rounds=0", "baselines.xgboost.early_stopping_rounds", ">= 1"),
    ("baselines.lr_elastic_net=2", "baselines.lr_elastic_net", "<= 1"),
    ("baselines.lr_max_iter=0", "baselines.lr_max_iter", ">= 1"),
    ("baselines.epochs=0", "baselines.epochs", "> 0"),
    ("baselines.patience=-1", "baselines.patience", ">= 0"),
])
def test_bad_value_names_the_key(names_key, override, key, message):
    with names_key(key) as info:
        load_config(overrides=[override])
    assert message in str(info.value)


def test_point_range_and_whole_floats_are_fine():
    cfg = load_config(overrides=["baselines.search_space.depth={low: 2.0, high: 2}", "baselines.grid.depth=[2]"])
    assert cfg.baselines.search_space.depth.low == cfg.baselines.search_space.depth.high == 2.0


def test_net_params_table():
    integer = [name for name, (is_int, *_rest) in NET_PARAMS.items() if is_int]
    assert integer == ["depth", "width", "batch_size"]
    assert NET_PARAMS["dropout"] == (False, 0.0, False, 1.0)
