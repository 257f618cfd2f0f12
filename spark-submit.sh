#!/usr/bin/env bash
# Run an adanet-spark job:
#   ./spark-submit.sh [spark-submit options] jobs/<job>.py [--conf conf/<file>.yaml] [--set key=value ...]
#
# Local (default): master local[<cores + 1>], Delta jars from ./jars, warehouse ./warehouse.
# Cluster: set SPARK_MASTER (yarn, k8s://..., spark://...) or pass --master; the
# package is shipped to executors as a --py-files zip, Delta comes from
# --packages (or the cluster, e.g. Databricks), and ADANET_VENV_ARCHIVE may name
# a packed venv (venv-pack) to ship with --archives. SPARK_SUBMIT names the
# spark-submit to use (default: the one in .venv).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")" && pwd)
VENV=$ROOT/.venv
SUBMIT=${SPARK_SUBMIT:-$VENV/bin/spark-submit}
[ -x "$SUBMIT" ] || SUBMIT=$(command -v spark-submit || true)
[ -n "$SUBMIT" ] || { echo "spark-submit not found: run 'make setup' or set SPARK_SUBMIT" >&2; exit 2; }

# spark-submit options come before the job file; job arguments after it.
opts=(); job=""; master=${SPARK_MASTER:-}
while [ $# -gt 0 ]; do
  case "$1" in
    *.py) job=$1; shift; break ;;
    --master) master=$2; opts+=("$1" "$2"); shift 2 ;;
    --master=*) master=${1#--master=}; opts+=("$1"); shift ;;
    *) opts+=("$1"); shift ;;
  esac
done
[ -n "$job" ] || { echo "usage: $0 [spark-submit options] jobs/<job>.py [job args]" >&2; exit 2; }
# One task slot more than cores: Horovod workers hold theirs for the whole search,
# and the driver's result writes between iterations need one too.
master=${master:-local[$(( $(nproc) + 1 ))]}
case " ${opts[*]-} " in *" --master"*) ;; *) opts+=(--master "$master") ;; esac

export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
if [[ "$master" == local* ]]; then
  export PYSPARK_PYTHON=${PYSPARK_PYTHON:-$VENV/bin/python}
  export PYSPARK_DRIVER_PYTHON=${PYSPARK_DRIVER_PYTHON:-$VENV/bin/python}
  jars=$(ls "$ROOT"/jars/*.jar 2>/dev/null | paste -sd, -)
  [ -n "$jars" ] || { echo "no Delta jars in $ROOT/jars: run 'make setup'" >&2; exit 2; }
  opts+=(--jars "$jars" --driver-memory "${ADANET_DRIVER_MEMORY:-4g}"
         --driver-java-options "-Dlog4j.configurationFile=file:$ROOT/conf/log4j2.properties"
         --conf spark.ui.showConsoleProgress=false)
else
  mkdir -p "$ROOT/build"
  (cd "$ROOT" && rm -f build/adanet_spark.zip && zip -qr build/adanet_spark.zip adanet_spark udfs -x '*__pycache__*')
  opts+=(--py-files "$ROOT/build/adanet_spark.zip")
  if [ -z "${ADANET_NO_DELTA_PACKAGE:-}" ]; then
    opts+=(--packages "io.delta:delta-spark_4.2_2.13:${DELTA_VERSION:-4.4.0}")
  fi
  if [ -n "${ADANET_VENV_ARCHIVE:-}" ]; then
    opts+=(--archives "$ADANET_VENV_ARCHIVE#environment"
           --conf spark.pyspark.python=./environment/bin/python)
  fi
fi
exec "$SUBMIT" "${opts[@]}" "$ROOT/$job" "$@"
