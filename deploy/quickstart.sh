#!/usr/bin/env bash
# deploy/quickstart.sh — a newcomer's first look at congvan, in one command.
#
# On a fresh Debian 12 machine, as root, from a clone of the repository:
#
#   deploy/quickstart.sh
#
# installs the Debian packages (deploy/install-deps.sh), builds (Release, into
# build/; an existing build is reused and only brought up to date), creates a
# dev PKI for the sample topology (deploy/topologies/sample.toml: 12 agencies,
# from the national axis down to communes) in ./quickstart-data, starts every
# node on 127.0.0.1 (deploy/local-cluster.sh) and plays the story of one
# official document (công văn), printing each command exactly as it ran so
# that you can repeat it by hand from the repository root:
#
#   a. the leader of phường Hồng Gai signs it on a (SoftHSM2) token;
#   b. the commune's clerk sends it to the province (UBND tỉnh Quảng Ninh) and
#      to a ward of Hà Nội (UBND phường Hoàn Kiếm);
#   c. the signed receipts (01 arrived) come back;
#   d. the province's clerk finds it in the inbox, fetches it and accepts it
#      (03), which the sender sees;
#   e. an auditor exports the evidence and checks it offline, with congvan
#      and with openssl.
#
# The nodes keep running afterwards (stop them with
# `deploy/local-cluster.sh stop quickstart-data`). Running the script again
# REUSES the existing data directory — its PKI, its nodes (started again if
# they were stopped) and their databases — and plays the story again with a
# new document, which gets the next number of the commune's register. To
# start from scratch, stop the nodes and delete the directory.
#
# Options:
#   --no-install      skip deploy/install-deps.sh (e.g. when not root)
#   --no-build        use the existing binaries, do not run cmake
#   --stop            stop every node at the end (also when a step fails)
#   --data DIR        the data directory instead of ./quickstart-data
#   --base-port N     the nodes' first port (pki init --base-port; default 27400;
#                     the sample uses 48 ports from N); only when DIR is created
#   --key-type T      p256 (default), rsa2048 or rsa3072; only when DIR is created
# Environment:
#   CONGVAN_BIN_DIR   where congvan and congvand are (default: build/bin)
#   QUICKSTART_TIMEOUT  seconds to wait for each answer (default 60)
#
# Exit status: 0 when every step worked; 1, with the step named, at the first
# one that fails; 2 for a usage error.
set -euo pipefail

usage() {
  awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}"
  exit "${1:-2}"
}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
invoked_from=$PWD

install=1
build=1
stop_at_end=0
data=""
base_port=""
# The key type of every key of the dev PKI. RSA-2048 is pki init's default
# and what most Government CA certificates use today, but generating its
# ~80 keys (root and issuing CA, every agency's seal, TLS and TSA keys,
# every person's signing and TLS key) takes about 20 s on a 2-core machine,
# against a fraction of a second for ECDSA P-256, which congvan, SoftHSM2
# and openssl treat exactly alike (DESIGN.md allows both). The demo is
# about the flow, not the algorithm: P-256, unless --key-type says otherwise.
key_type=p256

while [ $# -gt 0 ]; do
  case $1 in
    --no-install) install=0 ;;
    --no-build) build=0 ;;
    --stop) stop_at_end=1 ;;
    --data|--base-port|--key-type)
      [ $# -ge 2 ] || { echo "quickstart: $1 needs a value" >&2; exit 2; }
      case $1 in
        --data) data=$2 ;;
        --base-port) base_port=$2 ;;
        --key-type) key_type=$2 ;;
      esac
      shift ;;
    --data=*) data=${1#*=} ;;
    --base-port=*) base_port=${1#*=} ;;
    --key-type=*) key_type=${1#*=} ;;
    -h|--help) usage 0 ;;
    *) echo "quickstart: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [ -n "$base_port" ] && ! [[ $base_port =~ ^[0-9]+$ ]]; then
  echo "quickstart: --base-port wants a number, not '$base_port'" >&2; exit 2
fi
case $key_type in p256|rsa2048|rsa3072) ;; *) echo "quickstart: --key-type is p256, rsa2048 or rsa3072" >&2; exit 2 ;; esac

# Paths: a relative --data or CONGVAN_BIN_DIR is relative to where the script
# was started; everything runs from the repository root, and paths under it
# are printed relative to it so that the commands shown can be pasted there.
shorten() {
  local p
  p=$(realpath -m -- "$1")
  if [ "$p" = "$root" ]; then echo .; elif [[ $p == "$root"/* ]]; then echo "${p#"$root"/}"; else echo "$p"; fi
}
absolute() { case $1 in /*) echo "$1" ;; *) echo "$invoked_from/$1" ;; esac; }
if [ -n "$data" ]; then data=$(shorten "$(absolute "$data")"); else data=quickstart-data; fi
if [ -n "${CONGVAN_BIN_DIR:-}" ]; then bin=$(shorten "$(absolute "$CONGVAN_BIN_DIR")"); else bin=build/bin; fi
congvan=$bin/congvan
cd "$root"
CONGVAND=$(realpath -m -- "$bin/congvand")
export CONGVAND  # deploy/local-cluster.sh starts this daemon
timeout=${QUICKSTART_TIMEOUT:-60}

# ------------------------------------------------------------------ output

if [ -t 1 ]; then bold=$'\e[1m'; red=$'\e[31m'; plain=$'\e[0m'; else bold=""; red=""; plain=""; fi
exec 3>&1  # the terminal, also from inside $( ... )

step_name="getting ready"
step() { step_name=$1; printf '\n%s== %s%s\n' "$bold" "$1" "$plain" >&3; }
say() { printf '%s\n' "$@" >&3; }
# A command as you would type it: words that need it in single quotes.
quoted() {
  local out="" a
  for a in "$@"; do
    if [[ $a =~ ^[-A-Za-z0-9_./:=,@%+]+$ ]]; then out+=" $a"; else out+=" '${a//\'/\'\\\'\'}'"; fi
  done
  printf '%s' "${out# }"
}
show() { printf '  $ %s\n' "$(quoted "$@")" >&3; }
indent() { sed 's/^/    /' >&3; }
fail() {
  printf '\n%squickstart: FAILED at "%s": %s%s\n' "$red" "$step_name" "$*" "$plain" >&2
  exit 1
}
# Runs a command, shows it and its output (indented); fails the step if it fails.
run() {
  show "$@"
  local rc=0
  "$@" 2>&1 | indent || rc=$?
  [ $rc -eq 0 ] || fail "$(quoted "$@") exited with $rc"
}
# CONGVAN_PROFILE of a person of the sample topology.
profile() { echo "$data/people/$1/profile.toml"; }
# As `run`, as person $1 (their profile in CONGVAN_PROFILE): congvan ARGS.
run_as() {
  local who=$1; shift
  show "CONGVAN_PROFILE=$(profile "$who")" "$congvan" "$@"
  local rc=0
  CONGVAN_PROFILE=$(profile "$who") "$congvan" "$@" 2>&1 | indent || rc=$?
  [ $rc -eq 0 ] || fail "congvan $1 as $who exited with $rc"
}
# congvan ARGS --json as person $1, shown first, its JSON on stdout; fails
# the step (with the command's output) if it fails.
json_as() {
  local who=$1; shift
  show "CONGVAN_PROFILE=$(profile "$who")" "$congvan" "$@" --json
  local out rc=0
  out=$(CONGVAN_PROFILE=$(profile "$who") "$congvan" "$@" --json 2>&1) || rc=$?
  if [ $rc -ne 0 ]; then
    printf '%s\n' "$out" | indent
    fail "congvan $1 as $who exited with $rc"
  fi
  printf '%s\n' "$out"
}
# congvan ARGS --json as person $1, quietly, for polling: its JSON in $polled;
# on failure returns 1 with the output kept in $poll_error.
polled=""
poll_error=""
poll_as() {
  local who=$1; shift
  if polled=$(CONGVAN_PROFILE=$(profile "$who") "$congvan" "$@" --json 2>&1); then return 0; fi
  poll_error="congvan $* --json (as $who): $polled"
  polled=""
  return 1
}
# Polls `condition` (a function) every 0.5 s until it holds, at most $timeout
# s; then shows where things stand with `explain ARGS...`, if given, and fails.
wait_until() {
  local what=$1 condition=$2 deadline=$((SECONDS + timeout))
  shift 2
  poll_error=""
  until "$condition"; do
    if [ $SECONDS -ge $deadline ]; then
      [ -z "$poll_error" ] || printf '%s\n' "last answer: $poll_error" | indent
      if [ $# -gt 0 ]; then say "  Where it stands:"; ( "$@" ) || true; fi
      fail "no $what after ${timeout} s"
    fi
    sleep 0.5
  done
}

cluster_up=0
scratch=""
stop_nodes() {
  step "Stopping the nodes (--stop)"
  show deploy/local-cluster.sh stop "$data"
  deploy/local-cluster.sh stop "$data" 2>&1 | indent || true
  cluster_up=0
}
on_exit() {
  local rc=$?
  [ -n "$scratch" ] && rm -rf "$scratch"
  if [ $rc -ne 0 ]; then
    if [ $cluster_up -eq 1 ]; then
      say "" "The nodes' logs are in $data/logs/ (one file per agency)."
    fi
  fi
  if [ $stop_at_end -eq 1 ] && [ $cluster_up -eq 1 ]; then
    stop_nodes
  elif [ $rc -ne 0 ] && [ $cluster_up -eq 1 ]; then
    say "The nodes are still running; stop them with: deploy/local-cluster.sh stop $data"
  fi
}
trap on_exit EXIT

say "${bold}congvan quickstart${plain}: one official document (công văn), from the leader's signature to the auditor's proof."
say "Repository: $root" "Data:       $data" "Binaries:   $bin"

# ------------------------------------------------------------ 1. packages

step "1. Dependencies (the Debian packages the build and the demo need)"
if [ $install -eq 1 ]; then
  show bash deploy/install-deps.sh
  rc=0
  bash deploy/install-deps.sh 2>&1 | indent || rc=$?
  if [ $rc -ne 0 ]; then
    [ "$(id -u)" -eq 0 ] || fail "install-deps.sh needs root to install packages: run as root, or pass --no-install if they are installed"
    fail "deploy/install-deps.sh exited with $rc"
  fi
else
  say "  skipped (--no-install)"
fi
for tool in jq openssl unzip; do
  command -v "$tool" >/dev/null || fail "$tool is missing (deploy/install-deps.sh installs it)"
done

# --------------------------------------------------------------- 2. build

step "2. Build (Release, into build/)"
# As `run`, for the long, chatty build: the whole output goes to $1 (shown
# in part, and its end if the command fails); only lines matching $2 show.
run_logged() {
  local log=$1 keep=$2; shift 2
  show "$@"
  say "    (full output: $log)"
  local rc=0
  "$@" >"$log" 2>&1 || rc=$?
  grep -E -- "$keep" "$log" | indent || true
  if [ $rc -ne 0 ]; then
    say "    ... the last lines of $log:"
    tail -n 40 "$log" | indent
    fail "$(quoted "$@") exited with $rc"
  fi
}
if [ $build -eq 1 ]; then
  mkdir -p build
  run_logged build/quickstart-configure.log '^-- (Build files|Configuring done)|Error' \
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
  say "  Building everything (the node, the CLI and the tests) takes a while on a small machine;" \
      "  the next run only rebuilds what changed."
  run_logged build/quickstart-build.log '^\[ *[0-9]+%\] Built target|error:' \
    cmake --build build -j"$(nproc)"
else
  say "  skipped (--no-build)"
fi
[ -x "$congvan" ] || fail "$congvan not found: build first (drop --no-build) or set CONGVAN_BIN_DIR"
[ -x "$CONGVAND" ] || fail "$bin/congvand not found: build first (drop --no-build) or set CONGVAN_BIN_DIR"
say "  using $congvan and $bin/congvand"

# ----------------------------------------------------------------- 3. PKI

step "3. A dev PKI for the sample topology (chứng thư số: certificates, seals, tokens)"
if [ -f "$data/ca/root.pem" ] && [ -d "$data/nodes" ]; then
  say "  $data already holds a dev PKI: reusing it, its nodes and their databases."
  [ -z "$base_port" ] || say "  (--base-port $base_port is ignored: the ports were chosen when $data was created)"
  say "  To start from scratch: deploy/local-cluster.sh stop $data && rm -rf $data"
elif [ -e "$data" ] && [ -n "$(ls -A "$data" 2>/dev/null)" ]; then
  fail "$data exists but holds no complete dev PKI (no ca/root.pem): remove it, or choose another --data"
else
  args=(pki init --topology deploy/topologies/sample.toml --out "$data" --key-type "$key_type")
  [ -z "$base_port" ] || args+=(--base-port "$base_port")
  run "$congvan" "${args[@]}"
  say "  A development root and issuing CA stand in for the Government CA (Ban Cơ yếu Chính phủ)."
  say "  Every agency got a seal certificate (con dấu số) and a TLS certificate for its node;"
  say "  every person a signing and a TLS certificate. leader-h49 and leader-honggai keep their"
  say "  signing keys on SoftHSM2 tokens, standing in for the USB tokens leaders use."
fi

# ---------------------------------------------------------------- 4. nodes

step "4. Every node of the topology, on 127.0.0.1"
cluster_up=1
show deploy/local-cluster.sh start "$data"
rc=0
# (3>&-: the nodes must not hold this script's output open after it ends)
deploy/local-cluster.sh start "$data" 3>&- 2>&1 | indent || rc=$?
[ $rc -eq 0 ] || fail "deploy/local-cluster.sh start $data exited with $rc (see $data/logs/)"
say "  The hierarchy (each node only talks to its parent and its children):" \
    "    000.00.00.A00  Trục liên thông văn bản quốc gia (the national axis, the root; runs the time-stamping authority)" \
    "    ├── 000.00.00.G12  Bộ Nội vụ" \
    "    ├── 000.00.00.H29  UBND thành phố Hà Nội ── 000.01.05.H29 phường Hoàn Kiếm, 000.02.05.H29 phường Cửa Nam" \
    "    └── 000.00.00.H49  UBND tỉnh Quảng Ninh" \
    "        ├── 000.00.01.H49  UBND thành phố Hạ Long ── 000.01.01.H49 phường Hồng Gai, 000.02.01.H49 phường Bãi Cháy" \
    "        └── 000.00.02.H49  UBND huyện Vân Đồn ── 000.01.02.H49 xã Quan Lạn, 000.02.02.H49 xã Minh Châu"

# --------------------------------------------------------------- the story

n=1
while [ -e "$data/story/$n" ]; do n=$((n + 1)); done
story=$data/story/$n
mkdir -p "$story"
doc=$story/bao-cao.txt
now=$(TZ=Asia/Ho_Chi_Minh date '+%d/%m/%Y %H:%M:%S')
read -r day month year < <(TZ=Asia/Ho_Chi_Minh date '+%d %m %Y')
cat >"$doc" <<EOF
UBND PHƯỜNG HỒNG GAI                    CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
                                          Độc lập - Tự do - Hạnh phúc

Số:    /BC-UBND                          Hồng Gai, ngày $day tháng $month năm $year

                                 BÁO CÁO
             Tình hình kinh tế - xã hội tháng $month năm $year

Kính gửi: - UBND tỉnh Quảng Ninh;
          - UBND phường Hoàn Kiếm, thành phố Hà Nội.

UBND phường Hồng Gai báo cáo tình hình kinh tế - xã hội trên địa bàn phường
trong tháng $month năm $year như sau: ...

(Văn bản thử nghiệm số $n của deploy/quickstart.sh, tạo lúc $now.)

                                          TM. ỦY BAN NHÂN DÂN
                                          CHỦ TỊCH

                                          Lý Văn Phúc
EOF
subject="Báo cáo tình hình kinh tế - xã hội tháng $month năm $year (quickstart $n)"
province=000.00.00.H49
ward=000.01.05.H29
say "" "The story of document $n: $doc, a report (báo cáo) of UBND phường Hồng Gai (000.01.01.H49)" \
    "to UBND tỉnh Quảng Ninh ($province) and to UBND phường Hoàn Kiếm of Hà Nội ($ward)."

# ------------------------------------------------------------ a. the leader

step "a. The leader signs (lãnh đạo ký số) — leader-honggai, Lý Văn Phúc, Chủ tịch, on his token"
P=$data/people
show "$congvan" sign --cert "$P/leader-honggai/sign.pem" --token-config "$P/leader-honggai/token.toml" \
  --in "$doc" --out "$doc.p7s" --json
signed=$("$congvan" sign --cert "$P/leader-honggai/sign.pem" --token-config "$P/leader-honggai/token.toml" \
  --in "$doc" --out "$doc.p7s" --json 2>&1) || { printf '%s\n' "$signed" | indent; fail "congvan sign exited non-zero"; }
printf '%s\n' "$signed" >"$story/sign.json"
[ -s "$doc.p7s" ] || fail "no signature at $doc.p7s"
say "  $(jq -r '"\(.signer) (\(.person_login), \(.agency_id)) signed it at \(.signing_time) with \(.key)."' <<<"$signed")" \
    "  The key never left the token (SoftHSM2 here; a USB token in real life); the PIN came from token.pin." \
    "  The signature (chữ ký số) is a detached CMS, CAdES-BES, in $doc.p7s — openssl checks it too:" \
    "    openssl cms -verify -binary -inform DER -content $doc -in $doc.p7s -CAfile $data/ca/root.pem -out /dev/null"

# ------------------------------------------------------------- b. the clerk

step "b. The commune's clerk sends it (văn thư gửi văn bản đi) — clerk-honggai, Trịnh Thị Thu"
sent=$(json_as clerk-honggai send --to "$province,$ward" --subject "$subject" --type "Báo cáo" \
  --notation BC-UBND --file "$doc" --leader-sig "$doc.p7s")
printf '%s\n' "$sent" >"$story/send.json"
msg=$(jq -r '.message_id // empty' <<<"$sent")
[ -n "$msg" ] || fail "congvan send printed no message id: $sent"
number=$(jq -r '"\(.number)/\(.year), \(.notation)"' <<<"$sent")
say "  message id: $msg" \
    "  number:     $number (số, ký hiệu: the next number of the commune's outgoing register, sổ văn bản đi)" \
    "  The node of phường Hồng Gai checked the leader's signature and that he may sign for the commune," \
    "  registered the document, sealed its header with the commune's seal and queued ONE copy for its" \
    "  parent, Hạ Long: both recipients are reached through it. Quảng Ninh files its copy and relays" \
    "  the document on, through the national axis and Hà Nội, to Hoàn Kiếm; every relay seals its hop."

# ----------------------------------------------------------- c. receipts

step "c. The signed receipts come back (01 arrived: đã đến)"
tracked=""
every_01() {
  poll_as clerk-honggai track "$msg" || return 1
  tracked=$polled
  local failed
  failed=$(jq -r '.recipients[] | select(.state == "failed") | "\(.agency): \(.failure)"' <<<"$tracked")
  [ -z "$failed" ] || fail "a delivery failed: $failed"
  jq -e '(.recipients | length) == 2 and all(.recipients[]; any(.answers[]; .code == "01"))' <<<"$tracked" >/dev/null
}
say "  (waiting until every recipient's receipt is back: congvan track $msg --json, every 0.5 s)"
wait_until "01 receipt from every recipient" every_01 run_as clerk-honggai track "$msg"
run_as clerk-honggai track "$msg"
printf '%s\n' "$tracked" >"$story/track-01.json"
say "  Each row is an answer signed with the recipient's seal; the path is the one its receipt names."

# ------------------------------------------------------- d. the province

step "d. The province's clerk receives and accepts it — clerk-h49, Bùi Thị Ngọc Ánh, UBND tỉnh Quảng Ninh"
in_inbox() { poll_as clerk-h49 inbox && jq -e --arg m "$msg" 'any(.[]; .message_id == $m)' <<<"$polled" >/dev/null; }
wait_until "document $msg in the inbox of $province" in_inbox run_as clerk-h49 inbox
run_as clerk-h49 inbox
received=$story/received-h49
fetched=$(json_as clerk-h49 fetch "$msg" --out "$received")
printf '%s\n' "$fetched" >"$story/fetch.json"
say "  $(jq -r '"\(.number)/\(.year) \(.notation) from \(.from_name) (\(.from)): \(.subject)"' <<<"$fetched")"
jq -r '.parts[] | "  part \(.name): \(.size) bytes, SHA-256 as in the sealed header -> \(.path)"' <<<"$fetched" >&3
cmp -s "$doc" "$received/bao-cao.txt" || fail "the fetched $received/bao-cao.txt differs from the sent $doc"
say "  Also written: header.pb (the sealed header), seal.p7s (the commune's seal), leader-1.p7s (the leader's signature)."
status=$(json_as clerk-h49 set-status "$msg" --code 03)
printf '%s\n' "$status" >"$story/set-status.json"
say "  $(jq -r '"status \(.code) (accepted: đã tiếp nhận), sealed by \(.agency) at \(.time), on its way back to the sender"' <<<"$status")"
has_03() {
  poll_as clerk-honggai track "$msg" || return 1
  tracked=$polled
  jq -e --arg p "$province" 'any(.recipients[]; .agency == $p and any(.answers[]; .code == "03"))' <<<"$tracked" >/dev/null
}
wait_until "03 from $province in the sender's track" has_03 run_as clerk-honggai track "$msg"
say "  The sender sees it:"
run_as clerk-honggai track "$msg"
printf '%s\n' "$tracked" >"$story/track.json"

# ------------------------------------------------------- e. the auditor

step "e. An auditor proves it, offline (thanh tra) — auditor-honggai, Hà Minh Tuấn"
answers=$(jq '[.recipients[].answers[]] | length' <<<"$tracked")
say "  Every event (issued, forwarded, each answer) goes into the node's tamper-evident log; every second" \
    "  the node seals a tree head and the root's time-stamping authority stamps it (RFC 3161)." \
    "  (waiting until congvan audit prove $msg shows the $answers answers under a timestamped head)"
logged() {
  poll_as auditor-honggai audit prove "$msg" || return 1
  jq -e --argjson n "$answers" '([.events[] | select(.kind == "answer")] | length) >= $n and .head.timestamp != null' \
    <<<"$polled" >/dev/null
}
wait_until "timestamped tree head over every event of $msg" logged run_as auditor-honggai audit prove "$msg"
evidence=$data/evidence-$msg.zip
exported=""
stamped() {
  poll_as auditor-honggai export "$msg" --out "$evidence" || return 1
  exported=$polled
  jq -e '.timestamp == true' <<<"$exported" >/dev/null
}
wait_until "export of $msg with a timestamp" stamped
printf '%s\n' "$exported" >"$story/export.json"
run_as auditor-honggai export "$msg" --out "$evidence"
say "" "  Anyone can check it offline, with nothing but the root certificate:"
run "$congvan" verify "$evidence" --trust "$data/ca/root.pem"
scratch=$(mktemp -d)
say "" "  And with standard tools: unzip it, then check the province's signed receipt with openssl:"
run unzip -q "$evidence" -d "$scratch"
receipt=$(cd "$scratch" && ls answers/ | grep -E -- "-$province-01\.p7s\$" | head -n 1 || true)
[ -n "$receipt" ] || fail "no receipt of $province in $evidence"
run openssl cms -verify -binary -inform DER -CAfile "$data/ca/root.pem" \
  -in "$scratch/answers/$receipt" -content "$scratch/answers/${receipt%.p7s}.pb" -out /dev/null
say "  README.txt in the container says how to check every other piece (the seal, the leader's" \
    "  signature, the timestamp with openssl ts, the log proofs). ($scratch is removed at the end.)"

# ------------------------------------------------------------------- done

rm -rf "$scratch"
scratch=""
[ $stop_at_end -eq 0 ] || stop_nodes
step "Done"
say "  document:   $doc" \
    "  signature:  $doc.p7s" \
    "  message id: $msg" \
    "  number:     $number" \
    "  evidence:   $evidence" \
    "  outputs:    $story/ (what each command returned, as JSON)"
if [ $stop_at_end -eq 1 ]; then
  say "  The nodes are stopped now (--stop). Run this script again to start them and send another document."
else
  say "  The 12 nodes keep running. Repeat any command above by hand from $root; run this script" \
      "  again to send another document; see them with  deploy/local-cluster.sh status $data" \
      "  and stop them with  deploy/local-cluster.sh stop $data   (logs: $data/logs/)"
fi
