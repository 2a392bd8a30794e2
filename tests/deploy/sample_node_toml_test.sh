#!/usr/bin/env bash
# The packaged sample configuration, deploy/systemd/node.toml, is a working
# node.toml: with an agency's files from a dev PKI laid out as its comments
# say (next to it, in /etc/congvan/<ID>/), `congvand --check-config` finds no
# problem. Only its two absolute paths (data_dir, the CRL) are moved into a
# temporary directory. Runs without root.
#
#   tests/deploy/sample_node_toml_test.sh BUILD_DIR
set -euo pipefail

build=${1:?usage: $0 BUILD_DIR}
build=$(cd "$build" && pwd)
source_dir=$(cd "$(dirname "$0")/../.." && pwd)
sample=$source_dir/deploy/systemd/node.toml
agency=000.00.00.H49   # the sample's agency

fail() { echo "FAIL: $*" >&2; exit 1; }
for b in congvan congvand; do [ -x "$build/bin/$b" ] || fail "$build/bin/$b is not built"; done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$build/bin/congvan" pki init --topology "$source_dir/deploy/topologies/sample.toml" \
  --out "$tmp/pki" --key-type p256 >/dev/null

etc=$tmp/etc/congvan/$agency
mkdir -p "$etc" "$tmp/var/lib/congvan" "$tmp/crl"
cp "$tmp/pki/agencies/$agency/"{seal.pem,seal.key,tls.pem,tls.key} "$etc/"
cp "$tmp/pki/ca/root.pem" "$etc/gov-root-ca.pem"
cp "$tmp/pki/topology.toml" "$etc/topology.toml"
cp "$tmp/pki/ca/crl.pem" "$tmp/crl/gov-ca.crl"
chmod 600 "$etc"/*.key
grep -q "^data_dir = \"/var/lib/congvan/$agency\"" "$sample" ||
  fail "the sample's data_dir is not /var/lib/congvan/$agency"
sed -e "s#^data_dir = \"/var/lib/congvan/#data_dir = \"$tmp/var/lib/congvan/#" \
    -e "s#\"/var/lib/congvan-crl/gov-ca.crl\"#\"$tmp/crl/gov-ca.crl\"#" \
    "$sample" >"$etc/node.toml"

echo "check: congvand --check-config on $sample with $agency's files from a dev PKI"
if ! out=$("$build/bin/congvand" --config "$etc/node.toml" --check-config 2>&1); then
  echo "$out" >&2
  fail "the sample node.toml has problems"
fi
echo "  ok: $out"
