"""AdaNet search on the feature table of a dataset -> runs, candidates, ensembles, auc_reports.

./spark-submit.sh jobs/tune.py --conf conf/flights.yaml [--set run.id=r1] [--set key=value ...] [--fresh]

A rerun with the same run.id resumes from its last completed iteration; --fresh
discards the run's earlier progress and starts it over.
"""
from adanet_spark import cli
from adanet_spark.pipeline.tune import run_tune

main, parser = cli.resumable_job(run_tune, "AdaNet search on a feature table; results in Delta tables")


if __name__ == "__main__":
    cli.exit_with(cli.run_job("tune", main, parser()))
