#!/usr/bin/env bash
# `scan --evict-idle` on the standard scenario (a week, ~3.4k accounts; simulated with the shared
# prompt corpora when ../shared/data/corpora exists, else the built-in generator) gives the same
# report byte for byte as `scan` without eviction, while accounts really leave memory (the
# eviction line on stderr must show evictions and restores).
# Usage: tests/integration/scan_evict.sh path/to/distillguard
set -euo pipefail
BIN=$(realpath "$1")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d /tmp/dg-scan-evict.XXXXXX)
trap 'rm -rf "$T"' EXIT
GEN=2025-01-01T00:00:00Z
CORPORA=${DG_SHARED_DIR:-$ROOT/../shared}/data/corpora
corp=()
[[ -d "$CORPORA" ]] && corp=(--corpora "$CORPORA")
"$BIN" simulate --scenario "$ROOT/scenarios/standard.toml" --out "$T/sim" --seed 1 "${corp[@]}" >/dev/null 2>&1
"$BIN" scan "$T/sim/events.jsonl" --accounts "$T/sim/accounts.jsonl" --threads 2 -q \
  --generated-at "$GEN" --report "$T/plain.json" 2>/dev/null
"$BIN" scan "$T/sim/events.jsonl" --accounts "$T/sim/accounts.jsonl" --threads 2 \
  --generated-at "$GEN" --report "$T/evict.json" --evict-idle 3600 --evict-dir "$T/evict" \
  >/dev/null 2>"$T/evict.log"
line=$(grep '^eviction:' "$T/evict.log") || { echo "FAIL: no eviction line"; cat "$T/evict.log"; exit 1; }
echo "$(wc -l <"$T/sim/events.jsonl") events; $line"
read -r evictions restores <<<"$(sed -E 's/eviction: ([0-9]+) evictions, ([0-9]+) restores.*/\1 \2/' <<<"$line")"
((evictions > 1000 && restores > 100)) || { echo "FAIL: too little eviction to test ($line)"; exit 1; }
if ! cmp -s "$T/plain.json" "$T/evict.json"; then
  echo "FAIL: the report differs with eviction"
  diff <(tr ',' '\n' <"$T/plain.json") <(tr ',' '\n' <"$T/evict.json") | head -20
  exit 1
fi
echo "scan_evict: PASS (report identical with eviction)"
