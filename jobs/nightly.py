"""The nightly batch: prepare features -> AdaNet search -> baselines -> report, one run_id.

./spark-submit.sh jobs/nightly.py --conf conf/flights.yaml
./spark-submit.sh jobs/nightly.py --conf conf/default.yaml --set dataset=mydata \
    --set input.path=/data/x.parquet --set input.format=parquet --set input.label=y \
    --set run.id=r1 --set adanet.max_iterations=3

A rerun with the same run.id resumes (the feature table it built is reused, the
search continues after its last completed iteration); --fresh starts it over.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from adanet_spark import cli, pipeline  # noqa: E402


def main(spark, cfg, args):
    out = pipeline.run_nightly(spark, cfg, fresh=getattr(args, "fresh", False))
    print(f"run {out.run_id}: final ensemble of iteration {out.final_iteration} ({out.n_subnetworks} subnetworks), "
          f"valid AUC {pipeline._fmt(out.valid_auc)}, test AUC {pipeline._fmt(out.test_auc)}")
    print(f"model: {out.model_uri}")


def parser():
    p = cli.base_parser("Nightly AdaNet batch: features, search, baselines, report")
    p.add_argument("--fresh", action="store_true", help="start the run over instead of resuming it")
    return p


if __name__ == "__main__":
    cli.exit_with(cli.run_job("nightly", main, parser()))
