"""Score a table with a saved AdaNet ensemble into a Delta predictions table.

./spark-submit.sh jobs/score.py --conf conf/flights.yaml                   # latest successful run's model
./spark-submit.sh jobs/score.py --conf conf/flights.yaml --run-id r1 --input-table adanet.new_flights
./spark-submit.sh jobs/score.py --conf conf/flights.yaml --model-uri <uri> --id-columns flight,time_hour
./spark-submit.sh jobs/score.py --conf conf/flights.yaml --sql "SELECT flight, adanet_score(struct(*)) FROM ..."

Input: --input-table (a catalog table), else the dataset's raw input (input.path /
input.format; input.filter is not applied). Output: <output.database>.predictions_<dataset>
(or --output), replaced atomically in one Delta commit: the id columns, probability,
model_uri, run_id. The session also has the SQL function adanet_score(features STRUCT)
-> DOUBLE bound to the model (see udfs/score.py); --sql runs a query with it instead
of writing the table.
"""
import logging

from adanet_spark import cli
from adanet_spark.scoring import job
from udfs.score import SQL_FUNCTION, register, sql_struct

log = logging.getLogger("jobs.score")


def main(spark, cfg, args):
    ids = [c.strip() for c in args.id_columns.split(",") if c.strip()] if args.id_columns else None
    saved = job.resolve_model(spark, cfg, args.model_uri, args.run_id)
    register(spark, saved)
    log.info("model %s (run %s, %s subnetworks); SQL: %s(%s) -> DOUBLE", saved.uri, saved.meta.get("run_id"),
             saved.meta.get("n_subnetworks"), SQL_FUNCTION, sql_struct(saved.spec))
    job.run_score(spark, cfg, saved, input_table=args.input_table, output=args.output, id_columns=ids,
                  sql=args.sql, limit=args.limit)


def parser():
    p = cli.base_parser("Score a table with a saved AdaNet ensemble")
    model = p.add_mutually_exclusive_group()
    model.add_argument("--model-uri", help="the model to use (ensembles.model_uri)")
    model.add_argument("--run-id", help="use the final ensemble of this run (default: latest succeeded run)")
    p.add_argument("--input-table", help="catalog table to score (default: the dataset's raw input)")
    p.add_argument("--output", help="predictions table name in output.database (default predictions_<dataset>)")
    p.add_argument("--id-columns", help="comma-separated input columns copied to the output "
                                        "(default: the spec's key columns, else every input column)")
    p.add_argument("--sql", help="run this query (adanet_score registered) and print it, instead of writing")
    p.add_argument("--limit", type=int, default=100, help="rows printed by --sql")
    return p


if __name__ == "__main__":
    cli.exit_with(cli.run_job("score", main, parser()))
