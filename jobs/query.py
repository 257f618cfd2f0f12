"""Run Spark SQL against the project's catalog and print the result.

./spark-submit.sh jobs/query.py "SELECT split, count(*) FROM adanet.features_flights GROUP BY split"
./spark-submit.sh jobs/query.py --format json "SELECT * FROM adanet.runs"
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from adanet_spark import cli  # noqa: E402
from adanet_spark.query import format_json, format_table, run_query  # noqa: E402


def main(spark, cfg, args):
    spark.sparkContext.setJobDescription(f"query: {args.sql[:80]}")
    df = run_query(spark, args.sql)
    rows = df.limit(args.limit).collect()
    text = format_json(df.columns, rows) if args.format == "json" else format_table(df.columns, rows)
    if text:
        print(text)


if __name__ == "__main__":
    parser = cli.base_parser("Run Spark SQL against the adanet catalog")
    parser.add_argument("sql", help="the SQL statement")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument("--limit", type=int, default=1000, help="print at most this many rows")
    cli.exit_with(cli.run_job("query", main, parser))
