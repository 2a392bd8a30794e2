#!/usr/bin/env bash
# The chaos run's checks must see a duplicate: a short run in which two
# documents are sent a second time after the chaos (as a clerk who retried
# a failed Send would) must fail, count the duplicates and name the extra
# issues in the register. Usage: send_twice_test.sh BUILD_DIR
set -uo pipefail
build=$1
out=$(BUILD_DIR=$build CHAOS_LOG_DIR=$build/chaos-logs-send-twice bash "$(dirname "$0")/run.sh" \
  --documents 30 --kills 1 --cuts 1 --seconds 6 --evidence 2 --send-twice 2)
status=$?
echo "$out"
json=$(tail -n 1 <<<"$out")
fail() { echo "send_twice_test: $*"; exit 1; }
[ "$status" = 1 ] || fail "the run exited $status, not 1"
python3 - "$json" <<'PY' || fail "the JSON line does not count the duplicates"
import json, sys
j = json.loads(sys.argv[1])
assert j["duplicates"] >= 2, j
assert j["lost"] == 0, j
PY
grep -q "FAIL register: .* which no clerk of this run knows of" <<<"$out" || fail "no register failure for the extra issues"
grep -q "FAIL inbox: .* times in the inbox of" <<<"$out" || fail "no inbox failure for the duplicates"
echo "send_twice_test: the checks found the deliberate duplicates"
