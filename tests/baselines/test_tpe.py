"""tpe_search_nn: Optuna's TPE over the random search's space; seeded, batched like the
executor's slots, and its auc_reports row on the tiny feature table."""
import math

import optuna
import pytest

from adanet_spark.baselines import runner
from adanet_spark.baselines.nets import Trial
from adanet_spark.baselines.search_space import PARAMS
from adanet_spark.baselines.tpe import startup_trials, suggest, tpe_trials
from adanet_spark.config import load_config
from tests.baselines.checks import auc_rows, check_row


def scored_batch(calls):
    """A deterministic stand-in for training: valid AUC peaks at width 128, depth 2."""
    def run_batch(params, first):
        calls.append((first, len(params)))
        out = []
        for i, p in enumerate(params):
            auc = 0.9 - 0.05 * abs(math.log2(p.width / 128)) - 0.02 * abs(p.depth - 2)
            out.append(Trial(f"t-{first + i:02d}", p, "completed" if p.width != 16 else "failed", valid_auc=auc))
        return out
    return run_batch


def test_suggestions_stay_in_the_random_search_s_space():
    space = load_config(None, ["baselines.search_space.depth={low: 2, high: 2}", "baselines.grid.depth=[2]"]
                        ).baselines.search_space
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(30):
        p = suggest(study.ask(), space)
        for name in PARAMS:
            dim = getattr(space, name)
            assert dim.low <= getattr(p, name) <= dim.high, name
        assert p.depth == 2 and isinstance(p.width, int) and isinstance(p.batch_size, int)


def test_a_fixed_seed_gives_the_same_trials_and_batches_follow_the_workers():
    space = load_config(None, []).baselines.search_space
    calls = []
    a = tpe_trials(space, 9, 2, seed=11, run_batch=scored_batch(calls))
    b = tpe_trials(space, 9, 2, seed=11, run_batch=scored_batch([]))
    c = tpe_trials(space, 9, 2, seed=12, run_batch=scored_batch([]))
    assert [t.params for t in a] == [t.params for t in b]
    assert [t.params for t in a] != [t.params for t in c]
    assert calls == [(0, 2), (2, 2), (4, 2), (6, 2), (8, 1)]  # batches of training.workers, numbered on
    assert startup_trials(20, 2) == 10 and startup_trials(9, 2) == 4 and startup_trials(4, 3) == 3


def test_tpe_learns_from_the_results():
    """After the random start-up, proposals move towards the best region (width 128)."""
    space = load_config(None, []).baselines.search_space
    done = tpe_trials(space, 40, 2, seed=3, run_batch=scored_batch([]))
    start, later = done[:10], done[-10:]
    def gap(ts):
        return sum(abs(math.log2(t.params.width / 128)) for t in ts) / len(ts)
    assert gap(later) < gap(start)


def test_tpe_search_nn_writes_its_row_and_is_reproducible(spark, tiny_cfg, tiny_table):
    def search(seed, write):
        cfg = tiny_cfg(f"run.seed={seed}", "baselines.random_trials=4", "training.workers=2")
        details = {}
        row = runner.run_baselines(spark, cfg, models=["tpe_search_nn"], write=write, details=details)[0]
        return cfg, row, details["tpe_search_nn"]

    cfg, row, res = search(5, True)
    check_row(row, "tpe_search_nn", 4)
    assert [t.name for t in res.trials] == [f"tpe_search_nn-{i:02d}" for i in range(4)]
    assert res.best.valid_auc == max(t.valid_auc for t in res.trials) == row["valid_auc"]
    written = auc_rows(spark, tiny_table[1], cfg.run.id)
    assert set(written) == {"tpe_search_nn"} and written["tpe_search_nn"]["test_auc"] == pytest.approx(row["test_auc"])
    _, row_b, res_b = search(5, False)
    assert [t.params for t in res_b.trials] == [t.params for t in res.trials]
    assert row_b["valid_auc"] == row["valid_auc"]
