#!/usr/bin/env bash
# deploy/systemd/congvand@.service passes `systemd-analyze verify` (no error,
# no warning), keeps an exposure level of 2.0 or less in `systemd-analyze
# security` ("OK" or better), and its MemoryDenyWriteExecute=yes fits
# congvand (no executable stack in it or its libraries). Runs without root.
#
#   tests/deploy/systemd_unit_test.sh BUILD_DIR
#
# verify checks that every ExecStart* binary exists, so it runs on a temporary
# copy of the unit whose /usr/bin paths name BUILD_DIR/bin.
set -euo pipefail

build=${1:?usage: $0 BUILD_DIR}
build=$(cd "$build" && pwd)
source_dir=$(cd "$(dirname "$0")/../.." && pwd)
unit=$source_dir/deploy/systemd/congvand@.service
congvand=$build/bin/congvand

fail() { echo "FAIL: $*" >&2; exit 1; }
[ -x "$congvand" ] || fail "$congvand is not built"
command -v systemd-analyze >/dev/null || fail "systemd-analyze not found (Debian package systemd)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
copy=$tmp/congvand@.service
sed "s#/usr/bin/congvand#$congvand#g" "$unit" >"$copy"
grep -q "^ExecStart=$congvand --config /etc/congvan/%i/node.toml\$" "$copy" ||
  fail "the unit's ExecStart is not /usr/bin/congvand --config /etc/congvan/%i/node.toml"
grep -q "^ExecStartPre=$congvand --config /etc/congvan/%i/node.toml --check-config\$" "$copy" ||
  fail "the unit's ExecStartPre is not congvand --check-config"

echo "check: systemd-analyze verify $unit (ExecStart* -> $congvand)"
# verify's exit status covers only some errors (an unknown key is a warning):
# any output at all fails the test.
if ! out=$(systemd-analyze verify "$copy" 2>&1) || [ -n "$out" ]; then
  echo "$out" >&2
  fail "systemd-analyze verify"
fi
echo "  ok: no error, no warning"

echo "check: systemd-analyze security --offline=true: exposure 2.0 or less"
security=$(systemd-analyze security --offline=true --threshold=20 "$copy" 2>&1) || {
  echo "$security" >&2
  fail "systemd-analyze security: exposure above 2.0"
}
echo "  ok: ${security##*→ }"

echo "check: no executable stack in congvand or its libraries (MemoryDenyWriteExecute=yes)"
for elf in "$congvand" $(ldd "$congvand" | awk '$2 == "=>" && $3 ~ /^\// {print $3}'); do
  flags=$(readelf -lW "$elf" | awk '$1 == "GNU_STACK" {print $7}')
  [ "$flags" = "RW" ] || fail "$elf has GNU_STACK '$flags': it needs an executable stack"
done
echo "  ok"
