"""Raw table -> Delta feature table + feature spec.

./spark-submit.sh jobs/prepare_features.py --conf conf/flights.yaml [--set key=value ...]
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from adanet_spark import cli  # noqa: E402
from adanet_spark.data import feature_table  # noqa: E402


def main(spark, cfg, args):
    table = feature_table.build(spark, cfg)
    print(f"feature table {table.name} at {table.path}")
    for split, count in table.counts.items():
        print(f"  {split:<6}{count:>10,d} rows")


if __name__ == "__main__":
    cli.exit_with(cli.run_job("prepare_features", main))
