"""Helpers of the results tests: runs written through the real ResultsWriter, without
training anything (imported as ``tests.results.fake_runs``)."""
from adanet_spark.config import load_config
from adanet_spark.results.writer import ResultsWriter


def cfg_for(warehouse, database, run_id, dataset="w"):
    return load_config(None, [f"dataset={dataset}", f"output.warehouse={warehouse}", f"output.database={database}",
                              f"run.id={run_id}", "run.date=2024-05-01"])


def fake_run(spark, warehouse, database, run_id, iterations=2, dataset="w"):
    """A succeeded tune run: ``iterations`` iterations of two candidates, the last one final."""
    w = ResultsWriter(spark, cfg_for(warehouse, database, run_id, dataset), job="tune")
    with w.run():
        for k in range(iterations):
            cands = [{"candidate": f"c{j}", "status": "completed", "attempts": 1, "selected": j == 0,
                      "valid_auc": 0.6 + k / 10, "loss": 0.5} for j in range(2)]
            w.write_iteration(k, cands, {"selected_candidate": "c0", "n_subnetworks": k + 1, "subnetworks": "{}",
                                         "mixture_weights": [1.0] * (k + 1), "model_uri": f"/m/{run_id}/{k}",
                                         "valid_auc": 0.6 + k / 10, "is_final": False})
        w.mark_final(iterations - 1, 0.7)
        w.write_auc_report("adanet", train_seconds=1.0, eval_seconds=0.5, valid_auc=0.7, test_auc=0.7, trials=4)
    return w
