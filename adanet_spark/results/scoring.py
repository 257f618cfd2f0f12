"""jobs/score.py's logic: pick a model, check the input, score on executors, write atomically."""
from __future__ import annotations

import logging
from typing import Optional, Sequence

from pyspark.sql import SparkSession, functions as F

from adanet_spark import catalog
from adanet_spark.config import JobConfig
from adanet_spark.data import sources
from adanet_spark.errors import BadInputError
from adanet_spark.query import format_table, run_query
from adanet_spark.results import models

log = logging.getLogger(__name__)


def resolve_model(spark: SparkSession, cfg: JobConfig, model_uri: Optional[str] = None,
                  run_id: Optional[str] = None) -> models.SavedModel:
    """``--model-uri``, else the final ensemble of ``--run-id``, else of the latest succeeded run."""
    from adanet_spark.pipeline import latest_final_model
    if model_uri:
        return models.load_model(spark, model_uri)
    uri = latest_final_model(spark, cfg, run_id=run_id)
    if uri is None:
        where = f"{cfg.output.database}.ensembles"
        if run_id is not None:
            raise BadInputError(f"run_id '{run_id}' has no final ensemble in {where}: unknown run_id, "
                                f"or the run did not finish")
        raise BadInputError(f"no succeeded run of dataset '{cfg.dataset}' with a final ensemble in {where}: "
                            f"run jobs/nightly.py or jobs/tune.py first, or pass --model-uri")
    return models.load_model(spark, uri)


def read_input(spark: SparkSession, cfg: JobConfig, input_table: Optional[str]):
    if input_table:
        if not spark.catalog.tableExists(input_table):
            raise BadInputError(f"input table '{input_table}' does not exist (--input-table)")
        return spark.table(input_table), input_table
    return sources.read_input(spark, cfg.input), f"'{cfg.input.path}'"


def run_score(spark: SparkSession, cfg: JobConfig, model_uri: Optional[str] = None, run_id: Optional[str] = None,
              input_table: Optional[str] = None, output: Optional[str] = None,
              id_columns: Optional[Sequence[str]] = None, sql: Optional[str] = None, limit: int = 100) -> Optional[str]:
    from udfs.score import SQL_FUNCTION, register, score_dataframe, sql_struct
    sc = spark.sparkContext
    sc.setJobDescription(f"score {cfg.dataset}: load the model")
    saved = resolve_model(spark, cfg, model_uri, run_id)
    register(spark, saved)
    log.info("model %s (run %s, %s subnetworks); SQL: %s(%s) -> DOUBLE", saved.uri, saved.meta.get("run_id"),
             saved.meta.get("n_subnetworks"), SQL_FUNCTION, sql_struct(saved.spec))
    if sql:
        sc.setJobDescription(f"score {cfg.dataset}: {sql[:80]}")
        df = run_query(spark, sql)
        rows = df.limit(limit).collect()
        print(format_table(df.columns, rows))
        return None
    database = catalog.check_name(cfg.output.database, "output.database")
    table = catalog.check_name(output or f"predictions_{cfg.dataset}", "--output")
    raw, source = read_input(spark, cfg, input_table)
    if id_columns is None:
        id_columns = [c for c in saved.spec.key_columns if c in raw.columns] or list(raw.columns)
    clash = {"probability", "model_uri", "run_id"} & set(id_columns)
    if clash:
        raise BadInputError(f"id column(s) {', '.join(sorted(clash))} clash with the output's own columns")
    scored = score_dataframe(spark, saved, raw, keep=id_columns, source=source)
    out = scored.select(*[F.col(f"`{c}`") for c in id_columns], "probability",
                        F.lit(saved.uri).alias("model_uri"), F.lit(saved.meta.get("run_id")).cast("string").alias("run_id"))
    sc.setJobDescription(f"score {cfg.dataset}: write {database}.{table}")
    path = catalog.write_table(out, cfg.output.warehouse, database, table,
                               comment=f"AdaNet predictions of {cfg.dataset} by {saved.uri}")
    n = spark.read.format("delta").load(path).count()
    print(f"scored {n:,d} rows of {source} into {database}.{table} with {saved.uri}")
    sc.setJobDescription(None)
    return path
