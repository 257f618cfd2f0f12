import json

from adanet_spark import cli
from adanet_spark.query import format_json, format_table
from jobs import query


def run(argv):
    parser = cli.base_parser("query")
    parser.add_argument("sql")
    parser.add_argument("--format", default="table")
    parser.add_argument("--limit", type=int, default=1000)
    return cli.run_job("query", query.main, parser, argv=argv)


def test_format_table_and_json():
    rows = [{"split": "train", "n": 3}, {"split": "valid", "n": None}]
    text = format_table(["split", "n"], rows)
    assert "| train | 3    |" in text and "NULL" in text and text.endswith("(2 rows)")
    lines = format_json(["split", "n"], rows).splitlines()
    assert json.loads(lines[1]) == {"split": "valid", "n": None}


def test_query_job_prints_rows(spark, database, job_args, capsys):
    spark.sql(f"CREATE DATABASE IF NOT EXISTS {database}")
    spark.createDataFrame([("train", 1), ("valid", 2), ("test", 3)], ["split", "x"]) \
        .write.format("delta").saveAsTable(f"{database}.t")
    assert run([*job_args, f"SELECT split, x FROM {database}.t ORDER BY x"]) == 0
    out = capsys.readouterr().out
    assert "(3 rows)" in out and "| valid | 2 |" in out
    assert run([*job_args, "--format", "json", f"SELECT split FROM {database}.t WHERE x = 2"]) == 0
    assert json.loads(capsys.readouterr().out.strip()) == {"split": "valid"}


def test_bad_query_exits_2(spark, job_args, capsys):
    assert run([*job_args, "SELECT * FROM no_such_db.no_such_table"]) == 2
    assert "no_such_table" in capsys.readouterr().err
