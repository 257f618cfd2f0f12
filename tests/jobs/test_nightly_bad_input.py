"""Bad input to jobs/nightly.py as a real process: it is found before the run starts, so the
job exits 2 with one line on stderr, logs no ERROR and no JVM stack, and writes nothing:
no feature table, and no row in the result tables that earlier runs created."""
import uuid

from adanet_spark.results import tables
from tests.jobs.submitted import files_under, run, sets


def test_a_derived_column_of_a_missing_column_writes_nothing_and_says_one_line(spark, tmp_path, tiny_parquet):
    warehouse, database = str(tmp_path / "warehouse"), f"bad_{uuid.uuid4().hex[:8]}"
    paths = tables.ensure_tables(spark, warehouse, database)  # the result tables exist (earlier runs)
    before = files_under(warehouse)
    job = run("nightly", "--conf", "conf/default.yaml", *sets(
        dataset="tiny", input__path=tiny_parquet, input__format="parquet", input__label="answer",
        input__positive="yes", output__warehouse=warehouse, output__database=database, run__id="bad-1",
        training__backend="local", baselines__models="[]", features__derived="{w: nosuchcol + 1}"))
    assert job.code == 2, job
    (line,) = job.err_lines
    assert line.startswith("error: cannot compute derived column 'w' = 'nosuchcol + 1': "
                           "[UNRESOLVED_COLUMN.WITH_SUGGESTION]"), line
    assert line.endswith("(features.derived.w)") and "SQLSTATE" not in line and len(line) < 400, line
    for noise in (" ERROR ", "Traceback", '"exception"', "at org.apache", "Py4JJavaError"):
        assert noise not in job.out, job
    assert files_under(warehouse) == before
    assert spark.read.format("delta").load(paths[tables.RUNS]).count() == 0
