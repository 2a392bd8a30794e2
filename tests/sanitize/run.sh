#!/usr/bin/env bash
# tests/sanitize/run.sh asan|tsan [ctest arguments...]
#
#   asan  build-asan/: everything with ASan + UBSan (UBSan aborts), the whole
#         ctest suite, sanitized congvand and congvan children included.
#   tsan  build-tsan/: congvand, congvan, store_test and node_test with TSan
#         and the absl::Mutex shim; the shim's own check, then store_test and
#         node_test.
#
# Every sanitized process, test binary or child, writes its reports to
# BUILD/sanitizer-logs/; the run fails if ctest fails or if any report is
# there at the end, and prints them. Niced, -j${JOBS:-2}. README.md here.
set -euo pipefail

usage() { echo "usage: $0 asan|tsan [ctest arguments...]" >&2; exit 2; }
[ $# -ge 1 ] || usage
mode=$1; shift
root=$(cd "$(dirname "$0")/../.." && pwd)
here=$root/tests/sanitize
jobs=${JOBS:-2}

case $mode in
  asan) build=${BUILD_DIR:-$root/build-asan}; sanitize=address,undefined ;;
  tsan) build=${BUILD_DIR:-$root/build-tsan}; sanitize=thread ;;
  *) usage ;;
esac
logs=$build/sanitizer-logs
rm -rf "$logs"
mkdir -p "$logs"

# Inherited by every process the build (gtest discovery runs the test
# binaries) and the tests start. log_path sends each process's report to
# its own file, LOGS/<tool>.<pid>, so that a child's report cannot be lost
# in a test's captured output.
common="log_path=$logs/$mode:print_stacktrace=1:symbolize=1"
export ASAN_OPTIONS="$common:detect_leaks=1:check_initialization_order=1:strict_init_order=1"
export LSAN_OPTIONS="$common:suppressions=$here/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="$common:halt_on_error=1"
export TSAN_OPTIONS="$common:suppressions=$here/tsan.supp:print_suppressions=0:halt_on_error=0:exitcode=66:second_deadlock_stack=1"
export ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-$(command -v llvm-symbolizer || true)}

# Tests that cannot run sanitized, each with its reason (README.md).
excluded=(
  # Builds a .deb of these binaries and installs it into /usr on this
  # machine: a sanitized package is not what ships, and its systemd unit
  # would run congvand as the congvan user, who cannot write LOGS.
  Package.DebBuildsInstallsAndANodeStartsFromIt
  # Assert that a process's resident memory stays under a ceiling: the
  # sanitizers' shadow memory, and ASan's quarantine of freed blocks
  # (256 MiB), are resident too, so the figure no longer measures our code.
  StoreMemory.Streaming512MiBPartInAndOutKeepsPeakRssGrowthUnder100MB
  CrashTest.MemoryStaysFlatWhileA1GbDocumentStreamsThrough
  ContainerWriter.StreamsALargeFileWithoutHoldingItInMemory
)
exclude_re="^($(IFS='|'; echo "${excluded[*]}"))\$"

# Release flags without -DNDEBUG (CMakeLists.txt): assertions on; -O1 -g1
# for stack traces with lines, and a build that fits the machine.
configure() {
  nice cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CXX_FLAGS_RELEASE="-O1 -g1" -DCONGVAN_SANITIZE="$sanitize" >/dev/null
}

# The shim's proof (tsan_shim_check.cc): an unprotected race is reported,
# the same accesses under an absl::Mutex are not, and without the shim they
# are. These runs report on purpose: to stderr, not LOGS.
shim_check() {
  local bin=$build/bin out rc ok=0
  run_check() {  # expect: race | clean
    out=$(TSAN_OPTIONS="exitcode=66:halt_on_error=0" "$bin/$2" "$3" 2>&1) && rc=0 || rc=$?
    if [ "$1" = race ] && [ $rc -eq 66 ] && grep -q 'WARNING: ThreadSanitizer: data race' <<<"$out"; then
      echo "run.sh: shim check: $2 $3: race reported, as it must be"
    elif [ "$1" = clean ] && [ $rc -eq 0 ] && ! grep -q 'ThreadSanitizer' <<<"$out"; then
      echo "run.sh: shim check: $2 $3: nothing reported, as it must be"
    else
      echo "run.sh: shim check FAILED: $2 $3 should be $1 (exit $rc):"; echo "$out"; ok=1
    fi
  }
  run_check race tsan_shim_check racy
  run_check clean tsan_shim_check locked
  run_check race tsan_shim_check_noshim locked
  return $ok
}

status=0
start=$(date +%s)
configure
case $mode in
  asan)
    nice cmake --build "$build" -j "$jobs"
    built=$(date +%s)
    echo "run.sh: built in $(( (built - start) / 60 )) min"
    (cd "$build" && nice ctest --output-on-failure -j "$jobs" -E "$exclude_re" "$@") || status=1
    ;;
  tsan)
    nice cmake --build "$build" -j "$jobs" --target tsan_shim_check tsan_shim_check_noshim congvand congvan \
      store_test node_test
    built=$(date +%s)
    echo "run.sh: built in $(( (built - start) / 60 )) min"
    # The shim is what makes the rest meaningful: prove it first.
    shim_check || status=1
    # Every case of store_test and node_test: the other binaries and the
    # shell tests are not built here.
    (cd "$build" && nice ctest --output-on-failure -j "$jobs" \
      -E "$exclude_re|_NOT_BUILT\$|^(Systemd|Package|Quickstart|Examples|Fuzz)\." "$@") || status=1
    ;;
esac
end=$(date +%s)
echo "run.sh: $mode ran in $(( (end - built) / 60 )) min"

reports=$(find "$logs" -type f | sort)
if [ -n "$reports" ]; then
  echo "run.sh: $(echo "$reports" | wc -l) sanitizer report(s) in $logs:"
  for f in $reports; do
    echo "==== $f"
    cat "$f"
  done
  status=1
fi
[ $status -eq 0 ] && echo "run.sh: $mode passed" || echo "run.sh: $mode FAILED"
exit $status
