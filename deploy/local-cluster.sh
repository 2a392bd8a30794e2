#!/usr/bin/env bash
# Starts, stops and reports every node of a `congvan pki init` directory on
# 127.0.0.1, for development and demos.
#
#   deploy/local-cluster.sh start  DIR   start every node not running yet; wait until each serves
#   deploy/local-cluster.sh stop   DIR   stop every running node (SIGTERM, then wait)
#   deploy/local-cluster.sh status DIR   one line per node: running or stopped, pid, ports
#
# Pid files go to DIR/run/<ID>.pid and logs to DIR/logs/<ID>.log. The daemon
# is $CONGVAND if set, else build/bin/congvand of this checkout, else
# congvand on the PATH. Exit status: 0 when every node is in the state asked
# for (status: all running), 1 otherwise, 2 for a usage error.
set -uo pipefail

usage() { echo "usage: $0 start|stop|status DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
command=$1
dir=$2
[ -d "$dir/nodes" ] || { echo "$0: $dir has no nodes/ (run congvan pki init first)" >&2; exit 2; }
dir=$(cd "$dir" && pwd)

here=$(cd "$(dirname "$0")/.." && pwd)
congvand=${CONGVAND:-}
if [ -z "$congvand" ]; then
  if [ -x "$here/build/bin/congvand" ]; then congvand="$here/build/bin/congvand"; else congvand=$(command -v congvand || true); fi
fi

agencies() { for f in "$dir"/nodes/*/node.toml; do basename "$(dirname "$f")"; done; }
pid_of() { cat "$dir/run/$1.pid" 2>/dev/null; }
running() { local pid; pid=$(pid_of "$1"); [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }
ports() { grep -E '^(peers|people|metrics) *=' "$dir/nodes/$1/node.toml" | sed -E 's/ *#.*//; s/"//g; s/ *= */=/' | tr '\n' ' '; }

start() {
  [ -n "$congvand" ] && [ -x "$congvand" ] || { echo "$0: congvand not found (build it, or set CONGVAND)" >&2; exit 1; }
  mkdir -p "$dir/run" "$dir/logs"
  local started=() failed=0
  for id in $(agencies); do
    running "$id" && continue
    "$congvand" --config "$dir/nodes/$id/node.toml" >>"$dir/logs/$id.log" 2>&1 &
    echo $! >"$dir/run/$id.pid"
    started+=("$id")
  done
  for id in "${started[@]}"; do
    local ok=0
    for _ in $(seq 1 100); do
      if grep -q "serving" "$dir/logs/$id.log" 2>/dev/null && running "$id"; then ok=1; break; fi
      running "$id" || break
      sleep 0.1
    done
    if [ $ok -eq 1 ]; then
      echo "started $id ($(ports "$id"))"
    else
      echo "FAILED  $id: see $dir/logs/$id.log" >&2
      tail -n 3 "$dir/logs/$id.log" >&2
      failed=1
    fi
  done
  [ ${#started[@]} -eq 0 ] && echo "every node of $dir is already running"
  return $failed
}

stop() {
  local pids=()
  for id in $(agencies); do
    if running "$id"; then kill -TERM "$(pid_of "$id")"; pids+=("$id"); fi
  done
  for id in "${pids[@]}"; do
    for _ in $(seq 1 100); do running "$id" || break; sleep 0.1; done
    if running "$id"; then kill -KILL "$(pid_of "$id")"; fi
    rm -f "$dir/run/$id.pid"
    echo "stopped $id"
  done
  [ ${#pids[@]} -eq 0 ] && echo "no node of $dir is running"
  return 0
}

status() {
  local all=0
  for id in $(agencies); do
    if running "$id"; then
      printf '%-16s running  pid %-7s %s\n' "$id" "$(pid_of "$id")" "$(ports "$id")"
    else
      printf '%-16s stopped\n' "$id"
      all=1
    fi
  done
  return $all
}

case "$command" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) usage ;;
esac
