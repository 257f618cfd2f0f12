"""A run's life as real processes (./spark-submit.sh): a nightly killed with SIGKILL in its
second iteration stays ``running`` while its lease lasts, so a rerun is refused (run in this
process, whose session is warm: it checks within seconds of the kill); once the lease
expires the README's status query shows it ``stale``; then two reruns start at the same
moment: one is refused, the other takes the run over, resumes it after its committed
iteration and finishes it on Horovod with no duplicate row and no traceback in its log.
And SIGTERM: the run is recorded failed with the reason, exit 143."""
import os
import re
import signal
import time
import uuid

from tests.jobs.submitted import ROOT, finish, sets, start
from tests.jobs.tiny_runs import run_nightly

RUN_ID = "life-1"
LEASE = {"run__heartbeat_seconds": "2", "run__lease_seconds": "30"}
SLOW_SECOND_ITERATION = {"testing__enabled": "true", "testing__faults": "[{iteration: 1, slow_factor: 100000}]"}
WAIT_S = 600


def nightly_args(parquet, warehouse, database, **extra):
    return ["--conf", "conf/default.yaml", *sets(**{
        "dataset": "tiny", "input__path": parquet, "input__format": "parquet", "input__label": "answer",
        "input__positive": "yes", "features__split_key": "id", "output__warehouse": warehouse,
        "output__database": database, "run__id": RUN_ID, "adanet__max_iterations": "2", "adanet__widths": "[4]",
        "adanet__epochs": "1", "adanet__batch_size": "64", "adanet__candidates_per_iteration": "2",
        "adanet__min_improvement": "0", "baselines__models": "[]", "training__backend": "local", **LEASE, **extra})]


def status_query(path):
    """The README's status query, on the runs table at ``path``."""
    text = open(os.path.join(ROOT, "README.md")).read()
    sql = re.search(r'# runs and their state.*?jobs/query\.py "(.*?)"', text, flags=re.S).group(1)
    return sql.replace("adanet.runs", f"delta.`{path}`")


def rows(spark, warehouse, database, table):
    path = f"{warehouse}/{database}.db/{table}"
    if not os.path.isdir(f"{path}/_delta_log"):
        return []
    return [r.asDict() for r in spark.read.format("delta").load(path).where(f"run_id = '{RUN_ID}'").collect()]


def wait_for(what, check, proc=None):
    deadline = time.monotonic() + WAIT_S
    while not check():
        assert proc is None or proc.poll() is None, f"the job ended before {what}: {finish(proc)}"
        assert time.monotonic() < deadline, f"waited {WAIT_S} s for {what}"
        time.sleep(1)


def test_a_killed_run_is_refused_then_stale_then_taken_over_by_one_of_two(spark, tmp_path, tiny_parquet, capsys):
    warehouse, database = str(tmp_path / "warehouse"), f"life_{uuid.uuid4().hex[:8]}"
    args = nightly_args(tiny_parquet, warehouse, database, **SLOW_SECOND_ITERATION)
    first = start("nightly", *args)
    wait_for("iteration 0 to be committed", lambda: rows(spark, warehouse, database, "ensembles"), first)
    (held,) = rows(spark, warehouse, database, "runs")
    assert (held["status"], held["owner_pid"], held["attempts"]) == ("running", first.pid, 1)
    before = {(r["iteration"], r["candidate"]): r["train_seconds"] for r in rows(spark, warehouse, database,
                                                                                 "candidates")}
    os.killpg(first.pid, signal.SIGKILL)
    finish(first)

    # At once (this process's session is warm, the lease lasts 30 s): nothing tells a dead
    # process from a live one but its lease, so the rerun is refused, naming the owner.
    runs_path = f"{warehouse}/{database}.db/runs"
    state = lambda: {r.run_id: r.state for r in spark.sql(status_query(runs_path)).collect()}  # noqa: E731
    assert state() == {RUN_ID: "running"}
    assert run_nightly(nightly_args(tiny_parquet, warehouse, database)[2:]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"error: run '{RUN_ID}' is running elsewhere (host {held['owner_host']}, pid {first.pid}")
    assert line.endswith(f"table {database}.runs (run.id)")
    wait_for("the lease to expire", lambda: state() == {RUN_ID: "stale"})

    horovod = nightly_args(tiny_parquet, warehouse, database, training__backend="horovod", training__workers="1")
    jobs = [start("nightly", *horovod) for _ in range(2)]
    done = [finish(job) for job in jobs]
    assert sorted(d.code for d in done) == [0, 2], "\n\n".join(map(str, done))
    winner, loser = (0, 1) if done[0].code == 0 else (1, 0)
    (line,) = done[loser].err_lines
    assert f"is running elsewhere (host {held['owner_host']}, pid {jobs[winner].pid}" in line, line
    log = done[winner].out
    assert done[winner].err == "" and "resuming at iteration #1" in log, done[winner]
    assert "Traceback" not in log and "ConnectionResetError" not in log and "Namespace" not in log, log

    (finished,) = rows(spark, warehouse, database, "runs")
    assert (finished["status"], finished["attempts"], finished["owner_pid"]) == ("succeeded", 2, jobs[winner].pid)
    assert state() == {RUN_ID: "succeeded"}
    candidates = rows(spark, warehouse, database, "candidates")
    keys = [(r["iteration"], r["candidate"]) for r in candidates]
    assert len(keys) == len(set(keys)) == 4  # 2 iterations x 2 candidates, none twice
    assert {k: r["train_seconds"] for k, r in zip(keys, candidates) if k[0] == 0} == before  # not retrained
    assert sorted(r["iteration"] for r in rows(spark, warehouse, database, "ensembles")) == [0, 1]


def test_sigterm_cancels_the_run_and_records_it_failed_with_the_reason(spark, tmp_path, tiny_parquet):
    warehouse, database = str(tmp_path / "warehouse"), f"term_{uuid.uuid4().hex[:8]}"
    job = start("nightly", *nightly_args(tiny_parquet, warehouse, database, **SLOW_SECOND_ITERATION))
    wait_for("iteration 0 to be committed", lambda: rows(spark, warehouse, database, "ensembles"), job)
    os.kill(job.pid, signal.SIGTERM)
    done = finish(job)
    assert done.code == 143, done
    (line,) = done.err_lines
    assert line.startswith("error: nightly stopped: Terminated: SIGTERM: the job was told to stop"), line
    (run_row,) = rows(spark, warehouse, database, "runs")
    assert run_row["status"] == "failed" and run_row["error"].startswith("Terminated: SIGTERM"), run_row
    assert run_row["lease_expires_at"] is None and run_row["finished_at"] is not None
    assert "Traceback" not in done.out, done
