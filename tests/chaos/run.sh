#!/usr/bin/env bash
# The chaos run (tests/chaos/README.md): builds congvand, congvan and
# congvan_chaos, then runs the sample topology's twelve nodes under kills
# and link cuts and checks that nothing was lost or duplicated. Prints the
# figures and, last, one JSON line (also written to $BUILD_DIR/chaos.json).
# Exit 0 only when every check passed.
#
#   tests/chaos/run.sh [--quick] [--documents N] [--kills K] [--cuts C] [--seconds S] [--seed S]
set -euo pipefail
cd "$(dirname "$0")/../.."

build=${BUILD_DIR:-build}
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
# One build at a time on a shared machine.
flock "${CONGVAN_BUILD_LOCK:-/tmp/congvan-build.lock}" \
  nice cmake --build "$build" -j "$(nproc)" --target congvand congvan congvan_chaos >/dev/null
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
export CHAOS_LOG_DIR=${CHAOS_LOG_DIR:-$build/chaos-logs}
rm -rf "$CHAOS_LOG_DIR"
set +e
"$build/bin/congvan_chaos" "$@" | tee "$build/chaos.out"
status=${PIPESTATUS[0]}
set -e
tail -n 1 "$build/chaos.out" > "$build/chaos.json"
exit "$status"
