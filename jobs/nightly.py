"""The nightly batch: prepare features -> AdaNet search -> baselines -> report, one run_id.

./spark-submit.sh jobs/nightly.py --conf conf/flights.yaml
./spark-submit.sh jobs/nightly.py --conf conf/default.yaml --set dataset=mydata \
    --set input.path=/data/x.parquet --set input.format=parquet --set input.label=y \
    --set run.id=r1 --set adanet.max_iterations=3

A rerun with the same run.id resumes (the feature table it built is reused, the
search continues after its last completed iteration); --fresh starts it over.
"""
from adanet_spark import cli
from adanet_spark.pipeline.nightly import run_nightly

main, parser = cli.resumable_job(run_nightly, "Nightly AdaNet batch: features, search, baselines, report")


if __name__ == "__main__":
    cli.exit_with(cli.run_job("nightly", main, parser()))
