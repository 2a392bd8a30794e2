#!/usr/bin/env bash
# Quickstart.PlaysTheStoryFromACleanClone — deploy/quickstart.sh, as a
# newcomer runs it, from a clean clone of the repository.
#
#   bash tests/deploy/quickstart_test.sh SOURCE_DIR BINARY_DIR
#
# Clones SOURCE_DIR (what is committed: uncommitted work is not in the clone;
# QUICKSTART_TEST_WORKTREE=1 runs SOURCE_DIR's own work tree instead, for
# development), and runs the clone's quickstart twice — the second run must
# reuse the data directory and play the story again with a new document —
# with --no-install --no-build and the binaries of BINARY_DIR/bin (so that
# CI builds once), a data directory of its own and a base port whose 48 ports
# are free, and --stop. Then checks each step's outcome from the script's
# output and from the data directory, and that no node is left running.
set -uo pipefail

[ $# -eq 2 ] || { echo "usage: $0 SOURCE_DIR BINARY_DIR" >&2; exit 2; }
src=$(cd "$1" && pwd)
bin=$(cd "$2" && pwd)/bin
started=$SECONDS

failures=0
pass() { echo "ok    $*"; }
failed() { echo "FAIL  $*"; failures=$((failures + 1)); }
check() { local what=$1; shift; if "$@" >/dev/null 2>&1; then pass "$what"; else failed "$what"; fi; }

for tool in git jq openssl ss unzip timeout; do
  command -v "$tool" >/dev/null || { echo "FAIL  $tool is missing (deploy/install-deps.sh installs it)"; exit 1; }
done
[ -x "$bin/congvan" ] && [ -x "$bin/congvand" ] || { echo "FAIL  no congvan/congvand in $bin: build first"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/congvan-quickstart-test.XXXXXX")
data=$tmp/data
clone=$tmp/clone
cleanup() {
  if [ -d "$data/nodes" ] && [ -f "$clone/deploy/local-cluster.sh" ]; then
    CONGVAND=$bin/congvand bash "$clone/deploy/local-cluster.sh" stop "$data" >/dev/null 2>&1
  fi
  if [ $failures -ne 0 ] && [ -n "${KEEP_TMP:-}" ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

source "$(dirname "$0")/ports.sh"  # free_base_port

# ------------------------------------------------------------- the clone

if [ "${QUICKSTART_TEST_WORKTREE:-0}" = 1 ]; then
  clone=$src
  echo "testing the work tree $src (QUICKSTART_TEST_WORKTREE=1)"
else
  git -c safe.directory='*' clone --quiet "$src" "$clone" || { echo "FAIL  git clone $src"; exit 1; }
  echo "cloned $src at $(git -C "$clone" rev-parse --short HEAD) into $clone"
fi
if [ ! -f "$clone/deploy/quickstart.sh" ]; then
  echo "FAIL  the clone has no deploy/quickstart.sh (is it committed? QUICKSTART_TEST_WORKTREE=1 tests the work tree)"
  exit 1
fi
[ -e "$clone/build" ] && [ "$clone" != "$src" ] && { echo "FAIL  the clone is not clean: it has build/"; exit 1; }

base=$(free_base_port 48) || { echo "FAIL  no 48 free ports in 40000-60000"; exit 1; }
echo "base port $base; data $data; binaries $bin"

# ------------------------------------------------------------- the runs

# Runs the quickstart once ($1: the run's number), its output in $tmp/runN.log.
play() {
  local n=$1 t0=$SECONDS rc=0
  ( cd "$clone" && CONGVAN_BIN_DIR=$bin timeout 150 bash deploy/quickstart.sh \
      --no-install --no-build --data "$data" --base-port "$base" --stop ) >"$tmp/run$n.log" 2>&1 || rc=$?
  echo "run $n: exit $rc in $((SECONDS - t0)) s"
  if [ $rc -ne 0 ]; then
    failed "run $n of deploy/quickstart.sh exited with $rc; its output:"
    sed 's/^/    | /' "$tmp/run$n.log"
    for log in "$data"/logs/*.log; do
      [ -f "$log" ] || continue
      echo "    --- last lines of $log"
      tail -n 5 "$log" | sed 's/^/    | /'
    done
    return 1
  fi
  pass "run $n of deploy/quickstart.sh exited 0"
}

# The value of a line "  KEY: VALUE" of the run's final summary.
summary() { sed -n "/^== Done/,\$ s/^  $2: *//p" "$tmp/run$1.log" | head -n 1; }

# Every step's outcome of run $1, the story's number $1 too (a new document each run).
check_run() {
  local n=$1 log=$tmp/run$1.log story=$data/story/$1
  local msg doc sig evidence
  msg=$(summary "$n" "message id")
  doc=$(summary "$n" document)
  sig=$(summary "$n" signature)
  evidence=$(summary "$n" evidence)
  # Paths are printed relative to the clone's root when under it.
  case $doc in /*) ;; *) doc=$clone/$doc ;; esac
  case $sig in /*) ;; *) sig=$clone/$sig ;; esac
  case $evidence in /*) ;; *) evidence=$clone/$evidence ;; esac

  if [[ $msg =~ ^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$ ]]; then
    pass "run $n: the message id is printed ($msg)"
  else
    failed "run $n: no message id (UUIDv7) in the summary (got '$msg')"
  fi
  check "run $n: the document is in story $n ($doc)" test "$doc" = "$story/bao-cao.txt" -a -s "$doc"
  check "run $n: the leader's signature exists ($sig)" test -s "$sig"
  check "run $n: openssl cms -verify accepts the leader's signature" \
    openssl cms -verify -binary -inform DER -content "$doc" -in "$sig" -CAfile "$data/ca/root.pem" -out /dev/null
  check "run $n: the signature was made on the token of leader-honggai" \
    jq -e '.person_login == "leader-honggai" and (.key | test("token"))' "$story/sign.json"
  check "run $n: the send command ran as clerk-honggai to both recipients" \
    grep -qE 'CONGVAN_PROFILE=[^ ]*people/clerk-honggai/profile.toml [^ ]*congvan send --to 000.00.00.H49,000.01.05.H29' "$log"
  check "run $n: the node registered number $n" jq -e --argjson n "$n" '.number == $n' "$story/send.json"

  # c. receipts, d. the province's 03: in the output's track tables and in the data.
  check "run $n: the output's track shows 01 arrived from 000.00.00.H49" \
    grep -qE '^ +000\.00\.00\.H49 +delivered +01 arrived' "$log"
  check "run $n: the output's track shows 01 arrived from 000.01.05.H29" \
    grep -qE '^ +000\.01\.05\.H29 +delivered +01 arrived' "$log"
  check "run $n: the output's track shows 03 accepted" grep -qE '^ +03 accepted ' "$log"
  check "run $n: track: 01 from both recipients, 03 from the province" \
    jq -e '(.recipients | length) == 2
           and all(.recipients[]; any(.answers[]; .code == "01"))
           and any(.recipients[]; .agency == "000.00.00.H49" and any(.answers[]; .code == "03"))' "$story/track.json"
  check "run $n: the province's clerk fetched the same bytes" cmp -s "$doc" "$story/received-h49/bao-cao.txt"
  check "run $n: the output shows the inbox of clerk-h49 with the document" \
    grep -qE "^ +$msg +000\.01\.01\.H49 " "$log"

  # e. the evidence.
  check "run $n: the evidence container exists ($evidence)" test -s "$evidence" -a "$evidence" = "$data/evidence-$msg.zip"
  check "run $n: the export holds a timestamp" jq -e '.timestamp == true' "$story/export.json"
  local answers
  answers=$(unzip -Z1 "$evidence" 2>/dev/null | grep '^answers/.*\.pb$' | sed -E 's/^answers\/[0-9]+-//; s/\.pb$//' | sort | tr '\n' ' ')
  check "run $n: the evidence holds 01 and 03 of 000.00.00.H49 and 01 of 000.01.05.H29 ($answers)" \
    test "$answers" = "000.00.00.H49-01 000.00.00.H49-03 000.01.05.H29-01 "
  local verify_rc=0
  "$bin/congvan" verify "$evidence" --trust "$data/ca/root.pem" >"$tmp/verify$n.txt" 2>&1 || verify_rc=$?
  if [ $verify_rc -eq 0 ]; then
    pass "run $n: congvan verify exits 0 on the evidence"
  else
    failed "run $n: congvan verify exited $verify_rc on the evidence:"
    sed 's/^/    | /' "$tmp/verify$n.txt"
  fi
  check "run $n: the output shows openssl's verdict on the receipt" grep -q 'CMS Verification successful' "$log"
  check "run $n: the output says how the nodes were stopped" grep -q 'deploy/local-cluster.sh stop' "$log"
  echo "$msg" >"$tmp/msg$n"
}

if play 1; then check_run 1; fi
if play 2; then
  check_run 2
  check "run 2: reused the data directory of run 1" grep -q 'already holds a dev PKI: reusing it' "$tmp/run2.log"
  check "run 2: sent a new document" test "$(cat "$tmp/msg1" 2>/dev/null)" != "$(cat "$tmp/msg2" 2>/dev/null)"
fi

# ------------------------------------------------------- nothing left over

status_rc=0
status=$(CONGVAND=$bin/congvand bash "$clone/deploy/local-cluster.sh" status "$data" 2>&1) || status_rc=$?
if [ $status_rc -ne 0 ] && ! grep -q running <<<"$status" && [ "$(grep -c stopped <<<"$status")" -eq 12 ]; then
  pass "at the end, local-cluster.sh status says all 12 nodes stopped"
else
  failed "nodes left running after --stop:"
  sed 's/^/    | /' <<<"$status"
fi
if pgrep -f -- "$data/nodes/" >/dev/null; then
  failed "a congvand of this test is still running:"
  pgrep -a -f -- "$data/nodes/" | sed 's/^/    | /'
else
  pass "no congvand of this test is left running"
fi

echo "quickstart test: $((SECONDS - started)) s"
if [ $failures -eq 0 ]; then
  echo "Quickstart.PlaysTheStoryFromACleanClone: passed"
  exit 0
fi
echo "Quickstart.PlaysTheStoryFromACleanClone: $failures check(s) failed"
exit 1
