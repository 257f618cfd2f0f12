"""Train the configured baselines on a feature table and write their auc_reports rows.

./spark-submit.sh jobs/baselines.py --conf conf/flights.yaml \
    [--set baselines.models=[logistic_regression,manual_nn,grid_search_nn,random_search_nn]] \
    [--set training.backend=spark] [--set key=value ...]

Exits 1 (after writing every row) when a baseline failed.
"""
from adanet_spark import cli
from adanet_spark.baselines.runner import failed_models, format_rows, run_baselines


def main(spark, cfg, args):
    rows = run_baselines(spark, cfg)
    print(f"baselines of {cfg.dataset} (run {cfg.run.id}):")
    print(format_rows(rows))
    failed = failed_models(rows)
    if failed:
        raise RuntimeError(f"baseline(s) failed: {', '.join(failed)} (see auc_reports.notes)")


if __name__ == "__main__":
    cli.exit_with(cli.run_job("baselines", main))
