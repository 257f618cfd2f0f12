"""jobs/score.py's logic: pick a model, check the input, score on executors, write atomically.

The job registers the SQL function ``adanet_score`` (``udfs/score.py``) between
:func:`resolve_model` and :func:`run_score`: registration lives above this layer.
"""
from __future__ import annotations

from typing import Optional, Sequence

from pyspark.sql import DataFrame, SparkSession, functions as F

from adanet_spark import catalog
from adanet_spark.config import JobConfig
from adanet_spark.data import sources
from adanet_spark.errors import BadInputError
from adanet_spark.results import models
from adanet_spark.results.queries import latest_final_model
from adanet_spark.scoring.spark import score_dataframe
from adanet_spark.sql import format_table, run_query

OUTPUT_COLUMNS = ("probability", "model_uri", "run_id")


def resolve_model(spark: SparkSession, cfg: JobConfig, model_uri: Optional[str] = None,
                  run_id: Optional[str] = None) -> models.SavedModel:
    """``--model-uri``, else the final ensemble of ``--run-id``, else of the latest succeeded run."""
    spark.sparkContext.setJobDescription(f"score {cfg.dataset}: load the model")
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


def read_input(spark: SparkSession, cfg: JobConfig, input_table: Optional[str]) -> tuple[DataFrame, str]:
    """``(rows, how to name them in messages)``: ``--input-table``, else the dataset's raw input."""
    if input_table:
        if not spark.catalog.tableExists(input_table):
            raise BadInputError(f"input table '{input_table}' does not exist (--input-table)")
        return spark.table(input_table), input_table
    return sources.read_input(spark, cfg.input), f"'{cfg.input.path}'"


def print_query(spark: SparkSession, cfg: JobConfig, sql: str, limit: int = 100) -> None:
    """``--sql``: run the query (the job registered ``adanet_score`` first) and print ``limit`` rows."""
    spark.sparkContext.setJobDescription(f"score {cfg.dataset}: {sql[:80]}")
    df = run_query(spark, sql)
    rows = df.limit(limit).collect()
    print(format_table(df.columns, rows))


def run_score(spark: SparkSession, cfg: JobConfig, saved: models.SavedModel, input_table: Optional[str] = None,
              output: Optional[str] = None, id_columns: Optional[Sequence[str]] = None,
              sql: Optional[str] = None, limit: int = 100) -> Optional[str]:
    """Score with ``saved`` into ``<output.database>.<output>`` (one Delta commit); returns its path.
    With ``sql``, print that query's result instead and return None."""
    sc = spark.sparkContext
    if sql:
        print_query(spark, cfg, sql, limit)
        return None
    database = catalog.check_name(cfg.output.database, "output.database")
    table = catalog.check_name(output or f"predictions_{cfg.dataset}", "--output")
    raw, source = read_input(spark, cfg, input_table)
    if id_columns is None:
        id_columns = [c for c in saved.spec.key_columns if c in raw.columns] or list(raw.columns)
    clash = set(OUTPUT_COLUMNS) & set(id_columns)
    if clash:
        raise BadInputError(f"id column(s) {', '.join(sorted(clash))} clash with the output's own columns")
    scored = score_dataframe(spark, saved, raw, keep=id_columns, source=source)
    out = scored.select(*[F.col(f"`{c}`") for c in id_columns], "probability",
                        F.lit(saved.uri).alias("model_uri"),
                        F.lit(saved.meta.get("run_id")).cast("string").alias("run_id"))
    sc.setJobDescription(f"score {cfg.dataset}: write {database}.{table}")
    path = catalog.write_table(out, cfg.output.warehouse, database, table,
                               comment=f"AdaNet predictions of {cfg.dataset} by {saved.uri}")
    n = spark.read.format("delta").load(path).count()
    print(f"scored {n:,d} rows of {source} into {database}.{table} with {saved.uri}")
    sc.setJobDescription(None)
    return path
