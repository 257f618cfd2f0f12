"""latest_final_model on real Delta: the latest succeeded run of the dataset, or a given run."""
import os

import pytest

from adanet_spark import catalog
from adanet_spark.results.queries import latest_final_model
from adanet_spark.results.writer import ResultsWriter
from tests.results.fake_runs import cfg_for, fake_run


def test_no_tables_yet_is_none_and_creates_nothing(spark, warehouse, database):
    cfg = cfg_for(warehouse, database, "q")
    assert latest_final_model(spark, cfg) is None
    assert latest_final_model(spark, cfg, run_id="q") is None
    assert not os.path.exists(catalog.table_path(warehouse, database, "runs"))


def test_latest_succeeded_run_of_the_dataset(spark, warehouse, database):
    fake_run(spark, warehouse, database, "a", iterations=2)
    fake_run(spark, warehouse, database, "b", iterations=1)
    fake_run(spark, warehouse, database, "o", iterations=1, dataset="other")
    failed = ResultsWriter(spark, cfg_for(warehouse, database, "f"), job="tune")
    with pytest.raises(RuntimeError):
        with failed.run():  # a final ensemble, then the run fails: never "latest"
            failed.write_iteration(0, [], {"selected_candidate": "c0", "n_subnetworks": 1, "subnetworks": "{}",
                                           "mixture_weights": [1.0], "model_uri": "/m/f/0", "is_final": False})
            failed.mark_final(0, 0.6)
            raise RuntimeError("crash after the final ensemble")
    cfg = cfg_for(warehouse, database, "q")
    assert latest_final_model(spark, cfg) == "/m/b/0"
    assert latest_final_model(spark, cfg, exclude_run="b") == "/m/a/1"
    assert latest_final_model(spark, cfg_for(warehouse, database, "q", dataset="other")) == "/m/o/0"
    # By run id: that run's final ensemble, whether it succeeded or not.
    assert latest_final_model(spark, cfg, run_id="a") == "/m/a/1"
    assert latest_final_model(spark, cfg, run_id="f") == "/m/f/0"
    assert latest_final_model(spark, cfg, run_id="nope") is None
