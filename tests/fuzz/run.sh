#!/usr/bin/env bash
# tests/fuzz/run.sh SECONDS [TARGET...] — fuzzes each target (default: all
# of them) for SECONDS with libFuzzer, ASan and UBSan, one at a time.
#
# Configures build-fuzz/ (CC=clang CXX=clang++ -DCONGVAN_FUZZ=ON
# -DCMAKE_BUILD_TYPE=RelWithDebInfo), builds only the fuzz targets and what
# they need, and runs each on a fresh copy of its seed corpus and regression
# inputs in build-fuzz/fuzz-runs/TARGET/corpus (what the fuzzer finds stays
# there, not in the repository). Builds and runs are niced.
#
# Exit status: 0 when no target produced an artifact; 1 when one did — a
# crash, a leak, a timeout or running out of memory — with each artifact's
# path printed (keep it under tests/fuzz/regressions/TARGET/ once fixed);
# 2 for a usage or setup error.
#
# Environment: FUZZ_JOBS (build parallelism, default 2), FUZZ_TIMEOUT (a
# single input slower than this many seconds is a timeout, default 25).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
all=(envelope_fuzz cms_fuzz answer_fuzz config_fuzz evidence_fuzz treehead_fuzz)

usage() { echo "usage: $0 SECONDS [TARGET...]  (targets: ${all[*]})" >&2; exit 2; }
[ $# -ge 1 ] && [[ $1 =~ ^[0-9]+$ ]] || usage
seconds=$1
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
for t in "${targets[@]}"; do
  [[ " ${all[*]} " == *" $t "* ]] || { echo "run.sh: unknown target $t" >&2; usage; }
done

command -v clang++ >/dev/null || { echo "run.sh: clang++ is missing (deploy/install-deps.sh installs it)" >&2; exit 2; }
runtime=$(clang++ -print-file-name=libclang_rt.fuzzer-x86_64.a)
if [ ! -f "$runtime" ]; then
  runtime=$(clang++ --print-runtime-dir 2>/dev/null)/libclang_rt.fuzzer-x86_64.a
fi
[ -f "$runtime" ] || { echo "run.sh: libFuzzer's runtime is missing (package libclang-rt-14-dev)" >&2; exit 2; }

build=$root/build-fuzz
mkdir -p "$build"
echo "run.sh: configuring $build"
if ! CC=clang CXX=clang++ nice -n 10 cmake -S "$root" -B "$build" -DCONGVAN_FUZZ=ON \
     -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$build/fuzz-configure.log" 2>&1; then
  tail -n 30 "$build/fuzz-configure.log" >&2
  exit 2
fi
echo "run.sh: building ${targets[*]} (log: $build/fuzz-build.log)"
if ! nice -n 10 cmake --build "$build" -j"${FUZZ_JOBS:-2}" --target "${targets[@]}" >"$build/fuzz-build.log" 2>&1; then
  grep -E 'error|Error' "$build/fuzz-build.log" | head -n 30 >&2
  exit 2
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
failed=0
summary=()
for t in "${targets[@]}"; do
  work=$build/fuzz-runs/$t
  rm -rf "$work"
  mkdir -p "$work/corpus" "$work/artifacts"
  cp -r "$here/corpus/$t/." "$work/corpus/"
  if [ -d "$here/regressions/$t" ]; then
    find "$here/regressions/$t" -type f ! -name '.*' -exec cp {} "$work/corpus/" \;
  fi
  echo "run.sh: $t for ${seconds}s on $(find "$work/corpus" -type f | wc -l) inputs (log: $work/fuzz.log)"
  start=$SECONDS
  nice -n 10 "$build/bin/$t" -max_total_time="$seconds" -timeout="${FUZZ_TIMEOUT:-25}" -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$work/artifacts/" "$work/corpus" >"$work/fuzz.log" 2>&1
  rc=$?
  elapsed=$((SECONDS - start))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz.log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/fuzz.log" | tail -n 1)
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$work/fuzz.log" | tail -n 1)
  last=$(grep -E '^#[0-9]+' "$work/fuzz.log" | tail -n 1)
  cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")
  ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")
  corpus=$(sed -nE 's/.* corp: ([0-9]+\/[0-9a-zA-Z]+).*/\1/p' <<<"$last")
  artifacts=$(find "$work/artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \))
  result=ok
  if [ -n "$artifacts" ] || [ $rc -ne 0 ]; then
    result=FAILED
    failed=1
    echo "run.sh: $t FAILED (exit $rc); the end of its log:" >&2
    grep -vE '^#[0-9]+' "$work/fuzz.log" | tail -n 40 >&2
    for a in $artifacts; do echo "run.sh: artifact $a" >&2; done
  fi
  summary+=("$(printf '%-14s %-6s %5ss %10s execs %6s exec/s  cov %-5s ft %-6s corpus %-10s rss %s MB' \
    "$t" "$result" "$elapsed" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corpus:-?}" "${rss:-?}")")
done

echo
printf '%s\n' "${summary[@]}"
exit $failed
