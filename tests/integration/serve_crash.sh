#!/usr/bin/env bash
# Crash test for `distillguard serve`: posts a simulated stream in batches while the service is
# killed with SIGKILL at random moments (several times), restarting it each time; every batch is
# resent until acknowledged (with its x-dg-batch-id, so a batch whose answer was lost is not
# logged twice). At the end GET /v1/report?final=1 must equal `distillguard scan` of the same
# events byte for byte (generated_at pinned).
# Then the same with idle-account eviction on (--evict-idle): besides the random kills, some
# starts arm the failpoint DG_FAILPOINT_KILL_AFTER_EVICT_WRITES=N, so the service kills itself
# with SIGKILL after writing its N-th evicted account, inside the eviction transaction; it is
# restarted like after any kill, and the report must still equal scan's.
# Usage: tests/integration/serve_crash.sh path/to/distillguard [kills]
set -euo pipefail
BIN=$(realpath "$1")
KILLS=${2:-5}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d /tmp/dg-crash.XXXXXX)
PID=""
cleanup() {
  if [[ -n "$PID" ]]; then kill -9 "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$T"
}
trap cleanup EXIT
TOKEN=crash-test-token
GEN=2025-01-01T00:00:00Z

"$BIN" simulate --scenario "$ROOT/scenarios/tiny.toml" --out "$T/sim" --seed 3 >/dev/null 2>&1
"$BIN" scan "$T/sim/events.jsonl" --accounts "$T/sim/accounts.jsonl" --report "$T/scan.json" \
  --generated-at "$GEN" -q 2>/dev/null
mkdir -p "$T/chunks"
split -l 150 -d -a 5 "$T/sim/events.jsonl" "$T/chunks/c"
CHUNKS=("$T"/chunks/c*)
echo "crash: ${#CHUNKS[@]} batches, $(wc -l <"$T/sim/events.jsonl") events, $KILLS kills"

EVICT=()       # extra serve flags of the current pass
FAILPOINT=""   # DG_FAILPOINT_KILL_AFTER_EVICT_WRITES for the next start ("" = none)
start() {
  while :; do
    rm -f "$T/port"
    DG_FAILPOINT_KILL_AFTER_EVICT_WRITES="$FAILPOINT" \
    "$BIN" serve --listen 127.0.0.1:0 --port-file "$T/port" --data-dir "$T/data" \
      --admin-token "$TOKEN" --accounts "$T/sim/accounts.jsonl" --generated-at "$GEN" \
      --snapshot-interval 0.3 "${EVICT[@]}" >>"$T/serve.log" 2>&1 &
    PID=$!
    for _ in $(seq 1 300); do
      [[ -s "$T/port" ]] && { PORT=$(cat "$T/port"); return; }
      kill -0 "$PID" 2>/dev/null || break
      sleep 0.02
    done
    wait "$PID" 2>/dev/null || true
    # Killed by the failpoint while replaying the log at start: that is a crash too; go on.
    if [[ -n "$FAILPOINT" ]]; then self_kills=$((self_kills + 1)); FAILPOINT=""; continue; fi
    echo "serve died at start"; cat "$T/serve.log"; exit 1
  done
}

run_pass() {  # $1: name of the pass
rm -rf "$T/data"
: >"$T/serve.log"
kills=0
self_kills=0
start
next_kill=$((RANDOM % 8 + 2))
i=0
while ((i < ${#CHUNKS[@]})); do
  if ((kills < KILLS && i == next_kill)); then
    # Kill while a batch is in flight, after a random delay.
    curl -s -o /dev/null -X POST --data-binary @"${CHUNKS[$i]}" -H "Authorization: Bearer $TOKEN" \
      -H "x-dg-batch-id: $((i + 1))" "http://127.0.0.1:$PORT/v1/events" &
    sleep "0.0$((RANDOM % 10))"
    # The eviction failpoint may have killed it already while it took this batch.
    if kill -9 "$PID" 2>/dev/null; then :; else
      [[ -n "$FAILPOINT" ]] && { self_kills=$((self_kills + 1)); FAILPOINT=""; }
    fi
    wait "$PID" 2>/dev/null || true
    wait || true
    kills=$((kills + 1))
    next_kill=$((i + RANDOM % 8 + 1))
    start
    continue  # resend batch i (idempotent if it was already logged)
  fi
  code=$(curl -s -o "$T/resp" -w '%{http_code}' -X POST --data-binary @"${CHUNKS[$i]}" \
    -H "Authorization: Bearer $TOKEN" -H "x-dg-batch-id: $((i + 1))" \
    "http://127.0.0.1:$PORT/v1/events" || true)
  if [[ -n "$FAILPOINT" ]] && ! kill -0 "$PID" 2>/dev/null; then
    # The failpoint killed the service while it evicted: restart (next time without it, or
    # with another) and resend.
    wait "$PID" 2>/dev/null || true
    self_kills=$((self_kills + 1))
    FAILPOINT=$(( self_kills < 3 ? RANDOM % 30 + 1 : 0 ))
    [[ "$FAILPOINT" == 0 ]] && FAILPOINT=""
    start
    continue
  fi
  if [[ "$code" != 200 ]]; then
    echo "batch $i: HTTP $code"; cat "$T/serve.log"; exit 1
  fi
  i=$((i + 1))
done
echo "crash ($1): $kills kills done, $self_kills killed by the eviction failpoint"
FAILPOINT=""
curl -sf -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/v1/report?final=1" >"$T/serve.json"
# One more kill after everything was acknowledged: a restart must give the same report.
kill -9 "$PID"; wait "$PID" 2>/dev/null || true
start
curl -sf -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/v1/report?final=1" >"$T/serve2.json"
kill "$PID"; wait "$PID" 2>/dev/null || true
PID=""
if ! cmp -s "$T/scan.json" "$T/serve.json"; then
  echo "FAIL: serve report differs from scan"; diff <(tr ',' '\n' <"$T/scan.json") <(tr ',' '\n' <"$T/serve.json") | head -20
  exit 1
fi
cmp -s "$T/serve.json" "$T/serve2.json" || { echo "FAIL: report changed across a restart"; exit 1; }
grep -q "replayed" "$T/serve.log" || echo "note: no restart needed a WAL replay"
echo "crash ($1): PASS (report equals scan after $kills kills and $self_kills failpoint kills)"
}

run_pass plain
# Eviction after 30 minutes idle (event time): the tiny scenario's day evicts and restores
# accounts all along; the first start dies after 5 evicted accounts.
EVICT=(--evict-idle 1800)
FAILPOINT=5
run_pass evict
((self_kills > 0)) || { echo "FAIL: the eviction failpoint never fired (no eviction?)"; exit 1; }
