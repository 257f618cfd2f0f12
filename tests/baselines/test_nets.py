"""The neural baselines: trials as AdaNet candidate tasks, the choice of the best, and
tuning end to end on the local and spark backends (the tiny feature table)."""
import pytest

from adanet_spark.baselines import runner
from adanet_spark.baselines.nets import Trial, net_tasks, select_best, trials_for
from adanet_spark.baselines.search_space import NetParams
from adanet_spark.config import load_config
from adanet_spark.data.spec import CategoricalFeature, FeatureSpec, NumericFeature
from tests.baselines.checks import auc_rows, check_row


def test_tasks_are_candidate_tasks_from_an_empty_ensemble():
    cfg = load_config(None, [])
    spec = FeatureSpec("toy", (NumericFeature("x", 0.0, 1.0, 0.0),), (CategoricalFeature("c", ("a", "b")),))
    trials = trials_for("grid_search_nn", cfg)
    tasks = net_tasks("grid_search_nn", trials, spec, cfg)
    assert [t.name for t in tasks] == [f"grid_search_nn-{i:02d}" for i in range(len(trials))]
    p = tasks[0].payload
    assert p["kind"] == "adanet_candidate" and p["iteration"] == 0
    assert p["spec"]["depth"] == trials[0].depth and p["spec"]["connections"] is False
    assert p["budget"]["lambda_"] == 0.0 and p["budget"]["refit_mixture_weights"] is False
    # AdaNet's step budget (epochs, patience: baselines.* unset), the trial's batch size
    assert p["budget"]["batch_size"] == trials[0].batch_size and p["budget"]["epochs"] == cfg.adanet.epochs
    assert p["budget"]["patience"] == cfg.adanet.patience and p["budget"]["max_steps"] == cfg.adanet.max_steps
    own = net_tasks("grid_search_nn", trials, spec, load_config(None, ["baselines.epochs=2.5", "baselines.patience=1"]))
    assert own[0].payload["budget"]["epochs"] == 2.5 and own[0].payload["budget"]["patience"] == 1
    assert '"subnetworks": []' in p["ensemble"]["architecture"]
    assert len({t.payload["seed"] for t in tasks}) == len(tasks)
    assert net_tasks("grid_search_nn", trials, spec, cfg)[3].payload["seed"] == tasks[3].payload["seed"]


def test_best_trial_by_valid_auc_ties_to_the_earlier():
    p = NetParams(1, 8, 0.01, 0.0, 32, 0.0)
    trials = [Trial("a", p, "completed", valid_auc=0.7), Trial("b", p, "failed"),
              Trial("c", p, "completed", valid_auc=0.8), Trial("d", p, "completed", valid_auc=0.8)]
    assert select_best(trials).name == "c"
    assert select_best([Trial("b", p, "failed")]) is None


def test_neural_baselines_local_backend(spark, tiny_cfg, tiny_table):
    cfg = tiny_cfg("baselines.models=[manual_nn, grid_search_nn, random_search_nn]")
    details = {}
    rows = {r["model"]: r for r in runner.run_baselines(spark, cfg, details=details)}
    check_row(rows["manual_nn"], "manual_nn", 1)
    check_row(rows["grid_search_nn"], "grid_search_nn", 2)
    check_row(rows["random_search_nn"], "random_search_nn", 3)
    grid = details["grid_search_nn"]
    assert grid.best.valid_auc == max(t.valid_auc for t in grid.trials)
    assert rows["grid_search_nn"]["valid_auc"] == grid.best.valid_auc
    assert grid.best.params.label() in rows["grid_search_nn"]["notes"]
    assert all(0 <= t.best_epoch <= t.epochs_run for t in grid.trials)  # passes over train, best restored
    assert set(auc_rows(spark, tiny_table[1], cfg.run.id)) == set(rows)


def test_random_search_is_reproducible(spark, tiny_cfg):
    def search(seed):
        cfg = tiny_cfg(f"run.seed={seed}", "baselines.random_trials=2")
        details = {}
        row = runner.run_baselines(spark, cfg, models=["random_search_nn"], write=False, details=details)[0]
        res = details["random_search_nn"]
        return [t.params for t in res.trials], res.best.params, row

    trials_a, best_a, row_a = search(5)
    trials_b, best_b, row_b = search(5)
    assert trials_a == trials_b and best_a == best_b
    assert row_a["valid_auc"] == row_b["valid_auc"] and row_a["test_auc"] == pytest.approx(row_b["test_auc"])
    trials_c, _, _ = search(6)
    assert trials_c != trials_a


def test_neural_baseline_on_spark_executors(spark, tiny_cfg):
    """Trials as concurrent Spark jobs (the benchmark's backend): same trials, same choice."""
    cfg = tiny_cfg("training.backend=spark", "training.workers=2", "baselines.random_trials=2")
    local = tiny_cfg("baselines.random_trials=2")
    local.run.id = cfg.run.id
    details, local_details = {}, {}
    row = runner.run_baselines(spark, cfg, models=["random_search_nn"], write=False, details=details)[0]
    check_row(row, "random_search_nn", 2)
    runner.run_baselines(spark, local, models=["random_search_nn"], write=False, details=local_details)
    spark_trials = details["random_search_nn"].trials
    local_trials = local_details["random_search_nn"].trials
    assert [t.params for t in spark_trials] == [t.params for t in local_trials]
    assert [t.valid_auc for t in spark_trials] == pytest.approx([t.valid_auc for t in local_trials], abs=1e-4)
