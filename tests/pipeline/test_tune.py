"""pipeline.tune's pieces that need no search: the slot check and the test hooks."""
import pytest

import adanet_spark.pipeline
from adanet_spark.config import load_config
from adanet_spark.errors import BadInputError
from adanet_spark.pipeline import tune


def test_horovod_workers_must_leave_a_slot_for_result_writes(spark):
    """On a local master the Horovod pool holds its slots for the whole search; the
    driver's writes between iterations need one more, or the run would hang."""
    slots = spark.sparkContext.defaultParallelism
    cfg = load_config(None, [f"training.workers={slots}", "training.group_size=1"])
    with pytest.raises(BadInputError, match="training.workers"):
        tune.check_slots(spark.sparkContext, cfg)
    ok = load_config(None, [f"training.workers={max(1, slots - 1)}"])
    tune.check_slots(spark.sparkContext, ok)
    # Other backends hold no slot between iterations.
    tune.check_slots(spark.sparkContext, load_config(None, ["training.backend=spark", f"training.workers={slots}"]))


def test_the_package_s_hooks_are_the_list_tune_calls():
    assert adanet_spark.pipeline.after_iteration_hooks is tune.after_iteration_hooks


def test_bad_input_is_found_before_the_run_starts(spark, warehouse, database):
    """No feature table, or a warm-start model that does not exist: refused before the run
    claims its row, so the result tables are not even created."""
    cfg = load_config(None, ["dataset=nothing_here", f"output.warehouse={warehouse}", f"output.database={database}",
                             "run.id=r1"])
    with pytest.raises(BadInputError, match=f"feature table {database}.features_nothing_here does not exist"):
        tune.run_tune(spark, cfg)
    warm = load_config(None, ["adanet.warm_start=/no/such/model", "training.backend=local"])
    with pytest.raises(BadInputError, match="/no/such/model"):
        tune.check_start(spark, warm, spec=None)
    assert not spark.catalog.tableExists(f"{database}.runs")
