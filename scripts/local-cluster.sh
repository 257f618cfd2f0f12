#!/usr/bin/env bash
# A real Spark standalone cluster on 127.0.0.1, for trying the cluster path and for the
# `cluster` tests:
#
#   scripts/local-cluster.sh start     # master + 2 workers (starts only what is not running)
#   scripts/local-cluster.sh status    # master URL alone on line 1, then the live workers; exit 1 when down
#   scripts/local-cluster.sh stop      # ends exactly the PIDs in its PID files
#
# The daemons run through pyspark's own bin/spark-class (Master, Worker), without
# PYTHONPATH, with their own ports and directories:
#   ADANET_CLUSTER_PORT   master port (default 27477); master UI +1, worker i RPC +2i, UI +2i+1
#   ADANET_CLUSTER_DIR    state (default build/local-cluster): pids/<daemon>.pid, logs/, work/<worker>/
#                         (each executor runs in work/<worker>/<app>/<executor id>)
#   ADANET_WORKER_CORES   cores each worker advertises (default 3: training holds some task
#                         slots for a whole search, and the driver's own jobs need one more)
#   ADANET_WORKER_MEMORY  memory each worker offers its executors (default 3g)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=$ROOT/.venv
DIR=${ADANET_CLUSTER_DIR:-$ROOT/build/local-cluster}
case "$DIR" in /*) ;; *) DIR=$ROOT/$DIR ;; esac
PORT=${ADANET_CLUSTER_PORT:-27477}
WORKERS=2
CORES=${ADANET_WORKER_CORES:-3}
MEMORY=${ADANET_WORKER_MEMORY:-3g}
HOST=127.0.0.1
URL=spark://$HOST:$PORT
UI_PORT=$((PORT + 1))
START_TIMEOUT_S=${ADANET_CLUSTER_START_TIMEOUT_S:-90}

say() { echo "[local-cluster] $*" >&2; }

spark_home() {
  [ -x "$VENV/bin/python" ] || { say "no $VENV: run 'make setup' first"; exit 2; }
  "$VENV/bin/python" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))'
}

pid_of() { cat "$DIR/pids/$1.pid" 2>/dev/null || true; }

# Alive and still our daemon (a PID can be reused once the daemon is gone).
alive() {
  local pid; pid=$(pid_of "$1")
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$2"
}

daemons() { echo master; for i in $(seq 1 "$WORKERS"); do echo "worker-$i"; done; }
class_of() { [ "$1" = master ] && echo org.apache.spark.deploy.master.Master || echo org.apache.spark.deploy.worker.Worker; }

launch() {  # name, spark-class arguments...
  local name=$1; shift
  mkdir -p "$DIR/pids" "$DIR/logs" "$DIR/conf"
  # `exec` all the way down: the PID recorded is the daemon's JVM itself.
  ( cd "$DIR" && exec env -u PYTHONPATH -u SPARK_CONF_DIR SPARK_HOME="$SPARK_HOME" SPARK_CONF_DIR="$DIR/conf" \
      SPARK_LOCAL_IP=$HOST SPARK_DAEMON_MEMORY=${ADANET_DAEMON_MEMORY:-256m} \
      nohup "$SPARK_HOME/bin/spark-class" "$@" >"$DIR/logs/$name.out" 2>&1 </dev/null ) &
  echo $! >"$DIR/pids/$name.pid"
}

wait_for() {  # name, log pattern
  local deadline=$((SECONDS + START_TIMEOUT_S))
  until grep -q -- "$2" "$DIR/logs/$1.out" 2>/dev/null; do
    alive "$1" "$(class_of "$1")" || { say "$1 exited; its log:"; tail -n 20 "$DIR/logs/$1.out" >&2; return 1; }
    [ $SECONDS -lt $deadline ] || { say "$1 not ready after ${START_TIMEOUT_S}s (see $DIR/logs/$1.out)"; return 1; }
    sleep 0.5
  done
}

start() {
  SPARK_HOME=$(spark_home)
  if ! alive master "$(class_of master)"; then
    launch master org.apache.spark.deploy.master.Master --host $HOST --port "$PORT" --webui-port "$UI_PORT"
    wait_for master "I have been elected leader"
    say "master $URL (UI http://$HOST:$UI_PORT, pid $(pid_of master))"
  fi
  local i name
  for i in $(seq 1 "$WORKERS"); do
    name=worker-$i
    alive "$name" "$(class_of "$name")" && continue
    mkdir -p "$DIR/work/$name"
    : >"$DIR/logs/$name.out"
    launch "$name" org.apache.spark.deploy.worker.Worker --host $HOST --port $((PORT + 2 * i)) \
      --webui-port $((PORT + 2 * i + 1)) --cores "$CORES" --memory "$MEMORY" --work-dir "$DIR/work/$name" "$URL"
  done
  for i in $(seq 1 "$WORKERS"); do
    wait_for "worker-$i" "Successfully registered with master"
  done
  status
}

stop() {
  local name pid code=0
  for name in $(daemons | tac); do
    pid=$(pid_of "$name")
    [ -n "$pid" ] || continue
    if alive "$name" "$(class_of "$name")"; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 40); do alive "$name" "$(class_of "$name")" || break; sleep 0.25; done
      if alive "$name" "$(class_of "$name")"; then
        say "$name (pid $pid) ignored SIGTERM; killing it"
        kill -9 "$pid" 2>/dev/null || code=1
      fi
      say "stopped $name (pid $pid)"
    fi
    rm -f "$DIR/pids/$name.pid"
  done
  return $code
}

# The master's own view (its JSON endpoint): the URL, then one line per live worker.
status() {
  alive master "$(class_of master)" || { say "down: no master running from $DIR"; return 1; }
  "$VENV/bin/python" - "$HOST" "$UI_PORT" "$URL" <<'EOF'
import json, sys, urllib.request
host, ui, url = sys.argv[1], sys.argv[2], sys.argv[3]
try:
    state = json.load(urllib.request.urlopen(f"http://{host}:{ui}/json/", timeout=5))
except OSError as exc:
    sys.exit(f"[local-cluster] down: master UI http://{host}:{ui} unreachable ({exc})")
live = [w for w in state.get("workers", []) if w.get("state") == "ALIVE"]
if state.get("status") != "ALIVE" or not live:
    sys.exit(f"[local-cluster] down: master {state.get('status')}, {len(live)} live workers")
print(state.get("url", url))
for w in live:
    print(f"{w['id']} {w['host']}:{w['port']} cores {w['cores']} (used {w['coresused']}) "
          f"memory {w['memory']} MiB (used {w['memoryused']})")
EOF
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
