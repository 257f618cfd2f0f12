"""AdaNet search on the feature table of a dataset -> runs, candidates, ensembles, auc_reports.

./spark-submit.sh jobs/tune.py --conf conf/flights.yaml [--set run.id=r1] [--set key=value ...] [--fresh]

A rerun with the same run.id resumes from its last completed iteration; --fresh
discards the run's earlier progress and starts it over.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from adanet_spark import cli, pipeline  # noqa: E402


def main(spark, cfg, args):
    out = pipeline.run_tune(spark, cfg, fresh=getattr(args, "fresh", False))
    print(f"run {out.run_id}: final ensemble of iteration {out.final_iteration} ({out.n_subnetworks} subnetworks), "
          f"valid AUC {pipeline._fmt(out.valid_auc)}, test AUC {pipeline._fmt(out.test_auc)}")
    print(f"model: {out.model_uri}")


def parser():
    p = cli.base_parser("AdaNet search on a feature table; results in Delta tables")
    p.add_argument("--fresh", action="store_true", help="start the run over instead of resuming it")
    return p


if __name__ == "__main__":
    cli.exit_with(cli.run_job("tune", main, parser()))
