"""Raw table -> Delta feature table + feature spec.

./spark-submit.sh jobs/prepare_features.py --conf conf/flights.yaml [--set key=value ...]
"""
from adanet_spark import cli
from adanet_spark.data import feature_table


def main(spark, cfg, args):
    table = feature_table.build(spark, cfg)
    print(f"feature table {table.name} at {table.path}")
    for split, count in table.counts.items():
        print(f"  {split:<6}{count:>10,d} rows")


if __name__ == "__main__":
    cli.exit_with(cli.run_job("prepare_features", main))
