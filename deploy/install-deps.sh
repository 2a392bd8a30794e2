#!/usr/bin/env bash
# Installs every Debian 12 package that congvan's build, tests and demo need.
# Idempotent: packages already present are left alone, and apt-get update runs
# only when something is missing. Run as root.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake pkg-config git
  # RPC and serialisation
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc libabsl-dev
  # crypto and tokens
  libssl-dev openssl libbotan-2-dev libp11-kit-dev softhsm2 opensc
  # evidence containers (ASiC-E: ZIP and XML)
  libzip-dev libpugixml-dev
  # storage
  librocksdb-dev
  # config, CLI, logging, JSON, the metrics' HTTP server
  libtomlplusplus-dev libcli11-dev libspdlog-dev libfmt-dev nlohmann-json3-dev libcpp-httplib-dev
  # tests and demo
  libgtest-dev libgmock-dev jq curl procps unzip zip python3
  # the Python example of the gRPC API (examples/python/) and its test
  python3-grpcio python3-grpc-tools
  # the Debian package (cpack -G DEB: dpkg-shlibdeps, file), its postinst
  # (adduser) and its test (systemd-analyze, ss)
  dpkg-dev file adduser systemd iproute2
  # --- fuzzing (tests/fuzz/run.sh): clang, libFuzzer's runtime
  # (libclang_rt.fuzzer-x86_64.a) and llvm-symbolizer for ASan's stack traces
  clang libclang-rt-14-dev llvm
  # --- end fuzzing
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages (${missing[*]}); run this script as root" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
