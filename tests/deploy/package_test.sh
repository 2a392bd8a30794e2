#!/usr/bin/env bash
# The Debian package, end to end on this machine: `cpack -G DEB` makes it, its
# contents and control fields are what cmake/packaging.cmake says, `dpkg -i`
# installs it (the congvan user, /etc/congvan), a node of a dev PKI made with
# the installed congvan runs from the installed congvand as the congvan user
# and answers, the installed unit passes `systemd-analyze verify`, and
# `dpkg -r` then `dpkg --purge` take it away again.
#
#   tests/deploy/package_test.sh BUILD_DIR
#
# It changes the machine (a package, a system user), so it needs root: without
# root it skips (exit 77). Whatever happens, the trap purges the package and
# removes the congvan user, /etc/congvan and /var/lib/congvan when this test
# made them. It never touches a congvan package that was installed before: it
# skips. It does not start the unit (systemd need not be running, as in a
# container); the node runs the way the unit runs it: as congvan, with no new
# privileges and no capabilities, its --check-config first.
set -euo pipefail

build=${1:?usage: $0 BUILD_DIR}
build=$(cd "$build" && pwd)
source_dir=$(cd "$(dirname "$0")/../.." && pwd)
agency=000.00.00.A00   # the node started: the sample topology's root

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
check() { echo "check: $*"; }
ok() { echo "  ok${1:+: $1}"; }
now() { date +%s.%N; }
since() { awk -v t0="$1" -v t1="$(now)" 'BEGIN {printf "%.1f s", t1 - t0}'; }

[ "$(id -u)" -eq 0 ] || skip "needs root: it installs, runs and removes the congvan package (run as root, e.g. in CI)"
status=$(dpkg-query -W -f='${Status}' congvan 2>/dev/null || true)
case "$status" in
  "" | "unknown ok not-installed" | "purge ok not-installed") ;;
  *) skip "a congvan package is already on this machine ($status); this test leaves it alone" ;;
esac
for tool in cpack dpkg dpkg-deb dpkg-shlibdeps file ss curl setpriv systemd-analyze userdel; do
  command -v "$tool" >/dev/null || fail "$tool not found: run deploy/install-deps.sh"
done
for b in congvand congvan; do
  [ -x "$build/bin/$b" ] || fail "$build/bin/$b is not built (cmake --build $build --target congvand congvan)"
done
version=$(sed -nE 's/^project\(congvan VERSION ([0-9.]+).*/\1/p' "$source_dir/CMakeLists.txt")
[ -n "$version" ] || fail "no version in project() of $source_dir/CMakeLists.txt"

# What the machine had before, so that the trap puts it back.
had_user=0; getent passwd congvan >/dev/null && had_user=1
had_group=0; getent group congvan >/dev/null && had_group=1
had_etc=0; [ -e /etc/congvan ] && had_etc=1
had_var=0; [ -e /var/lib/congvan ] && had_var=1

tmp=$(mktemp -d)
node_pid=
cleanup() {
  local rc=$?
  set +e
  if [ -n "$node_pid" ] && kill -0 "$node_pid" 2>/dev/null; then
    kill -KILL "$node_pid"; wait "$node_pid" 2>/dev/null
  fi
  if dpkg-query -W -f='${Status}' congvan 2>/dev/null | grep -qv 'not-installed'; then
    echo "cleanup: dpkg --purge congvan"
    dpkg --purge congvan >/dev/null
  fi
  if [ $had_user -eq 0 ] && getent passwd congvan >/dev/null; then userdel congvan; fi
  if [ $had_group -eq 0 ] && getent group congvan >/dev/null; then groupdel congvan; fi
  if [ $had_var -eq 0 ]; then rm -rf /var/lib/congvan; fi
  if [ $had_etc -eq 0 ]; then rm -rf /etc/congvan; fi
  rm -rf "$tmp"
  exit $rc
}
trap cleanup EXIT

# ------------------------------------------------------------------ build
check "cpack -G DEB in $build"
t=$(now)
(cd "$build" && cpack -G DEB -B "$tmp/deb" >"$tmp/cpack.log" 2>&1) || { cat "$tmp/cpack.log" >&2; fail "cpack -G DEB"; }
deb=$tmp/deb/congvan_${version}_$(dpkg --print-architecture).deb
[ -f "$deb" ] || { ls "$tmp/deb" >&2; fail "no $(basename "$deb")"; }
ok "$(basename "$deb"), $(du -k "$deb" | cut -f1) KiB, in $(since "$t")"

check "dpkg-deb -c: the binaries, the unit, the sample config, the topology, local-cluster.sh"
dpkg-deb -c "$deb" | awk '{print $1, $6}' >"$tmp/contents"
for f in -rwxr-xr-x:./usr/bin/congvand -rwxr-xr-x:./usr/bin/congvan \
         -rw-r--r--:./lib/systemd/system/congvand@.service \
         -rw-r--r--:./usr/share/doc/congvan/examples/node.toml \
         -rw-r--r--:./usr/share/congvan/topologies/sample.toml \
         -rwxr-xr-x:./usr/share/congvan/local-cluster.sh; do
  grep -qxF -- "${f%%:*} ${f#*:}" "$tmp/contents" || { cat "$tmp/contents" >&2; fail "no ${f#*:} (mode ${f%%:*}) in the package"; }
done
ok "$(grep -vc '/$' "$tmp/contents") files"

check "dpkg-deb -I: control fields and maintainer scripts"
dpkg-deb -I "$deb" >"$tmp/info"
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = congvan ] || fail "Package: $(field Package)"
[ "$(field Version)" = "$version" ] || fail "Version: $(field Version), project() says $version"
[ -n "$(field Maintainer)" ] || fail "no Maintainer"
[ -n "$(field Section)" ] || fail "no Section"
[ -n "$(field Description)" ] || fail "no Description"
depends=$(field Depends)
# dpkg-shlibdeps worked when the libraries' packages are there.
for p in libc6 libstdc++6 libssl3 'libgrpc++1' libbotan-2 adduser; do
  [[ ", $depends" == *", $p"* ]] || fail "Depends lacks $p: $depends"
done
recommends=$(field Recommends)
for p in softhsm2 openssl; do
  [[ "$recommends" == *"$p"* ]] || fail "Recommends lacks $p: $recommends"
done
for script in postinst prerm postrm; do
  grep -qE "^ +[0-9]+ bytes, +[0-9]+ lines +\* +$script " "$tmp/info" || { cat "$tmp/info" >&2; fail "no executable $script"; }
done
ok "Version $version; Depends $(echo "$depends" | tr ',' '\n' | wc -l) packages; Recommends $recommends"

# ---------------------------------------------------------------- install
check "dpkg -i"
t=$(now)
if ! dpkg -i "$deb" >"$tmp/dpkg.log" 2>&1; then
  cat "$tmp/dpkg.log" >&2
  grep -q "dependency problems" "$tmp/dpkg.log" &&
    fail "dpkg -i: runtime dependencies missing (deploy/install-deps.sh should install every one)"
  fail "dpkg -i"
fi
ok "installed in $(since "$t")"

check "postinst: the congvan system user, /etc/congvan, /var/lib/congvan; no node started"
IFS=: read -r _ _ uid _ _ home shell < <(getent passwd congvan) || fail "no user congvan"
[ "$uid" -lt 1000 ] || fail "congvan is not a system user (uid $uid)"
[ "$home" = /var/lib/congvan ] || fail "congvan's home is $home"
[ "$shell" = /usr/sbin/nologin ] || fail "congvan's shell is $shell"
[ "$(stat -c '%U:%G %a' /var/lib/congvan)" = "congvan:congvan 750" ] || [ $had_var -eq 1 ] ||
  fail "/var/lib/congvan is $(stat -c '%U:%G %a' /var/lib/congvan)"
[ "$(stat -c '%U:%G %a' /etc/congvan)" = "root:congvan 750" ] || [ $had_etc -eq 1 ] ||
  fail "/etc/congvan is $(stat -c '%U:%G %a' /etc/congvan)"
for exe in /proc/[0-9]*/exe; do
  [ "$(readlink "$exe" 2>/dev/null)" != /usr/bin/congvand ] || fail "a congvand runs after dpkg -i ($exe)"
done
ok "uid $uid, home $home, shell $shell"

check "/usr/bin/congvand --help, /usr/bin/congvan --help"
/usr/bin/congvand --help | grep -q -- --check-config || fail "congvand --help"
/usr/bin/congvan --help | grep -q pki || fail "congvan --help"
ok

# ------------------------------------------------------------------- run
# 37 ports from the base (12 agencies, their metrics and the TSA), below the
# kernel's ephemeral range; take the first block of 50 with no listener.
check "a free block of ports"
base=
for attempt in $(seq 0 29); do
  candidate=$((10000 + (($$ + attempt * 37) % 450) * 50))
  if ! ss -Htln | awk '{n = split($4, a, ":"); print a[n]}' |
       awk -v lo="$candidate" -v hi=$((candidate + 49)) '$1 >= lo && $1 <= hi {found = 1} END {exit !found}'; then
    base=$candidate; break
  fi
done
[ -n "$base" ] || fail "no free block of 50 ports in 10000-32549"
ok "base port $base"

check "/usr/bin/congvan pki init --topology /usr/share/congvan/topologies/sample.toml --key-type p256"
t=$(now)
pki=$tmp/pki
/usr/bin/congvan pki init --topology /usr/share/congvan/topologies/sample.toml --out "$pki" \
  --key-type p256 --base-port "$base" >"$tmp/pki.log" 2>&1 || { cat "$tmp/pki.log" >&2; fail "pki init"; }
config=$pki/nodes/$agency/node.toml
[ -f "$config" ] || fail "no $config"
chmod 0711 "$tmp"
chown -R congvan:congvan "$pki"
ok "in $(since "$t")"

# As the unit runs it: user congvan, no new privileges, no capabilities. (A
# command, not a function: in the background it is then congvand's own pid.)
as_congvan=(setpriv --reuid=congvan --regid=congvan --init-groups --no-new-privs
            --inh-caps=-all --bounding-set=-all)
check "congvand --check-config (the unit's ExecStartPre) as congvan"
"${as_congvan[@]}" /usr/bin/congvand --config "$config" --check-config || fail "--check-config"
ok

check "/usr/bin/congvand --config $config as congvan, until it logs \"serving\""
t=$(now)
log=$tmp/congvand.log
"${as_congvan[@]}" /usr/bin/congvand --config "$config" >"$log" 2>&1 &
node_pid=$!
for _ in $(seq 1 300); do
  grep -q serving "$log" && break
  kill -0 "$node_pid" 2>/dev/null || { cat "$log" >&2; fail "congvand exited"; }
  sleep 0.1
done
grep -q serving "$log" || { cat "$log" >&2; fail "congvand did not serve within 30 s"; }
user=$(ps -o user= -p "$node_pid")
[ "$user" = congvan ] || fail "congvand runs as $user"
ok "$(grep serving "$log") — as $user, in $(since "$t")"

metrics=$(sed -nE 's/^metrics = "127\.0\.0\.1:([0-9]+)".*/\1/p' "$config")
[ -n "$metrics" ] || fail "no listen.metrics in $config"
check "curl http://127.0.0.1:$metrics/metrics"
curl -sf "http://127.0.0.1:$metrics/metrics" >"$tmp/metrics" || fail "GET /metrics"
n=$(grep -c '^# TYPE congvan_' "$tmp/metrics" || true)
[ "$n" -gt 0 ] || { head "$tmp/metrics" >&2; fail "no congvan_ metric"; }
ok "$n congvan_ metrics"

check "SIGTERM: congvand stops cleanly (the unit's KillSignal)"
t=$(now)
kill -TERM "$node_pid"
rc=0; wait "$node_pid" || rc=$?
node_pid=
[ $rc -eq 0 ] || { cat "$log" >&2; fail "congvand exited with $rc after SIGTERM"; }
grep -q "stopped" "$log" || { cat "$log" >&2; fail "congvand did not log stopped"; }
ok "exit 0 in $(since "$t")"

check "systemd-analyze verify /lib/systemd/system/congvand@.service"
if ! out=$(systemd-analyze verify /lib/systemd/system/congvand@.service 2>&1) || [ -n "$out" ]; then
  echo "$out" >&2
  fail "systemd-analyze verify"
fi
security=$(systemd-analyze security --offline=true /lib/systemd/system/congvand@.service 2>&1 | tail -n 1)
ok "${security##*→ }"

# ---------------------------------------------------------------- remove
check "dpkg -r congvan, then dpkg --purge congvan"
dpkg -r congvan >"$tmp/dpkg.log" 2>&1 || { cat "$tmp/dpkg.log" >&2; fail "dpkg -r"; }
for f in /usr/bin/congvand /usr/bin/congvan /lib/systemd/system/congvand@.service; do
  [ ! -e "$f" ] || fail "$f is still there after dpkg -r"
done
dpkg --purge congvan >"$tmp/dpkg.log" 2>&1 || { cat "$tmp/dpkg.log" >&2; fail "dpkg --purge"; }
[ $had_etc -eq 1 ] || [ ! -e /etc/congvan ] || fail "/etc/congvan (empty) is still there after purge"
getent passwd congvan >/dev/null || fail "purge removed the congvan user (it owns the nodes' data)"
ok "removed; the congvan user and /var/lib/congvan kept, as postrm says (this test removes them now)"
