"""Write a run's rows to the result tables, exactly once per run_id.

Exactly once: every write *replaces* the rows it owns in one Delta commit
(``replaceWhere``), so rerunning a run_id replaces that run's rows instead of
adding more:

* ``runs``: the row of the run (``run_id = X``);
* ``candidates`` and ``ensembles``: the rows of one iteration of the run
  (``run_id = X AND iteration = k``), written when the iteration ends;
  the ``ensembles`` row is written last and marks the iteration complete
  (resume reads it back);
* ``auc_reports``: the rows of one model of the run (``run_id = X AND model = M``),
  so AdaNet and each baseline replace only their own row.

Concurrency: the tables are partitioned by ``run_id`` and every replace/delete/update
is confined to one run's partition, so two runs with different run_ids never
conflict under Delta's optimistic concurrency. Commits that still hit a
concurrent-modification error (e.g. two writers of the same run, or the table
being created at the same moment) are retried with backoff.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import logging
import random
import subprocess
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Optional, Sequence

from pyspark.sql import SparkSession, functions as F

from adanet_spark.config import JobConfig
from adanet_spark.results import tables
from adanet_spark.results.tables import AUC_REPORTS, CANDIDATES, ENSEMBLES, RUNS, nan_to_none

log = logging.getLogger(__name__)

_CONFLICTS = ("ConcurrentAppend", "ConcurrentWrite", "ConcurrentDelete", "ConcurrentTransaction",
              "MetadataChanged", "ProtocolChanged", "DELTA_CONCURRENT", "DELTA_METADATA_CHANGED",
              "DELTA_PROTOCOL_CHANGED", "FileAlreadyExists")


def sql_literal(value: str) -> str:
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def is_conflict(exc: BaseException) -> bool:
    text = f"{type(exc).__name__} {exc}"
    return any(name in text for name in _CONFLICTS)


def with_retries(what: str, fn: Callable[[], Any], retries: int = 8) -> Any:
    """Run a Delta commit, retrying on optimistic-concurrency conflicts."""
    for attempt in range(retries):
        try:
            return fn()
        except Exception as exc:
            if not is_conflict(exc) or attempt == retries - 1:
                raise
            delay = min(5.0, 0.2 * 2 ** attempt) * (0.5 + random.random())
            log.info("%s: concurrent Delta commit (%s); retry %d in %.1f s", what,
                     str(exc).strip().splitlines()[0][:160], attempt + 1, delay)
            time.sleep(delay)


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
        where = f"{self._run_pred} AND ({predicate})" if predicate else self._run_pred
        with_retries(f"delete from {self.table(name)} ({where})",
                     lambda: DeltaTable.forPath(self.spark, self.paths[name]).delete(where))
        self._mirror[name] = [r for r in self.rows(name) if not drop(r)]

    # -- runs ------------------------------------------------------------------------
    def previous_run(self) -> Optional[dict]:
        rows = self.rows(RUNS)
        return rows[0] if rows else None

    def start_run(self) -> None:
        previous = self.previous_run()
        attempts = (previous["attempts"] or 1) + 1 if previous is not None else 1
        if previous is not None:
            log.info("run %s was started before (status %s, %d attempt(s)): this attempt replaces its rows "
                     "and resumes from its last completed iteration", self.run_id, previous["status"],
                     attempts - 1)
        self._run_row = {
            "run_id": self.run_id, "run_date": dt.date.fromisoformat(str(self.cfg.run.date)[:10]),
            "job": self.job, "dataset": self.dataset, "config": self.cfg.to_json(),
            "code_version": code_version(), "status": "running", "error": None,
            "started_at": now(), "finished_at": None, "attempts": attempts}
        self._replace(RUNS, [self._run_row], "")

    def run_row(self) -> Optional[dict]:
        return self.previous_run()

    def finish_run(self, status: str, error: Optional[str] = None) -> None:
        if status not in tables.RUN_STATUSES:
            raise ValueError(f"run status must be one of {tables.RUN_STATUSES}, got {status!r}")
        row = dict(getattr(self, "_run_row", None) or {})
        if not row:
            raise RuntimeError("finish_run before start_run")
        row.update(status=status, error=(error or None) and error[:4000], finished_at=now())
        self._replace(RUNS, [row], "")
        self._run_row = row

    @contextlib.contextmanager
    def run(self) -> Iterator["ResultsWriter"]:
        """``with writer.run():`` marks the run running, then succeeded, or failed with its error."""
        self.start_run()
        try:
            yield self
        except BaseException as exc:
            error = f"{type(exc).__name__}: {str(exc).strip()}"
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
