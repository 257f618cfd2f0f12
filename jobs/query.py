"""Run Spark SQL against the project's catalog and print the result.

./spark-submit.sh jobs/query.py "SELECT split, count(*) FROM adanet.features_flights GROUP BY split"
./spark-submit.sh jobs/query.py --format json "SELECT * FROM adanet.runs"
"""
from adanet_spark import cli
from adanet_spark.sql import format_json, format_table, run_query


def main(spark, cfg, args):
    spark.sparkContext.setJobDescription(f"query: {args.sql[:80]}")
    df = run_query(spark, args.sql)
    rows = df.limit(args.limit).collect()
    text = format_json(df.columns, rows) if args.format == "json" else format_table(df.columns, rows)
    if text:
        print(text)


def parser():
    p = cli.base_parser("Run Spark SQL against the adanet catalog")
    p.add_argument("sql", help="the SQL statement")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--limit", type=int, default=1000, help="print at most this many rows")
    return p


if __name__ == "__main__":
    cli.exit_with(cli.run_job("query", main, parser()))
