"""The declared search space and grid: validation, enumeration, seeded sampling (no Spark)."""
import pytest

from adanet_spark.baselines.nets import trials_for
from adanet_spark.baselines.search_space import NetParams, grid_trials, random_trials
from adanet_spark.config import load_config
from adanet_spark.errors import BadInputError


@pytest.mark.parametrize("override, key", [
    ("baselines.search_space.depth={low: 3, high: 2}", "baselines.search_space.depth"),
    ("baselines.search_space.depth.low=0", "baselines.search_space.depth"),
    ("baselines.search_space.depth.high=2.5", "baselines.search_space.depth"),
    ("baselines.search_space.width.low=-4", "baselines.search_space.width"),
    ("baselines.search_space.learning_rate={low: 0, high: 0.1}", "baselines.search_space.learning_rate"),
    ("baselines.search_space.dropout.high=1.0", "baselines.search_space.dropout"),
    ("baselines.search_space.batch_size={low: 0, high: 64}", "baselines.search_space.batch_size"),
    ("baselines.search_space.weight_decay={low: 0, high: 0.01, log: true}",
     "baselines.search_space.weight_decay"),
    ("baselines.search_space.depth.lo=1", "baselines.search_space.depth.lo"),
    ("baselines.grid.width=[1024]", "baselines.grid.width"),
    ("baselines.grid.dropout=[]", "baselines.grid.dropout"),
    ("baselines.grid.depth=[1, 1]", "baselines.grid.depth"),
    ("baselines.grid.learning_rate=[fast]", "baselines.grid.learning_rate[0]"),
    ("baselines.manual.width=0", "baselines.manual.width"),
    ("baselines.random_trials=0", "baselines.random_trials"),
    ("baselines.epochs=0", "baselines.epochs"),
    ("baselines.lr_elastic_net=1.5", "baselines.lr_elastic_net"),
    ("baselines.models=[lightgbm]", "baselines.models[0]"),
])
def test_bad_search_space_names_the_key(override, key):
    with pytest.raises(BadInputError) as err:
        load_config(None, [override])
    assert f"'{key}'" in str(err.value)


def test_defaults_are_valid_and_grid_is_the_product():
    cfg = load_config(None, [])
    assert cfg.baselines.models == ["logistic_regression"]
    grid = grid_trials(cfg.baselines.grid)
    g = cfg.baselines.grid
    assert len(grid) == len(g.depth) * len(g.width) * len(g.learning_rate) * len(g.dropout) \
        * len(g.batch_size) * len(g.weight_decay)
    assert len(set(grid)) == len(grid)
    assert grid[0] == NetParams(g.depth[0], g.width[0], g.learning_rate[0], g.dropout[0], g.batch_size[0],
                                g.weight_decay[0])
    assert trials_for("manual_nn", cfg) == [NetParams.from_config(cfg.baselines.manual)]


def test_random_search_is_seeded_and_stays_in_the_space():
    cfg = load_config(None, ["baselines.random_trials=30"])
    space = cfg.baselines.search_space
    a = random_trials(space, 30, seed=7)
    assert a == random_trials(space, 30, seed=7)
    assert a != random_trials(space, 30, seed=8)
    assert a[:5] == random_trials(space, 5, seed=7)  # more trials extend, never reshuffle
    for t in a:
        for name in ("depth", "width", "learning_rate", "dropout", "batch_size", "weight_decay"):
            dim = getattr(space, name)
            assert dim.low <= getattr(t, name) <= dim.high, (name, t)
        assert isinstance(t.depth, int) and isinstance(t.width, int) and isinstance(t.batch_size, int)
    assert len({t.depth for t in a}) > 1 and len({t.learning_rate for t in a}) == 30
    # seed: baselines.seed, else run.seed
    assert trials_for("random_search_nn", load_config(None, ["run.seed=3"])) == \
        random_trials(space, 20, 3)
    assert trials_for("random_search_nn", load_config(None, ["run.seed=3", "baselines.seed=9"])) == \
        random_trials(space, 20, 9)
