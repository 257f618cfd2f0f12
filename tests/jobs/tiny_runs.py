"""Helpers of the job tests: a tiny dataset and its job arguments (imported as
``tests.jobs.tiny_runs``; fixtures live in conftest.py)."""
import numpy as np
import pandas as pd

from adanet_spark import cli
from jobs import nightly

RUN_ID = "nightly-1"
CANDIDATES = 2


def tiny_frame(n=600, seed=0):
    rng = np.random.default_rng(seed)
    x, z = rng.normal(size=n), rng.normal(size=n)
    color = rng.choice(["red", "green", "blue", "rare"], size=n, p=[.4, .3, .28, .02])
    logit = 1.5 * x * z + np.sin(2 * x) + (color == "red") - 0.3 + 0.5 * rng.normal(size=n)
    return pd.DataFrame({"id": np.arange(n), "x": x, "z": z, "color": color,
                         "answer": np.where(logit > 0, "yes", "no")})


def tiny_argv(path, warehouse, database, run_id, *extra):
    sets = ["dataset=tiny", f"input.path={path}", "input.format=parquet", "input.label=answer",
            "input.positive=yes", "features.split_key=id", "features.derived={xz: x * z}",
            f"output.warehouse={warehouse}", f"output.database={database}", f"run.id={run_id}",
            "run.date=2024-05-01", "adanet.max_iterations=3", "adanet.widths=[4]", "adanet.epochs=1",
            "adanet.batch_size=64", "adanet.learning_rates=[0.05]", "adanet.min_improvement=0",
            f"adanet.candidates_per_iteration={CANDIDATES}", "training.backend=local", "baselines.models=[]",
            *extra]
    return [a for s in sets for a in ("--set", s)]


def run_nightly(argv):
    return cli.run_job("nightly", nightly.main, nightly.parser(), argv=argv)


def rows(spark, database, table, run_id=RUN_ID):
    return [r.asDict() for r in spark.sql(f"SELECT * FROM {database}.{table} WHERE run_id = '{run_id}'").collect()]
