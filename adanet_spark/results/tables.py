"""The four result tables: schemas, comments, creation on first use.

Every table is Delta at ``<warehouse>/<database>.db/<table>``, registered in the
catalog by location, and partitioned by ``run_id``: a run only ever replaces rows
of its own partition, so runs with different run_ids never conflict under Delta's
optimistic concurrency (see :mod:`adanet_spark.results.writer`). Column and table
comments live in the Delta log, so they travel with the table (``DESCRIBE TABLE``
shows them wherever it is registered). docs/TABLES.md documents the same schemas.
"""
from __future__ import annotations

import logging
import math
import random
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional, get_args

from pyspark.sql import SparkSession, types as T

from adanet_spark import catalog
from adanet_spark.adanet.protocol import STATUSES
from adanet_spark.config import BaselineModel

log = logging.getLogger(__name__)

RUNS = "runs"
CANDIDATES = "candidates"
ENSEMBLES = "ensembles"
AUC_REPORTS = "auc_reports"

RUN_STATUSES = ("running", "succeeded", "failed")
# The rows of auc_reports: AdaNet first, then the baselines the config accepts, in the
# config's order (the report and the comparison table list models in this order).
MODELS = ("adanet", *get_args(BaselineModel))


_CONFLICTS = ("ConcurrentAppend", "ConcurrentWrite", "ConcurrentDelete", "ConcurrentTransaction",
              "MetadataChanged", "ProtocolChanged", "DELTA_CONCURRENT", "DELTA_METADATA_CHANGED",
              "DELTA_PROTOCOL_CHANGED", "FileAlreadyExists")


def sql_literal(value: str) -> str:
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def is_conflict(exc: BaseException) -> bool:
    text = f"{type(exc).__name__} {exc}"
    return any(name in text for name in _CONFLICTS)


def with_retries(what: str, fn: Callable[[], Any], retries: int = 8) -> Any:
    """Run a Delta commit, retrying on optimistic-concurrency conflicts (for commits that
    replace what they own; a commit that decides something, like a run's claim, re-decides instead)."""
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


def nan_to_none(value: Any) -> Optional[float]:
    """A metric as a table value: NaN and None become NULL, since one NaN would poison
    every avg() or max() over the column in SQL."""
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def _f(name: str, dtype: T.DataType, comment: str) -> T.StructField:
    return T.StructField(name, dtype, True, {"comment": comment})


def _listed(names: tuple[str, ...]) -> str:
    """``a, b or c``: column comments list allowed values from the one tuple that defines them."""
    return f"{', '.join(names[:-1])} or {names[-1]}"


S, D, L, I, B = T.StringType(), T.DoubleType(), T.LongType(), T.IntegerType(), T.BooleanType()
TS = T.TimestampType()


@dataclass(frozen=True)
class TableDef:
    name: str
    comment: str
    schema: T.StructType
    partition_by: tuple[str, ...] = ("run_id",)

    @property
    def columns(self) -> list[str]:
        return self.schema.fieldNames()


TABLES: dict[str, TableDef] = {t.name: t for t in (
    TableDef(RUNS, "One row per AdaNet run (tune or nightly): what ran, on which code, and how it ended", T.StructType([
        _f("run_id", S, "Run identifier (run.id); shared by every row the run writes in every table"),
        _f("run_date", T.DateType(), "Logical date of the run (run.date)"),
        _f("job", S, "Job that ran: tune or nightly"),
        _f("dataset", S, "Dataset name (dataset); the feature table is features_<dataset>"),
        _f("config", S, "The full job configuration as JSON (after --set overrides)"),
        _f("code_version", S, "git commit of the code (suffix +dirty for uncommitted changes), else the package version"),
        _f("status", S, _listed(RUN_STATUSES)),
        _f("error", S, "Why the run failed (exception type and message); null otherwise"),
        _f("started_at", TS, "When this attempt of the run started (UTC)"),
        _f("finished_at", TS, "When the run ended (UTC); null while running"),
        _f("attempts", I, "How many times this run_id was started (1 + reruns and resumes)"),
        _f("owner_host", S, "Host of the driver process that runs (or last ran) this attempt"),
        _f("owner_pid", I, "Process id of that driver"),
        _f("owner_app_id", S, "Spark application id of that driver"),
        _f("lease_id", S, "Random id of the attempt holding the run; only it renews the lease or ends the run"),
        _f("heartbeat_at", TS, "Last heartbeat of the attempt (renewed every run.heartbeat_seconds while it runs)"),
        _f("lease_expires_at", TS, "Until when the attempt holds the run (last heartbeat + run.lease_seconds); "
                                   "a running run past it is dead (stale) and a rerun takes it over; "
                                   "null once the run ended"),
    ])),
    TableDef(CANDIDATES, "Every candidate subnetwork AdaNet trained, one row per (run, iteration, candidate)", T.StructType([
        _f("run_id", S, "Run identifier (runs.run_id)"),
        _f("dataset", S, "Dataset name"),
        _f("iteration", I, "AdaNet iteration (0-based; continues from the warm-start ensemble's size)"),
        _f("candidate", S, "Candidate name, unique within its iteration, e.g. deeper-d2-w64"),
        _f("architecture", S, "The candidate subnetwork's exact architecture (SubnetworkArch JSON)"),
        _f("hyperparameters", S, "Generator proposal and training budget (JSON: depth, width, learning_rate, epochs, seed, ...)"),
        _f("status", S, _listed(STATUSES)),
        _f("error", S, "Last error of a failed candidate, or why a dropped or pruned one was stopped; null when completed"),
        _f("attempts", I, "Attempts used (retries after worker failures included)"),
        _f("worker", S, "Where the last attempt ran (local, a Spark executor, a Horovod group)"),
        _f("train_seconds", D, "Wall time of the candidate's attempt on its worker, in seconds"),
        _f("eval_seconds", D, "Worker time outside the training loop (loading, evaluation, mixture refit), in seconds"),
        _f("loss", D, "Validation log loss of previous ensemble + candidate"),
        _f("valid_auc", D, "Validation AUC of previous ensemble + candidate"),
        _f("train_auc", D, "Training AUC of previous ensemble + candidate"),
        _f("complexity", D, "Complexity r(h) of the candidate subnetwork (adanet.complexity)"),
        _f("objective", D, "AdaNet objective on the validation split (loss + complexity penalty); the lowest wins"),
        _f("selected", B, "True for the candidate added to the ensemble at this iteration"),
    ])),
    TableDef(ENSEMBLES, "The AdaNet ensemble after each iteration; exactly one row per finished run has is_final", T.StructType([
        _f("run_id", S, "Run identifier (runs.run_id)"),
        _f("dataset", S, "Dataset name"),
        _f("iteration", I, "AdaNet iteration after which this is the ensemble"),
        _f("selected_candidate", S, "Candidate added at this iteration, or 'previous' when none improved (the search stops)"),
        _f("n_subnetworks", I, "Number of subnetworks in the ensemble"),
        _f("subnetworks", S, "Ensemble architecture: JSON with a list 'subnetworks' of {name, depth, width, reads, ...}"),
        _f("mixture_weights", T.ArrayType(D), "Mixture weight w_j of each subnetwork, in order"),
        _f("bias", D, "Ensemble bias b"),
        _f("model_uri", S, "Where the ensemble is saved (architecture + weights + feature spec); give it to jobs/score.py"),
        _f("valid_loss", D, "Validation log loss of the ensemble"),
        _f("valid_auc", D, "Validation AUC of the ensemble"),
        _f("valid_objective", D, "AdaNet objective of the ensemble on the validation split"),
        _f("test_auc", D, "Test AUC, scored on executors; set on the final row only"),
        _f("num_parameters", L, "Number of parameters of the ensemble"),
        _f("train_seconds", D, "Wall time of this iteration (all candidates, selection), in seconds"),
        _f("is_final", B, "True for the run's final ensemble (the one the run delivers)"),
    ])),
    TableDef(AUC_REPORTS, "Model comparison per run: training time, evaluation time and AUC of AdaNet and each baseline", T.StructType([
        _f("run_id", S, "Run identifier (runs.run_id)"),
        _f("dataset", S, "Dataset name"),
        _f("model", S, _listed(MODELS)),
        _f("train_seconds", D, "Training wall time, in seconds (all trials / iterations)"),
        _f("eval_seconds", D, "Evaluation wall time on the test split, in seconds"),
        _f("valid_auc", D, "AUC on the validation split"),
        _f("test_auc", D, "AUC on the test split"),
        _f("trials", I, "Models trained to get this one (AdaNet: candidates; search baselines: configurations)"),
        _f("notes", S, "Free text: chosen hyperparameters, ensemble size, backend"),
        _f("reported_at", TS, "When the row was written (UTC)"),
    ])),
)}


def _ddl_type(dtype: T.DataType) -> str:
    return dtype.simpleString()


def _sql_string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def create_sql(database: str, tdef: TableDef, path: str) -> str:
    cols = ",\n  ".join(f"`{f.name}` {_ddl_type(f.dataType)} COMMENT {_sql_string(f.metadata['comment'])}"
                        for f in tdef.schema.fields)
    parts = f"PARTITIONED BY ({', '.join(tdef.partition_by)})" if tdef.partition_by else ""
    return (f"CREATE TABLE IF NOT EXISTS `{database}`.`{tdef.name}` (\n  {cols}\n) USING delta {parts}\n"
            f"COMMENT {_sql_string(tdef.comment)}\nLOCATION {_sql_string(path)}")


def is_delta_table(spark: SparkSession, path: str) -> bool:
    from delta.tables import DeltaTable
    try:
        return bool(DeltaTable.isDeltaTable(spark, path))
    except Exception:  # an unreachable path is "not a table yet"
        return False


def ensure_table(spark: SparkSession, warehouse: str, database: str, name: str, retries: int = 5) -> str:
    """Create (first use) or register the table; returns its path. Safe to race:
    if another job creates it at the same moment, this one registers theirs."""
    tdef = TABLES[name]
    path = catalog.table_path(warehouse, database, name)
    if spark.catalog.tableExists(f"{database}.{name}"):
        add_missing_columns(spark, path, tdef)
        return path
    for attempt in range(retries):
        try:
            if is_delta_table(spark, path):
                if not spark.catalog.tableExists(f"{database}.{name}"):
                    catalog.register(spark, database, name, path)
                add_missing_columns(spark, path, tdef)
                return path
            spark.sql(f"CREATE DATABASE IF NOT EXISTS `{database}`")
            spark.sql(create_sql(database, tdef, path))
            log.info("created table %s.%s at %s", database, name, path)
            return path
        except Exception as exc:  # lost a creation race: the other creator's table is there now
            if attempt == retries - 1:
                raise
            log.info("creating %s.%s raced with another writer (%s); retrying", database, name,
                     str(exc).splitlines()[0][:200])
            time.sleep(0.2 * (attempt + 1))
    return path


def add_missing_columns(spark: SparkSession, path: str, tdef: TableDef, retries: int = 5) -> None:
    """A table created by an older version gets the columns added since (null in its old
    rows), with their comments. Two jobs adding them at once: the loser finds them there."""
    for attempt in range(retries):
        have = set(spark.read.format("delta").load(path).columns)
        missing = [f for f in tdef.schema.fields if f.name not in have]
        if not missing:
            return
        cols = ", ".join(f"`{f.name}` {_ddl_type(f.dataType)} COMMENT {_sql_string(f.metadata['comment'])}"
                         for f in missing)
        try:
            spark.sql(f"ALTER TABLE delta.`{path}` ADD COLUMNS ({cols})")
            log.info("table %s: added columns %s", tdef.name, ", ".join(f.name for f in missing))
            return
        except Exception:  # a concurrent schema change: look again
            if attempt == retries - 1:
                raise
            time.sleep(0.2 * (attempt + 1))


def ensure_tables(spark: SparkSession, warehouse: str, database: str) -> dict[str, str]:
    catalog.check_name(database, "output.database")
    return {name: ensure_table(spark, warehouse, database, name) for name in TABLES}


def markdown_schemas() -> str:
    """The schemas as Markdown (docs/TABLES.md is generated from this)."""
    out = []
    for tdef in TABLES.values():
        out.append(f"### `{tdef.name}`\n\n{tdef.comment}. Partitioned by `{', '.join(tdef.partition_by)}`.\n")
        out.append("| column | type | meaning |\n|---|---|---|")
        out += [f"| `{f.name}` | {f.dataType.simpleString()} | {f.metadata['comment']} |" for f in tdef.schema.fields]
        out.append("")
    return "\n".join(out)
