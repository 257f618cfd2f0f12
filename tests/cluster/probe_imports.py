"""A Spark application the cluster tests submit (``./spark-submit.sh tests/cluster/probe_imports.py
<warehouse>``): where the worker processes of each backend import ``adanet_spark`` from.

Runs one task on every backend that trains on executors and prints one JSON line:
``{"driver": file, "<backend>": {"file", "cwd"} | {"error"}}``.
"""
import json
import sys

from adanet_spark.adanet.protocol import COMPLETED, CandidateTask
from adanet_spark.config import load_config
from adanet_spark.execution.factory import make_executor
from adanet_spark.session import get_session

BACKENDS = ("spark", "horovod", "torch_distributor")


def where(payload, data, ctx):
    """The train_fn: runs in the backend's worker process (shipped by value: defined in __main__)."""
    import os

    import adanet_spark
    return {"file": os.path.abspath(adanet_spark.__file__), "cwd": os.getcwd()}


def main(warehouse: str) -> None:
    import adanet_spark
    spark = get_session("adanet-spark import probe", warehouse)
    out = {"driver": adanet_spark.__file__}
    for backend in BACKENDS:
        cfg = load_config(overrides=[f"training.backend={backend}", "training.workers=2"])
        with make_executor(cfg, spark, drop_stragglers=False) as ex:
            (o,) = list(ex.run([CandidateTask(1, "probe", {})], where, {}))
        out[backend] = o.result if o.status == COMPLETED else {"error": o.error}
    print(json.dumps(out), flush=True)
    spark.stop()


if __name__ == "__main__":
    main(sys.argv[1])
