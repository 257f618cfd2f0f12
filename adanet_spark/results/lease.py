"""The lease a running run holds on its row of ``runs``: who runs it, and until when that is known.

* **Claim.** An attempt reads the run's row and decides: refused while another attempt
  holds it (``running`` and its lease not expired); else it inserts the row, or takes the
  existing one, in one MERGE confined to the run's partition whose condition checks the
  same again. Two starts of one run_id race under Delta's optimistic concurrency: both
  MERGEs read the same partition, so the second to commit fails with a conflict (or finds
  the row taken) and decides again from what the first wrote: it is refused. A refusal
  writes nothing.
* **Heartbeat.** While the run lives, a thread renews ``heartbeat_at`` and
  ``lease_expires_at`` (``run.heartbeat_seconds``, ``run.lease_seconds``), each renewal
  conditional on still holding the lease. A process killed outright (SIGKILL, a lost
  node) stops renewing: once the lease expires the row reads as ``stale`` and a rerun
  takes the run over and resumes it.
* **End.** The final status is written only by the attempt that holds the lease; an
  attempt that lost it (paused past its lease, then taken over) writes nothing more.

Timestamps are the drivers' own clocks (``current_timestamp()`` in the MERGE), so hosts
that share runs should agree on the time to well within the lease.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass
from typing import Optional

from pyspark.sql import SparkSession, functions as F, types as T

from adanet_spark.errors import BadInputError
from adanet_spark.results import tables
from adanet_spark.results.tables import RUNS, is_conflict, sql_literal

log = logging.getLogger(__name__)

#: When an existing row may be taken: the run ended, or its lease expired (a row of an
#: older version without a lease counts as expired).
TAKE_OVER = ("coalesce(t.status, '') <> 'running' OR t.lease_expires_at IS NULL "
             "OR t.lease_expires_at < current_timestamp()")
LIVE = "status = 'running' AND lease_expires_at >= current_timestamp()"


class Terminated(BaseException):
    """The job was told to stop (SIGTERM). A BaseException, so no ``except Exception`` on
    the way swallows it: it unwinds the run (executors cancel their running candidates in
    ``finally`` blocks) and the run is recorded ``failed`` with this reason."""


_STOP: dict = {}  # this process was told to stop: why, and whether that was dealt with


def request_stop(reason: str) -> bool:
    """Note that this process was told to stop (the SIGTERM handler calls it); True the first time."""
    first = "reason" not in _STOP
    _STOP.setdefault("reason", reason)
    return first


def stop_reason() -> Optional[str]:
    return _STOP.get("reason")


def stop_dealt_with() -> bool:
    """True once the stop was raised, or a failure is being recorded: a later SIGTERM only waits."""
    return bool(_STOP.get("dealt_with"))


def deal_with_stop() -> None:
    _STOP["dealt_with"] = True


def failure(exc: BaseException) -> str:
    """How a failed run's ``error`` reads: the exception, or the stop request it came from (a
    SIGTERM that cancelled Spark's jobs surfaces first as the cancelled job's error)."""
    error = f"{type(exc).__name__}: {str(exc).strip()}"
    reason = _STOP.get("reason")
    if reason and not isinstance(exc, Terminated):
        return f"{Terminated.__name__}: {reason} (interrupting {error.splitlines()[0][:300]})"
    return error


class LeaseLost(RuntimeError):
    """Another attempt took the run over: this one must not write any more of its rows."""


@dataclass(frozen=True)
class Owner:
    host: str
    pid: int
    app_id: Optional[str]

    @classmethod
    def of_this_process(cls, spark: SparkSession) -> "Owner":
        return cls(socket.gethostname(), os.getpid(), spark.sparkContext.applicationId)


def expiry(seconds: float) -> str:
    """SQL: now + ``seconds``, on the clock of the driver that runs the statement."""
    return f"timestamp_millis(unix_millis(current_timestamp()) + {int(round(seconds * 1000))})"


def describe_owner(row: dict) -> str:
    return f"host {row.get('owner_host')}, pid {row.get('owner_pid')}, Spark app {row.get('owner_app_id')}"


def live_row(spark: SparkSession, path: str, run_id: str) -> Optional[dict]:
    """The run's row if an attempt holds it now (running, lease not expired); else None.
    Reads only: no table is created."""
    if not tables.is_delta_table(spark, path):
        return None
    df = spark.read.format("delta").load(path)
    if "lease_expires_at" not in df.columns:  # a table of a version without leases
        return None
    tz = spark.conf.get("spark.sql.session.timeZone", "UTC")
    rows = (df.where(f"run_id = {sql_literal(run_id)} AND {LIVE}")
              .withColumn("until", F.concat(F.date_format("lease_expires_at", "yyyy-MM-dd HH:mm:ss"),
                                            F.lit(f" {tz}"))).collect())
    return rows[0].asDict() if rows else None


def refusal(run_id: str, row: dict, table: str) -> BadInputError:
    return BadInputError(f"run '{run_id}' is running elsewhere ({describe_owner(row)}; its lease holds until "
                         f"{row.get('until')} unless renewed), table {table} (run.id)")


def check_free(spark: SparkSession, path: str, run_id: str, table: str) -> None:
    """Refuse at once (before any work) a run_id that a live attempt holds."""
    row = live_row(spark, path, run_id)
    if row is not None:
        raise refusal(run_id, row, table)


class Lease:
    """This attempt's hold on run ``run_id``: :meth:`claim`, :meth:`start_heartbeat`, :meth:`end`."""

    def __init__(self, spark: SparkSession, path: str, table: str, run_id: str, lease_seconds: float,
                 heartbeat_seconds: float):
        self.spark, self.path, self.table, self.run_id = spark, path, table, run_id
        self.seconds, self.heartbeat_seconds = lease_seconds, heartbeat_seconds
        self.id = uuid.uuid4().hex
        self.owner = Owner.of_this_process(spark)
        self.lost = False
        self._lock = threading.Lock()  # one runs commit of this attempt at a time
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._pred = f"t.run_id = s.run_id AND t.run_id = {sql_literal(run_id)}"  # the run's partition only

    def _merge(self, source_row: dict, values: dict, when: Optional[str] = None) -> int:
        """One MERGE of ``source_row`` into the run's partition; returns the rows it changed.
        ``when`` given: update the run's row if it matches ``when``; else insert it if absent.
        A MERGE that changes nothing commits nothing (no rewritten file, no new version)."""
        from delta.tables import DeltaTable
        schema = tables.TABLES[RUNS].schema
        names = [f.name for f in schema.fields if f.name in source_row]
        src = self.spark.createDataFrame([tuple(source_row[n] for n in names)],
                                         T.StructType([schema[n] for n in names]))
        merge = DeltaTable.forPath(self.spark, self.path).alias("t").merge(
            src.alias("s"), self._pred + (f" AND ({when})" if when else ""))
        merge = merge.whenMatchedUpdate(set=values) if when else merge.whenNotMatchedInsert(values=values)
        return int(merge.execute().first()["num_affected_rows"])

    def _read(self) -> Optional[dict]:
        rows = self.spark.read.format("delta").load(self.path).where(f"run_id = {sql_literal(self.run_id)}").collect()
        return rows[0].asDict() if rows else None

    def claim(self, row: dict, retries: int = 5) -> dict:
        """Start the run with ``row`` (every column but attempts and the lease's), or take it
        over; returns the row as stored. Refused (BadInputError) while another attempt holds it.
        Decided from the row as read, written conditionally (the MERGE checks again), and on
        a conflict with another commit to the run's row, decided again from what it wrote."""
        mine = {**row, "owner_host": self.owner.host, "owner_pid": self.owner.pid,
                "owner_app_id": self.owner.app_id, "lease_id": self.id}
        values = {n: f"s.`{n}`" for n in mine}
        values.update(heartbeat_at="current_timestamp()", lease_expires_at=expiry(self.seconds))
        for attempt in range(retries):
            holder = live_row(self.spark, self.path, self.run_id)
            if holder is not None:
                raise refusal(self.run_id, holder, self.table)
            current = self._read()
            try:
                with self._lock:
                    if current is None:
                        changed = self._merge(mine, {**values, "attempts": "1"})
                    else:
                        changed = self._merge(mine, {**values, "attempts": "coalesce(t.attempts, 0) + 1"}, TAKE_OVER)
            except Exception as exc:
                if not is_conflict(exc) or attempt == retries - 1:
                    raise
                log.info("run %s: another start committed first; deciding again", self.run_id)
                continue
            stored = self._read() if changed else None
            if stored is not None and stored["lease_id"] == self.id:
                return stored
        raise RuntimeError(f"run {self.run_id}: could not claim its row in {self.table} in {retries} tries")

    def renew(self) -> bool:
        """Extend the lease; False when this attempt no longer holds the run."""
        held = f"t.lease_id = {sql_literal(self.id)} AND t.status = 'running'"
        with self._lock:
            return self._merge({"run_id": self.run_id}, {"heartbeat_at": "current_timestamp()",
                                                         "lease_expires_at": expiry(self.seconds)}, held) == 1

    def start_heartbeat(self) -> None:
        self._thread = threading.Thread(target=self._beat, name=f"adanet-lease-{self.run_id}", daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        self.spark.sparkContext.setJobDescription(f"lease heartbeat of run {self.run_id}")
        while not self._stop.wait(self.heartbeat_seconds):
            try:
                held = self.renew()
            except Exception as exc:  # a conflict or a passing storage error: the next beat tries again
                log.warning("run %s: heartbeat not written (%s); trying again in %.0f s", self.run_id,
                            str(exc).strip().splitlines()[0][:200], self.heartbeat_seconds)
                continue
            if not held:
                self.lost = True
                log.error("run %s: lease lost, another attempt took the run over; this attempt writes "
                          "nothing more", self.run_id)
                return

    def stop_heartbeat(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def end(self, values: dict) -> bool:
        """Stop the heartbeat and write the run's end (``values``: status, error, finished_at),
        only if this attempt still holds it; returns whether it did."""
        self.stop_heartbeat()
        if self.lost:
            return False
        update = {n: f"s.`{n}`" for n in values}
        update["lease_expires_at"] = "CAST(NULL AS TIMESTAMP)"
        with self._lock:
            ended = self._merge({"run_id": self.run_id, **values}, update, f"t.lease_id = {sql_literal(self.id)}") == 1
        self.lost = not ended
        return ended
