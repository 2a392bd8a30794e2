#!/usr/bin/env bash
# tests/fuzz/make_seeds.sh [BIN_DIR] — regenerates the fuzz targets' seed
# corpus (tests/fuzz/corpus/) and the trust it verifies against
# (tests/fuzz/pki/) from real nodes. BIN_DIR holds congvan, congvand and
# fuzz_seed_maker (default: build/bin; build them first).
#
# On the sample topology (a dev PKI from `congvan pki init --key-type p256`),
# with four real congvand on 127.0.0.1 — phường Hồng Gai, Hạ Long, Quảng
# Ninh and the national axis (the time-stamping authority) — it plays one
# document's story: the leader signs on his token, Hồng Gai's clerk sends the
# document to Hạ Long and to the axis (relayed by Hạ Long and Quảng Ninh),
# both receipts come back, Hạ Long rejects it (02), the axis accepts (03),
# Hồng Gai asks for a recall (13) and the axis agrees (15). The axis's and
# Hồng Gai's auditors export the evidence. fuzz_seed_maker turns the two
# containers into the seeds of envelope_fuzz, answer_fuzz, cms_fuzz and
# treehead_fuzz; the containers are evidence_fuzz's; the node.toml files, a
# profile and the topology pki init wrote are config_fuzz's; openssl adds a
# few CMS shapes congvan never makes.
#
# Only public files of the PKI are kept (pki/root.pem, pki/crl.pem) and the
# time the seeds were made (pki/verify-at.txt), which the targets verify at.
# The old corpus is replaced; regressions/ is left alone.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=$(realpath "${1:-$root/build/bin}")
for b in congvan congvand fuzz_seed_maker; do
  [ -x "$bin/$b" ] || { echo "make_seeds: $bin/$b is missing (build it)" >&2; exit 1; }
done
command -v jq >/dev/null && command -v unzip >/dev/null && command -v openssl >/dev/null ||
  { echo "make_seeds: needs jq, unzip and openssl" >&2; exit 1; }

# shellcheck source=../deploy/ports.sh
source "$root/tests/deploy/ports.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/congvan-seeds-XXXXXX")
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

hong_gai=000.01.01.H49
ha_long=000.00.01.H49
quang_ninh=000.00.00.H49
axis=000.00.00.A00
pki=$work/pki

say() { printf 'make_seeds: %s\n' "$*"; }
as() { local who=$1; shift; CONGVAN_PROFILE="$pki/people/$who/profile.toml" "$bin/congvan" "$@"; }
# Polls `condition ARGS` every 0.5 s for up to 90 s.
wait_for() {
  local what=$1; shift
  for _ in $(seq 1 180); do "$@" && return 0; sleep 0.5; done
  echo "make_seeds: no $what after 90 s; the nodes' logs end:" >&2
  tail -n 5 "$work"/logs/*.log >&2
  exit 1
}

base=$(free_base_port 48)
say "a dev PKI for deploy/topologies/sample.toml (ports from $base)"
"$bin/congvan" pki init --topology "$root/deploy/topologies/sample.toml" --out "$pki" --key-type p256 \
  --base-port "$base" >/dev/null

mkdir -p "$work/logs"
serving() { grep -q serving "$work/logs/$1.log" 2>/dev/null; }
for id in $axis $quang_ninh $ha_long $hong_gai; do
  "$bin/congvand" --config "$pki/nodes/$id/node.toml" >>"$work/logs/$id.log" 2>&1 &
  pids+=($!)
done
for id in $axis $quang_ninh $ha_long $hong_gai; do wait_for "node $id serving" serving "$id"; done
say "four nodes serve"

doc=$work/cong-van.txt
cat >"$doc" <<'EOF'
UBND PHƯỜNG HỒNG GAI          CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Số: /CV-UBND                  Độc lập - Tự do - Hạnh phúc

Kính gửi: UBND thành phố Hạ Long; Trục liên thông văn bản quốc gia.
V/v báo cáo số liệu (văn bản mẫu cho bộ dữ liệu fuzz).
EOF
printf 'chi_tieu,so_lieu\ndan_so,12345\n' >"$work/phu-luc.csv"
leader=$pki/people/leader-honggai
"$bin/congvan" sign --cert "$leader/sign.pem" --token-config "$leader/token.toml" --in "$doc" --out "$doc.p7s" >/dev/null
msg=$(as clerk-honggai send --to "$ha_long,$axis" --subject "Báo cáo số liệu" --type "Công văn" --notation CV-UBND \
  --file "$doc" --attach "$work/phu-luc.csv" --leader-sig "$doc.p7s" --json | jq -r .message_id)
say "sent $msg"

# Holds when Hồng Gai's track shows every (agency, code) pair given.
answered() {
  local tracked pair
  tracked=$(as clerk-honggai track "$msg" --json 2>/dev/null) || return 1
  for pair in "$@"; do
    jq -e --arg a "${pair%:*}" --arg c "${pair#*:}" \
      'any(.recipients[]; .agency == $a and any(.answers[]; .code == $c))' <<<"$tracked" >/dev/null || return 1
  done
}
wait_for "receipts" answered "$ha_long:01" "$axis:01"
as clerk-halong set-status "$msg" --code 02 --reason "Không thuộc thẩm quyền" >/dev/null
as clerk-a00 set-status "$msg" --code 03 >/dev/null
wait_for "statuses 02 and 03" answered "$ha_long:02" "$axis:03"
as clerk-honggai recall "$msg" --reason "Sai số liệu" >/dev/null
in_inbox_recalled() { as clerk-a00 set-status "$msg" --code 15 >/dev/null 2>&1; }
wait_for "the axis accepting the recall" in_inbox_recalled
wait_for "status 15" answered "$axis:15"
say "answered: 01 01 02 03 13 15"

# Exports until the container has a timestamped tree head over `answers`
# answers at least.
export_evidence() {
  local who=$1 out=$2 answers=$3 listing
  rm -f "$out"
  as "$who" export "$msg" --out "$out" >/dev/null 2>&1 || return 1
  listing=$(unzip -Z1 "$out")
  grep -qx 'log/tree-head.tst' <<<"$listing" || return 1
  [ "$(grep -c '^answers/.*\.p7s$' <<<"$listing")" -ge "$answers" ]
}
wait_for "the axis's evidence" export_evidence auditor-a00 "$work/axis.zip" 4
wait_for "Hồng Gai's evidence" export_evidence auditor-honggai "$work/honggai.zip" 5
for zip in axis honggai; do
  "$bin/congvan" verify "$work/$zip.zip" --trust "$pki/ca/root.pem" >/dev/null ||
    { echo "make_seeds: $zip.zip does not verify" >&2; exit 1; }
done
say "exported and verified the evidence of the axis and of Hồng Gai"

# Everything is signed by now; the CRLs are good for 30 days from pki init.
date -u +%Y-%m-%dT%H:%M:%SZ -d '+1 minute' >"$work/verify-at.txt"

out=$work/corpus
"$bin/fuzz_seed_maker" "$pki" "$work/axis.zip" "$work/honggai.zip" "$out" >/dev/null
mkdir -p "$out/evidence_fuzz" "$out/config_fuzz"
cp "$work/axis.zip" "$out/evidence_fuzz/axis.zip"
cp "$work/honggai.zip" "$out/evidence_fuzz/honggai.zip"
cp "$pki/nodes/$ha_long/node.toml" "$out/config_fuzz/node-halong.toml"
cp "$pki/nodes/$axis/node.toml" "$out/config_fuzz/node-axis.toml"
cp "$pki/people/clerk-halong/profile.toml" "$out/config_fuzz/profile-clerk-halong.toml"
cp "$pki/topology.toml" "$out/config_fuzz/topology.toml"

# CMS that congvan does not make but meets: content embedded (not
# detached), an RSA key, no signed attributes. Their signers are not
# trusted; the structures are what matters.
(
  cd "$work"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout rsa.key -out rsa.pem -days 3650 -subj "/CN=fuzz RSA" 2>/dev/null
  openssl cms -sign -binary -nodetach -in phu-luc.csv -signer rsa.pem -inkey rsa.key -outform DER -out attached.der
  openssl cms -sign -binary -in phu-luc.csv -signer rsa.pem -inkey rsa.key -outform DER -out rsa.der
  openssl cms -sign -binary -noattr -in phu-luc.csv -signer rsa.pem -inkey rsa.key -outform DER -out noattr.der
)
frame() {  # frame CONTENT_FILE DER_FILE OUT: cms_fuzz's 2-byte length, content, DER
  local n
  n=$(stat -c %s "$1")
  printf "\\x$(printf %02x $((n & 255)))\\x$(printf %02x $((n >> 8)))" | cat - "$1" "$2" >"$3"
}
frame "$work/phu-luc.csv" "$work/attached.der" "$out/cms_fuzz/openssl-attached-rsa.bin"
frame "$work/phu-luc.csv" "$work/rsa.der" "$out/cms_fuzz/openssl-detached-rsa.bin"
frame "$work/phu-luc.csv" "$work/noattr.der" "$out/cms_fuzz/openssl-no-signed-attributes.bin"

mkdir -p "$here/pki"
cp "$pki/ca/root.pem" "$here/pki/root.pem"
cp "$pki/ca/crl.pem" "$here/pki/crl.pem"
cp "$work/verify-at.txt" "$here/pki/verify-at.txt"
rm -rf "$here/corpus"
cp -r "$out" "$here/corpus"
say "wrote $(find "$here/corpus" -type f | wc -l) seeds ($(du -sh "$here/corpus" | cut -f1)) to $here/corpus; verify at $(cat "$here/pki/verify-at.txt")"
