"""Spark UDFs of adanet-spark (shipped to executors with the package: see spark-submit.sh)."""
