"""A tiny feature table built by jobs/prepare_features.py, shared by the baseline tests."""
import uuid

import numpy as np
import pandas as pd
import pytest

from adanet_spark import cli
from adanet_spark.config import load_config
from jobs import prepare_features


def tiny_frame(n: int = 1200, seed: int = 0) -> pd.DataFrame:
    """Two numerics and two categoricals with a signal a linear model and a net both find."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    color = rng.choice(["red", "green", "blue", "grey"], size=n)
    city = rng.choice([f"c{i}" for i in range(12)], size=n)
    city_effect = {f"c{i}": (i % 4 - 1.5) * 0.6 for i in range(12)}
    z = 1.2 * x1 - 0.8 * x2 * x1 + (color == "red") * 1.0 + np.vectorize(city_effect.get)(city)
    y = (z + rng.normal(scale=0.8, size=n) > 0.3)
    return pd.DataFrame({"x1": x1, "x2": x2, "color": color, "city": city,
                         "target": np.where(y, "yes", "no")})


def base_overrides(path, warehouse, database):
    return ["dataset=tiny", f"input.path={path}", "input.format=parquet", "input.label=target",
            "input.positive=yes", f"output.warehouse={warehouse}", f"output.database={database}",
            "training.backend=local", "training.mode=async",
            "adanet.embedding_dim_cap=4",
            "baselines.epochs=3", "baselines.patience=1", "baselines.random_trials=3",
            "baselines.grid={depth: [1, 2], width: [16], learning_rate: [0.01], dropout: [0.0],"
            " batch_size: [128], weight_decay: [0.00001]}",
            "baselines.manual={depth: 1, width: 16, learning_rate: 0.01, dropout: 0.0, batch_size: 128,"
            " weight_decay: 0.0}"]


@pytest.fixture(scope="session")
def tiny_table(spark, warehouse, tmp_path_factory):
    """(overrides, database): a prepared feature table ``<database>.features_tiny``."""
    path = tmp_path_factory.mktemp("baselines") / "tiny.parquet"
    tiny_frame().to_parquet(path, index=False)
    database = f"t_bl_{uuid.uuid4().hex[:8]}"
    overrides = base_overrides(path, warehouse, database)
    argv = [a for o in overrides for a in ("--set", o)]
    assert cli.run_job("prepare_features", prepare_features.main, argv=argv) == 0
    return overrides, database


@pytest.fixture
def tiny_cfg(tiny_table):
    """A fresh config (own run id) for the tiny table; extra overrides as arguments."""
    overrides, _ = tiny_table

    def make(*extra):
        return load_config(None, [*overrides, *extra])
    return make
