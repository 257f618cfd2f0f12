#!/usr/bin/env bash
# Run an adanet-spark job:
#   ./spark-submit.sh [spark-submit options] jobs/<job>.py [--conf conf/<file>.yaml] [--set key=value ...]
#
# Local (default): master local[<cores + 1>], Delta jars from ./jars, warehouse ./warehouse.
# Cluster: set SPARK_MASTER (yarn, k8s://..., spark://...) or pass --master; the
# package is shipped to executors as a --py-files zip, Delta comes from
# --packages (or the cluster, e.g. Databricks), and ADANET_VENV_ARCHIVE may name
# a packed venv (venv-pack) to ship with --archives. scripts/local-cluster.sh
# starts a standalone cluster on this machine to try it. SPARK_SUBMIT names the
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
export ADANET_REPO_ROOT=$ROOT  # a driver importing the package from the --py-files zip still finds conf/, data/
if [[ "$master" == local* ]]; then
  export PYSPARK_PYTHON=${PYSPARK_PYTHON:-$VENV/bin/python}
  export PYSPARK_DRIVER_PYTHON=${PYSPARK_DRIVER_PYTHON:-$VENV/bin/python}
  jars=$(ls "$ROOT"/jars/*.jar 2>/dev/null | paste -sd, -)
  [ -n "$jars" ] || { echo "no Delta jars in $ROOT/jars: run 'make setup'" >&2; exit 2; }
  opts+=(--jars "$jars" --driver-memory "${ADANET_DRIVER_MEMORY:-4g}"
         --driver-java-options "-Dlog4j.configurationFile=file:$ROOT/conf/log4j2.properties"
         --conf spark.ui.showConsoleProgress=false)
  # The venv's Python runs the job itself and pyspark starts the JVM with these options:
  # through spark-submit (its PythonRunner) the job's stderr would be merged into stdout,
  # and a job keeps stderr for its failures (one line for bad input; see adanet_spark/cli.py).
  export SPARK_MASTER=$master PYSPARK_SUBMIT_ARGS="$(printf '%q ' "${opts[@]}")pyspark-shell"
  exec "$PYSPARK_DRIVER_PYTHON" "$ROOT/$job" "$@"
else
  # Cluster: executors import the package from this zip (in their own working
  # directories), never from the repository.
  mkdir -p "$ROOT/build"
  # Built aside and renamed: a concurrent submit never ships a half-written zip.
  (cd "$ROOT" && rm -f "build/adanet_spark.$$.zip" && zip -qr "build/adanet_spark.$$.zip" adanet_spark udfs -x '*__pycache__*')
  mv -f "$ROOT/build/adanet_spark.$$.zip" "$ROOT/build/adanet_spark.zip"
  opts+=(--py-files "$ROOT/build/adanet_spark.zip")
  if [ -z "${ADANET_NO_DELTA_PACKAGE:-}" ]; then
    # Only Delta's own jars (what ./jars holds for local runs): its other dependencies
    # are older copies of jars Spark ships (Hadoop, Parquet, Jackson, log4j, ...), and
    # Unity Catalog's client is not used.
    delta_excludes=io.unitycatalog:unitycatalog-client,io.unitycatalog:unitycatalog-hadoop
    delta_excludes+=,org.apache.hadoop:hadoop-client-api,org.apache.hadoop:hadoop-client-runtime
    delta_excludes+=,org.apache.parquet:parquet-hadoop,org.apache.parquet:parquet-column
    delta_excludes+=,org.apache.parquet:parquet-common,org.apache.parquet:parquet-encoding
    delta_excludes+=,org.apache.parquet:parquet-format-structures,org.apache.parquet:parquet-jackson
    delta_excludes+=,com.fasterxml.jackson.core:jackson-databind,com.fasterxml.jackson.core:jackson-core
    delta_excludes+=,com.fasterxml.jackson.core:jackson-annotations,com.fasterxml.jackson.datatype:jackson-datatype-jdk8
    delta_excludes+=,org.apache.logging.log4j:log4j-api,org.apache.logging.log4j:log4j-core
    delta_excludes+=,org.apache.logging.log4j:log4j-slf4j2-impl,org.slf4j:slf4j-api
    delta_excludes+=,org.roaringbitmap:RoaringBitmap,org.roaringbitmap:shims,org.xerial.snappy:snappy-java
    delta_excludes+=,com.github.luben:zstd-jni,io.airlift:aircompressor,commons-pool:commons-pool
    delta_excludes+=,commons-logging:commons-logging,com.google.code.findbugs:jsr305
    delta_excludes+=,javax.annotation:javax.annotation-api,org.locationtech.jts:jts-core
    opts+=(--packages "io.delta:delta-spark_4.2_2.13:${DELTA_VERSION:-4.4.0}"
           --exclude-packages "$delta_excludes")
  fi
  # The driver (client mode) runs the venv's Python; executors run the packed venv
  # (ADANET_VENV_ARCHIVE), or on a cluster of this machine (scripts/local-cluster.sh)
  # the venv itself; elsewhere PYSPARK_PYTHON names their interpreter.
  export PYSPARK_DRIVER_PYTHON=${PYSPARK_DRIVER_PYTHON:-$VENV/bin/python}
  if [ -n "${ADANET_VENV_ARCHIVE:-}" ]; then
    opts+=(--archives "$ADANET_VENV_ARCHIVE#environment"
           --conf spark.pyspark.python=./environment/bin/python)
  elif [[ "$master" == spark://127.0.0.1:* || "$master" == spark://localhost:* ]]; then
    export PYSPARK_PYTHON=${PYSPARK_PYTHON:-$VENV/bin/python}
  fi
fi
exec "$SUBMIT" "${opts[@]}" "$ROOT/$job" "$@"
