#!/usr/bin/env bash
# make bench-evict (not a test): memory follows active accounts, not accounts ever seen.
#
# Two churning populations (bench/churn_traffic.py) with the same number of accounts active per
# day, one with EVICT_ACCOUNTS accounts over EVICT_DAYS days and one with 4x the accounts over 4x
# the days, each scanned with and without `--evict-idle` (accounts idle EVICT_IDLE seconds of
# event time leave memory for a SQLite store). `scan --memory-stats` prints the process's RSS once
# every event is processed, before the report (which restores every account to build it).
# The table gives the RSS, the accounts resident at that point, and ratios: with eviction the
# larger population should cost about what the smaller one does, without it about 4x. The
# reports with and without eviction are compared byte for byte.
# Usage: bench/evict_memory.sh path/to/distillguard
set -euo pipefail
BIN=$(realpath "$1")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${EVICT_ACCOUNTS:-25000}
DAYS=${EVICT_DAYS:-10}
IDLE=${EVICT_IDLE:-3600}
T=$(mktemp -d /tmp/dg-bench-evict.XXXXXX)
trap 'rm -rf "$T"' EXIT
printf '| accounts seen | days | eviction | RSS MiB (events processed) | accounts resident | scan wall s |\n'
printf '|---:|---:|---|---:|---:|---:|\n'
declare -A RSS
for mult in 1 4; do
  n=$((N * mult)); d=$((DAYS * mult))
  python3 "$ROOT/bench/churn_traffic.py" "$T/events-$mult.jsonl" "$n" "$d" 10 "$mult"
  for mode in off on; do
    extra=()
    [[ $mode == on ]] && extra=(--evict-idle "$IDLE" --evict-dir "$T/evict-$mult")
    start=$(date +%s.%N)
    "$BIN" scan "$T/events-$mult.jsonl" --threads 1 -q --memory-stats --generated-at 2025-01-01T00:00:00Z \
      --report "$T/report-$mult-$mode.json" "${extra[@]}" 2>"$T/log-$mult-$mode"
    wall=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
    line=$(grep '^memory:' "$T/log-$mult-$mode")
    rss=$(sed -E 's/.*rss_kb=([0-9]+).*/\1/' <<<"$line")
    res=$(sed -E 's/.*resident_accounts=([0-9]+).*/\1/' <<<"$line")
    RSS[$mult-$mode]=$rss
    printf '| %d | %d | %s | %.1f | %d | %.1f |\n' "$n" "$d" "$mode" "$(awk -v r="$rss" 'BEGIN { print r / 1024 }')" "$res" "$wall"
  done
  cmp -s "$T/report-$mult-off.json" "$T/report-$mult-on.json" \
    && echo "  reports with and without eviction: identical ($n accounts)" >&2 \
    || { echo "  REPORTS DIFFER with and without eviction ($n accounts)" >&2; exit 1; }
done
r() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo
echo "RSS, 4x the accounts / 1x: without eviction $(r "${RSS[4-off]}" "${RSS[1-off]}"), with eviction $(r "${RSS[4-on]}" "${RSS[1-on]}")"
echo "RSS with / without eviction: $(r "${RSS[1-on]}" "${RSS[1-off]}") at $N accounts, $(r "${RSS[4-on]}" "${RSS[4-off]}") at $((N * 4))"
