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
import time
from dataclasses import dataclass
from typing import Any, Optional, get_args

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
    ])),
    TableDef(CANDIDATES, "Every candidate subnetwork AdaNet trained, one row per (run, iteration, candidate)", T.StructType([
        _f("run_id", S, "Run identifier (runs.run_id)"),
        _f("dataset", S, "Dataset name"),
        _f("iteration", I, "AdaNet iteration (0-based; continues from the warm-start ensemble's size)"),
        _f("candidate", S, "Candidate name, unique within its iteration, e.g. deeper-d2-w64"),
        _f("architecture", S, "The candidate subnetwork's exact architecture (SubnetworkArch JSON)"),
        _f("hyperparameters", S, "Generator proposal and training budget (JSON: depth, width, learning_rate, epochs, seed, ...)"),
        _f("status", S, _listed(STATUSES)),
        _f("error", S, "Last error of a failed or dropped candidate; null when completed"),
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
        return path
    for attempt in range(retries):
        try:
            if is_delta_table(spark, path):
                if not spark.catalog.tableExists(f"{database}.{name}"):
                    catalog.register(spark, database, name, path)
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
