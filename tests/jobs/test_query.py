"""jobs/query.py on real Spark: rows printed as a table or JSON, a bad query exits 2."""
import json

from adanet_spark import cli
from jobs import query


def run(argv):
    return cli.run_job("query", query.main, query.parser(), argv=argv)


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
