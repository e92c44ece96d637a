#!/usr/bin/env bash
# Installs the Debian 12 packages distillguard needs, only those that are missing.
# Usage: scripts/deps.sh [--with-bench]   (idempotent; needs root or sudo for apt-get)
set -euo pipefail

PKGS=(
  cmake ninja-build g++ pkg-config make
  libsimdjson-dev libhyperscan-dev libcli11-dev libfmt-dev libxxhash-dev libzstd-dev zlib1g-dev
  libsqlite3-dev libtomlplusplus-dev libhiredis-dev libboost1.81-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-14 libclang-rt-14-dev
  zstd gzip
)
if [[ "${1:-}" == "--with-bench" ]]; then
  PKGS+=(nodejs npm)
fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi
echo "deps: installing ${missing[*]}" >&2
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
