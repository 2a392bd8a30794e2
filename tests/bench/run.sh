#!/usr/bin/env bash
# The benchmarks (tests/bench/README.md): builds congvand, congvan and
# congvan_bench in Release, then runs every section. Prints a readable table
# and, last, one JSON document on a line of its own (also written to
# $BUILD_DIR/bench.json). --quick: smaller sizes, for a check in minutes.
#
#   tests/bench/run.sh [--quick] [--only e2e,large,broadcast,scale]
set -euo pipefail
cd "$(dirname "$0")/../.."

build=${BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$(nproc)" --target congvand congvan congvan_bench >/dev/null
# 500+ nodes hold many connections and files each.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
"$build/bin/congvan_bench" "$@" | tee "$build/bench.out"
tail -n 1 "$build/bench.out" > "$build/bench.json"
