#!/usr/bin/env bash
# Examples.PythonClientListsTheInbox — examples/python/congvan_inbox.py, the
# way a document-management system integrates, against real nodes.
#
#   bash tests/deploy/python_client_test.sh SOURCE_DIR BINARY_DIR
#
# A dev PKI of the sample topology (P-256, on a base port whose 48 ports are
# free), two nodes of it started with BINARY_DIR/bin/congvand: UBND thành phố
# Hạ Long (000.00.01.H49) and its ward, UBND phường Hồng Gai (000.01.01.H49).
# Hạ Long's leader (leader-halong: a key file, no token) signs a document of
# two parts, Hạ Long's clerk sends it to Hồng Gai with the CLI, and Hồng Gai's
# clerk runs the Python example: its output must name the document, and the
# parts it fetched must be the bytes that were sent — with the stubs made by
# python3-grpc-tools and, the Debian alternative, by protoc and
# grpc_python_plugin. Python is Debian's (/usr/bin/python3, where apt puts
# python3-grpcio), or $PYTHON.
set -uo pipefail

[ $# -eq 2 ] || { echo "usage: $0 SOURCE_DIR BINARY_DIR" >&2; exit 2; }
src=$(cd "$1" && pwd)
bin=$(cd "$2" && pwd)/bin
python=${PYTHON:-/usr/bin/python3}
started=$SECONDS

failures=0
pass() { echo "ok    $*"; }
failed() { echo "FAIL  $*"; failures=$((failures + 1)); }
check() { local what=$1; shift; if "$@" >/dev/null 2>&1; then pass "$what"; else failed "$what"; fi; }
die() { failed "$*"; echo "Examples.PythonClientListsTheInbox: failed"; exit 1; }

for tool in jq openssl ss; do
  command -v "$tool" >/dev/null || die "$tool is missing (deploy/install-deps.sh installs it)"
done
[ -x "$bin/congvan" ] && [ -x "$bin/congvand" ] || die "no congvan/congvand in $bin: build first"
"$python" -c 'import grpc, grpc_tools.protoc, google.protobuf, tomllib' 2>/dev/null ||
  die "$python lacks grpc, grpc_tools or tomllib: apt-get install python3-grpcio python3-grpc-tools (deploy/install-deps.sh)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/congvan-python-test.XXXXXX")
pki=$tmp/pki
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  if [ $failures -ne 0 ] && [ -n "${KEEP_TMP:-}" ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

source "$(dirname "$0")/ports.sh"  # free_base_port

base=$(free_base_port 48) || die "no 48 free ports in 40000-60000"
"$bin/congvan" pki init --topology "$src/deploy/topologies/sample.toml" --out "$pki" --key-type p256 \
  --base-port "$base" >"$tmp/pki-init.txt" 2>&1 || { cat "$tmp/pki-init.txt"; die "congvan pki init"; }
pass "dev PKI on base port $base"

city=000.00.01.H49   # UBND thành phố Hạ Long
ward=000.01.01.H49   # UBND phường Hồng Gai
for id in $city $ward; do
  "$bin/congvand" --config "$pki/nodes/$id/node.toml" >"$tmp/$id.log" 2>&1 &
  pids+=($!)
done
for id in $city $ward; do
  for _ in $(seq 1 100); do grep -q serving "$tmp/$id.log" && break; sleep 0.1; done
  grep -q serving "$tmp/$id.log" || { tail -n 5 "$tmp/$id.log"; die "the node of $id did not start"; }
done
pass "the nodes of $city and $ward serve"

# The document: a binary main part of several gRPC chunks, and an attachment.
doc=$tmp/cong-van.pdf
head -c 700001 /dev/urandom >"$doc"
attachment=$tmp/phu-luc.txt
printf 'Phụ lục: danh sách đơn vị tham gia thử nghiệm.\n' >"$attachment"
subject="Công văn về việc thử nghiệm tích hợp phần mềm quản lý văn bản"
P=$pki/people
"$bin/congvan" sign --cert "$P/leader-halong/sign.pem" --key "$P/leader-halong/sign.key" \
  --in "$doc" --out "$doc.p7s" >"$tmp/sign.txt" 2>&1 || { cat "$tmp/sign.txt"; die "congvan sign as leader-halong"; }
sent=$(CONGVAN_PROFILE=$P/clerk-halong/profile.toml "$bin/congvan" send --to $ward --subject "$subject" \
  --type "Công văn" --notation CV-UBND --file "$doc" --attach "$attachment" --leader-sig "$doc.p7s" --json 2>&1) ||
  die "congvan send as clerk-halong: $sent"
msg=$(jq -r .message_id <<<"$sent")
pass "clerk-halong sent $msg to $ward"
arrived=0
for _ in $(seq 1 100); do
  if CONGVAN_PROFILE=$P/clerk-halong/profile.toml "$bin/congvan" track "$msg" --json 2>/dev/null |
      jq -e 'any(.recipients[]; any(.answers[]; .code == "01"))' >/dev/null; then arrived=1; break; fi
  sleep 0.2
done
[ $arrived -eq 1 ] || { tail -n 5 "$tmp/$ward.log"; die "no 01 receipt from $ward after 20 s"; }
pass "the receipt 01 came back"

# The example, as the ward's clerk, with each way of making the stubs.
for compiler in grpc_tools protoc; do
  out=$tmp/fetched-$compiler
  rc=0
  t0=$SECONDS
  "$python" "$src/examples/python/congvan_inbox.py" --profile "$P/clerk-honggai/profile.toml" \
    --fetch "$msg" --out "$out" --compiler "$compiler" >"$tmp/example-$compiler.txt" 2>&1 || rc=$?
  if [ $rc -ne 0 ]; then
    failed "[$compiler] congvan_inbox.py exited $rc:"
    sed 's/^/    | /' "$tmp/example-$compiler.txt"
    continue
  fi
  pass "[$compiler] congvan_inbox.py exited 0 in $((SECONDS - t0)) s"
  text=$tmp/example-$compiler.txt
  check "[$compiler] it lists the inbox of clerk-honggai with 1 document" grep -q "^Inbox of clerk-honggai at $ward .*: 1 document" "$text"
  check "[$compiler] the inbox line names the message, the sender and the subject" \
    grep -qE "^$msg +$city +UBND thành phố Hạ Long +1 +CV-UBND +$subject .* 01 arrived$" "$text"
  check "[$compiler] it names the fetched document" grep -q "^Document $msg: số 1/[0-9]*, ký hiệu CV-UBND, from UBND thành phố Hạ Long ($city)" "$text"
  check "[$compiler] it names the subject and the signer" \
    bash -c 'grep -q "Công văn of .*: $1" "$2" && grep -q "signed by Đặng Quang Huy" "$2"' _ "$subject" "$text"
  check "[$compiler] the main part fetched is the bytes sent" cmp -s "$doc" "$out/cong-van.pdf"
  check "[$compiler] the attachment fetched is the bytes sent" cmp -s "$attachment" "$out/phu-luc.txt"
  check "[$compiler] no .partial file is left" test -z "$(ls "$out" | grep '\.partial$')"
  check "[$compiler] openssl accepts the sender's seal over header.pb" \
    openssl cms -verify -binary -inform DER -content "$out/header.pb" -in "$out/seal.p7s" -CAfile "$pki/ca/root.pem" -out /dev/null
  check "[$compiler] openssl accepts the leader's signature over the main part" \
    openssl cms -verify -binary -inform DER -content "$out/cong-van.pdf" -in "$out/leader-1.p7s" -CAfile "$pki/ca/root.pem" -out /dev/null
done

# A message the node does not hold: the node's NOT_FOUND, exit 1, nothing written.
rc=0
"$python" "$src/examples/python/congvan_inbox.py" --profile "$P/clerk-honggai/profile.toml" \
  --fetch 01a00000-0000-7000-8000-000000000000 --out "$tmp/none" >"$tmp/example-none.txt" 2>&1 || rc=$?
check "an unknown message: exit 1 with the node's NOT_FOUND" \
  bash -c '[ "$1" -eq 1 ] && grep -q NOT_FOUND "$2"' _ "$rc" "$tmp/example-none.txt"

echo "python client test: $((SECONDS - started)) s"
if [ $failures -eq 0 ]; then
  echo "Examples.PythonClientListsTheInbox: passed"
  exit 0
fi
echo "Examples.PythonClientListsTheInbox: $failures check(s) failed"
exit 1
