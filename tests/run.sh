#!/usr/bin/env bash
# The whole test suite: install dependencies, configure and build (Release,
# assertions on), run every test with ctest. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -eq 0 ]; then
  bash deploy/install-deps.sh
else
  bash deploy/install-deps.sh || echo "run.sh: not root; assuming dependencies are installed"
fi

build=${BUILD_DIR:-build}
jobs=${JOBS:-$(nproc)}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$jobs"
cd "$build"
ctest --output-on-failure -j "$jobs" "$@"
