"""The run lease on real Delta: claim, refusal, takeover of an expired lease, heartbeats,
the end of a run, and two claims of one run_id racing under optimistic concurrency."""
import datetime as dt
import os
import threading
import time

import pytest

from adanet_spark.errors import BadInputError
from adanet_spark.results import lease, tables
from adanet_spark.results.lease import Lease


@pytest.fixture
def runs(spark, warehouse, database):
    return tables.ensure_table(spark, warehouse, database, tables.RUNS)


def row(run_id):
    return {"run_id": run_id, "run_date": dt.date(2024, 5, 1), "job": "tune", "dataset": "w", "config": "{}",
            "code_version": "test", "status": "running", "error": None,
            "started_at": dt.datetime(2024, 5, 1, 3, 0), "finished_at": None}


def make(spark, path, database, run_id, seconds=3600.0, heartbeat=30.0):
    return Lease(spark, path, f"{database}.runs", run_id, seconds, heartbeat)


def stored(spark, path, run_id):
    return [r.asDict() for r in spark.read.format("delta").load(path).where(f"run_id = '{run_id}'").collect()]


def test_a_live_lease_refuses_a_second_attempt_naming_the_owner(spark, runs, database):
    first = make(spark, runs, database, "r1")
    got = first.claim(row("r1"))
    assert (got["attempts"], got["lease_id"], got["owner_pid"]) == (1, first.id, os.getpid())
    assert got["lease_expires_at"] > got["heartbeat_at"]
    for refuse in (lambda: make(spark, runs, database, "r1").claim(row("r1")),
                   lambda: lease.check_free(spark, runs, "r1", f"{database}.runs")):
        with pytest.raises(BadInputError) as info:
            refuse()
        assert f"run 'r1' is running elsewhere (host {first.owner.host}, pid {os.getpid()}" in str(info.value)
        assert str(info.value).endswith(f"table {database}.runs (run.id)")
    assert [r["lease_id"] for r in stored(spark, runs, "r1")] == [first.id]
    lease.check_free(spark, runs, "another", f"{database}.runs")  # other run_ids are free


def test_an_expired_lease_is_taken_over_and_its_attempt_writes_nothing_more(spark, runs, database):
    dead = make(spark, runs, database, "r2", seconds=0.0, heartbeat=0.0)  # expires as it is written
    dead.claim(row("r2"))
    lease.check_free(spark, runs, "r2", f"{database}.runs")
    second = make(spark, runs, database, "r2")
    got = second.claim(row("r2"))
    assert (got["attempts"], got["lease_id"]) == (2, second.id)
    assert dead.renew() is False
    assert dead.end({"status": "failed", "error": "late", "finished_at": None}) is False and dead.lost
    (now,) = stored(spark, runs, "r2")
    assert (now["status"], now["lease_id"], now["error"]) == ("running", second.id, None)


def test_heartbeats_extend_the_lease_and_the_end_releases_it(spark, runs, database):
    mine = make(spark, runs, database, "r3", heartbeat=0.2)
    claimed = mine.claim(row("r3"))
    mine.start_heartbeat()
    deadline = time.monotonic() + 120
    while stored(spark, runs, "r3")[0]["heartbeat_at"] == claimed["heartbeat_at"]:
        assert time.monotonic() < deadline, "no heartbeat was written"
        time.sleep(0.2)
    assert stored(spark, runs, "r3")[0]["lease_expires_at"] > claimed["lease_expires_at"]
    assert mine.end({"status": "succeeded", "error": None, "finished_at": dt.datetime(2024, 5, 1, 4, 0)})
    (ended,) = stored(spark, runs, "r3")
    assert (ended["status"], ended["lease_expires_at"], ended["attempts"]) == ("succeeded", None, 1)
    again = make(spark, runs, database, "r3").claim(row("r3"))  # an ended run is rerun at once
    assert again["attempts"] == 2 and again["status"] == "running"


def test_two_concurrent_claims_of_one_run_id_one_wins(spark, runs, database):
    attempts = [make(spark, runs, database, "race") for _ in range(2)]
    start, outcomes = threading.Barrier(2), {}

    def claim(i):
        start.wait()
        try:
            outcomes[i] = attempts[i].claim(row("race"))["lease_id"]
        except BadInputError as exc:
            outcomes[i] = exc

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(2)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    won = [i for i, o in outcomes.items() if isinstance(o, str)]
    assert len(won) == 1, outcomes
    lost = outcomes[1 - won[0]]
    assert isinstance(lost, BadInputError) and "is running elsewhere" in str(lost)
    (only,) = stored(spark, runs, "race")
    assert (only["lease_id"], only["attempts"]) == (attempts[won[0]].id, 1)


def test_a_stop_request_names_itself_in_the_failure():
    assert lease.failure(ValueError("x")) == "ValueError: x"
    assert lease.failure(lease.Terminated("SIGTERM")) == "Terminated: SIGTERM"


def test_a_refusal_writes_nothing(spark, runs, database):
    make(spark, runs, database, "r4").claim(row("r4"))
    versions = spark.sql(f"DESCRIBE HISTORY delta.`{runs}`").count()
    with pytest.raises(BadInputError):
        make(spark, runs, database, "r4").claim(row("r4"))
    assert make(spark, runs, database, "r4").renew() is False  # not its lease: no commit either
    assert spark.sql(f"DESCRIBE HISTORY delta.`{runs}`").count() == versions
