"""Write a run's rows to the result tables, exactly once per run_id.

Exactly once: every write *replaces* the rows it owns in one Delta commit
(``replaceWhere``), so rerunning a run_id replaces that run's rows instead of
adding more:

* ``runs``: the row of the run (``run_id = X``), claimed with a lease that only one live
  attempt holds (:mod:`.lease`), so two attempts never write one run's rows at once;
* ``candidates`` and ``ensembles``: the rows of one iteration of the run
  (``run_id = X AND iteration = k``), written when the iteration ends;
  the ``ensembles`` row is written last and marks the iteration complete
  (resume reads it back);
* ``auc_reports``: the rows of one model of the run (``run_id = X AND model = M``),
  so AdaNet and each baseline replace only their own row.

Concurrency: the tables are partitioned by ``run_id`` and every replace/delete/update
is confined to one run's partition, so two runs with different run_ids never
conflict under Delta's optimistic concurrency. Commits that still hit a
concurrent-modification error (e.g. the table being created at the same moment)
are retried with backoff; an attempt whose run was taken over writes nothing more.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import logging
import subprocess
from dataclasses import dataclass
from typing import Callable, Iterator, Optional, Sequence

from pyspark.sql import SparkSession, functions as F

from adanet_spark import catalog
from adanet_spark.config import JobConfig
from adanet_spark.results import tables
from adanet_spark.results.lease import Lease, LeaseLost, check_free, deal_with_stop, describe_owner, failure
from adanet_spark.results.tables import (AUC_REPORTS, CANDIDATES, ENSEMBLES, RUNS, nan_to_none, sql_literal,
                                         with_retries)

log = logging.getLogger(__name__)

def code_version() -> str:
    """git commit of the code (``+dirty`` with uncommitted changes), else the package version."""
    from adanet_spark.paths import REPO_ROOT
    try:
        sha = subprocess.run(["git", "-C", REPO_ROOT, "rev-parse", "--short=12", "HEAD"], capture_output=True,
                             text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO_ROOT, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        if sha:
            return sha + ("+dirty" if dirty else "")
    except Exception:
        pass
    try:
        from importlib.metadata import version
        return f"adanet-spark {version('adanet-spark')}"
    except Exception:
        return "adanet-spark unknown"


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def check_run_free(spark: SparkSession, cfg: JobConfig) -> None:
    """Before any work: refuse a run_id that a live attempt holds (BadInputError naming it).
    Reads only; the claim itself (:meth:`ResultsWriter.start_run`) decides for good."""
    database = catalog.check_name(cfg.output.database, "output.database")
    path = catalog.table_path(cfg.output.warehouse, database, RUNS)
    check_free(spark, path, str(cfg.run.id), f"{database}.{RUNS}")


@dataclass
class AucReport:
    """One row of ``auc_reports`` (what the baselines write, and AdaNet's own row)."""

    model: str
    train_seconds: Optional[float]
    eval_seconds: Optional[float]
    valid_auc: Optional[float]
    test_auc: Optional[float]
    trials: int = 1
    notes: Optional[str] = None


class ResultsWriter:
    """The result tables of one run: ``ResultsWriter(spark, cfg, job)``.

    Creates the four tables on first use in ``output.database`` under
    ``output.warehouse``. Public API for other components (e.g. baselines):
    :meth:`write_auc_report` / :meth:`write_auc_reports`.
    """

    def __init__(self, spark: SparkSession, cfg: JobConfig, job: str = "tune"):
        self.spark = spark
        self.cfg = cfg
        self.job = job
        self.run_id = str(cfg.run.id)
        self.dataset = str(cfg.dataset)
        self.database = cfg.output.database
        self.warehouse = cfg.output.warehouse
        self.paths = tables.ensure_tables(spark, self.warehouse, self.database)
        self._run_pred = f"run_id = {sql_literal(self.run_id)}"
        # This run's rows, read once per table and then kept in step with every write:
        # a run's rows are few, and only this writer writes them (one writer per run_id).
        self._mirror: dict[str, list[dict]] = {}
        self.lease: Optional[Lease] = None  # this attempt's hold on the run (start_run)

    # -- low level -----------------------------------------------------------------
    def table(self, name: str) -> str:
        return f"{self.database}.{name}"

    def read(self, name: str):
        """This run's rows of a table (a DataFrame read by path: always the latest snapshot)."""
        return self.spark.read.format("delta").load(self.paths[name]).where(self._run_pred)

    def rows(self, name: str) -> list[dict]:
        """This run's rows of a table as dicts (read once, then kept in step with writes)."""
        if name not in self._mirror:
            self._mirror[name] = [r.asDict(recursive=True) for r in self.read(name).collect()]
        return self._mirror[name]

    def _replace(self, name: str, rows: Sequence[dict], predicate: str,
                 drop: Callable[[dict], bool] = lambda r: True) -> None:
        """Replace the rows matching ``predicate`` (within this run) by ``rows``: one commit.
        ``drop`` is the same predicate in Python, for the in-memory copy. When no row
        matches yet (the usual case) the commit is a blind append: cheaper, and never in
        conflict with any other writer."""
        self._writable()
        schema = tables.TABLES[name].schema
        data = [tuple(r.get(c) for c in schema.fieldNames()) for r in rows]
        current = self.rows(name)
        kept = [r for r in current if not drop(r)]
        path = self.paths[name]
        where = f"{self._run_pred} AND ({predicate})" if predicate else self._run_pred
        replace = len(kept) < len(current)

        def commit():
            df = self.spark.createDataFrame(data, schema)
            if replace:
                df.write.format("delta").mode("overwrite").option("replaceWhere", where).save(path)
            else:
                df.write.format("delta").mode("append").save(path)

        with_retries(f"write {self.table(name)} ({where})", commit)
        self._mirror[name] = kept + [dict(zip(schema.fieldNames(), row)) for row in data]

    def _delete(self, name: str, predicate: Optional[str], drop: Callable[[dict], bool]) -> None:
        """Delete this run's rows matching ``predicate`` (``drop`` in Python), if there are any."""
        from delta.tables import DeltaTable
        if not any(drop(r) for r in self.rows(name)):
            return
        self._writable()
        where = f"{self._run_pred} AND ({predicate})" if predicate else self._run_pred
        with_retries(f"delete from {self.table(name)} ({where})",
                     lambda: DeltaTable.forPath(self.spark, self.paths[name]).delete(where))
        self._mirror[name] = [r for r in self.rows(name) if not drop(r)]

    # -- runs ------------------------------------------------------------------------
    def previous_run(self) -> Optional[dict]:
        rows = self.rows(RUNS)
        return rows[0] if rows else None

    def start_run(self) -> None:
        """Claim the run (:mod:`.lease`): insert its row, or take over one that no live attempt
        holds, then keep the lease alive with heartbeats. Refused while another attempt holds it."""
        previous = self.previous_run()
        run = self.cfg.run
        self.lease = Lease(self.spark, self.paths[RUNS], self.table(RUNS), self.run_id, run.lease_seconds,
                           run.heartbeat_seconds)
        row = self.lease.claim({
            "run_id": self.run_id, "run_date": dt.date.fromisoformat(str(run.date)[:10]),
            "job": self.job, "dataset": self.dataset, "config": self.cfg.to_json(),
            "code_version": code_version(), "status": "running", "error": None,
            "started_at": now(), "finished_at": None})
        if previous is not None:
            dead = f", whose lease expired ({describe_owner(previous)})" if previous["status"] == "running" else ""
            log.info("run %s was started before (status %s%s, %d attempt(s)): this attempt takes it over and "
                     "resumes from its last completed iteration", self.run_id, previous["status"], dead,
                     row["attempts"] - 1)
        self._mirror[RUNS] = [row]
        self.lease.start_heartbeat()

    def run_row(self) -> Optional[dict]:
        return self.previous_run()

    def finish_run(self, status: str, error: Optional[str] = None) -> None:
        """Record how the run ended, if this attempt still holds it."""
        if status not in tables.RUN_STATUSES:
            raise ValueError(f"run status must be one of {tables.RUN_STATUSES}, got {status!r}")
        if self.lease is None:
            raise RuntimeError("finish_run before start_run")
        values = {"status": status, "error": (error or None) and error[:4000], "finished_at": now()}
        if not self.lease.end(values):
            log.warning("run %s: not recorded as %s, another attempt holds the run now", self.run_id, status)
            return
        self._mirror[RUNS] = [{**self.rows(RUNS)[0], **values, "lease_expires_at": None}]

    def _writable(self) -> None:
        """A run taken over by another attempt writes nothing more (its rows are the other's now)."""
        if self.lease is not None and self.lease.lost:
            raise LeaseLost(f"run {self.run_id}: another attempt took the run over; this one stops writing")

    @contextlib.contextmanager
    def run(self) -> Iterator["ResultsWriter"]:
        """``with writer.run():`` claims the run, then marks it succeeded, or failed with its error."""
        self.start_run()
        try:
            yield self
        except BaseException as exc:
            deal_with_stop()  # a SIGTERM from here on must not interrupt the recording
            error = failure(exc)
            try:
                self.finish_run("failed", error)
                log.error("run %s failed: %s", self.run_id, error.splitlines()[0][:300])
            except Exception:
                log.exception("could not mark run %s failed", self.run_id)
            raise
        self.finish_run("succeeded")

    # -- candidates + ensembles ------------------------------------------------------
    def write_iteration(self, iteration: int, candidates: Sequence[dict], ensemble: dict) -> None:
        """Candidates first, then the ensemble row, which marks the iteration complete."""
        base = {"run_id": self.run_id, "dataset": self.dataset, "iteration": int(iteration)}
        k = int(iteration)
        same = lambda r: r["iteration"] == k  # noqa: E731
        self._replace(CANDIDATES, [{**c, **base} for c in candidates], f"iteration = {k}", same)
        self._replace(ENSEMBLES, [{**ensemble, **base}], f"iteration = {k}", same)

    def ensemble_rows(self) -> list[dict]:
        """This run's completed iterations, in order."""
        return sorted(self.rows(ENSEMBLES), key=lambda r: r["iteration"])

    def candidate_rows(self) -> list[dict]:
        return sorted(self.rows(CANDIDATES), key=lambda r: (r["iteration"], r["candidate"]))

    def clear_iterations(self, from_iteration: Optional[int] = None) -> None:
        """Delete this run's candidates/ensembles rows (from ``from_iteration`` on, or all)."""
        pred = None if from_iteration is None else f"iteration >= {int(from_iteration)}"
        drop = (lambda r: True) if from_iteration is None else (lambda r: r["iteration"] >= from_iteration)
        for name in (ENSEMBLES, CANDIDATES):  # the completion marker goes first
            self._delete(name, pred, drop)

    def mark_final(self, iteration: int, test_auc: Optional[float]) -> None:
        """Exactly one final row per run: ``is_final`` only on ``iteration``, with its test AUC."""
        from delta.tables import DeltaTable
        self._writable()
        k = int(iteration)
        auc = nan_to_none(test_auc)
        values = {"is_final": F.expr(f"iteration = {k}"),
                  "test_auc": F.when(F.col("iteration") == k, F.lit(auc).cast("double"))
                               .otherwise(F.lit(None).cast("double"))}
        # Only the rows that change: the new final row and any earlier final (a rerun).
        where = f"{self._run_pred} AND (iteration = {k} OR is_final OR test_auc IS NOT NULL)"
        with_retries(f"mark final ensemble of {self.run_id}",
                     lambda: DeltaTable.forPath(self.spark, self.paths[ENSEMBLES]).update(where, values))
        for r in self.rows(ENSEMBLES):
            r["is_final"] = r["iteration"] == k
            r["test_auc"] = auc if r["iteration"] == k else None

    # -- auc reports -----------------------------------------------------------------
    def write_auc_report(self, model: str, *, train_seconds: Optional[float], eval_seconds: Optional[float],
                         valid_auc: Optional[float], test_auc: Optional[float], trials: int = 1,
                         notes: Optional[str] = None) -> None:
        """Replace this run's row for ``model`` in ``auc_reports`` (one commit)."""
        self.write_auc_reports([AucReport(model, train_seconds, eval_seconds, valid_auc, test_auc, trials, notes)])

    def write_auc_reports(self, reports: Sequence[AucReport]) -> None:
        """Replace this run's rows of exactly these models (one commit; other models' rows stay)."""
        if not reports:
            return
        models = [r.model for r in reports]
        bad = [m for m in models if m not in tables.MODELS]
        if bad:
            raise ValueError(f"auc_reports model must be one of {', '.join(tables.MODELS)}, got {bad}")
        if len(set(models)) != len(models):
            raise ValueError(f"auc_reports: duplicate models {models}")
        at = now()
        rows = [{"run_id": self.run_id, "dataset": self.dataset, "model": r.model,
                 "train_seconds": nan_to_none(r.train_seconds), "eval_seconds": nan_to_none(r.eval_seconds),
                 "valid_auc": nan_to_none(r.valid_auc), "test_auc": nan_to_none(r.test_auc),
                 "trials": int(r.trials), "notes": r.notes, "reported_at": at} for r in reports]
        self._replace(AUC_REPORTS, rows, "model IN (" + ", ".join(sql_literal(m) for m in models) + ")",
                      lambda r: r["model"] in models)

    def auc_rows(self) -> list[dict]:
        order = {m: i for i, m in enumerate(tables.MODELS)}
        return sorted(self.rows(AUC_REPORTS), key=lambda r: order.get(r["model"], 99))

    def clear_auc_reports(self, models: Optional[Sequence[str]] = None) -> None:
        pred = None if not models else "model IN (" + ", ".join(sql_literal(m) for m in models) + ")"
        self._delete(AUC_REPORTS, pred, (lambda r: True) if not models else (lambda r: r["model"] in models))
