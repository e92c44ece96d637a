#!/usr/bin/env bash
# make bench-soak (not a test): `distillguard serve` under sustained load, by default 10 minutes
# of 10,000 decisions/s (POST /v1/decide, open loop over keep-alive connections, see
# bench/soak_load.cc) together with event ingest (POST /v1/events, batches of exchange-log lines
# from a simulated week, 500 lines/s), with idle-account eviction on. Prints a table per window:
# decisions, achieved rate, p50 / p99 / max decision latency (from when each request was due),
# errors, events posted and the server's RSS; then the whole run and the server's own counters.
# Environment: SOAK_SECONDS (600), SOAK_RATE (10000), SOAK_CONNS (4), SOAK_WINDOW (seconds per
# row; 60, or SOAK_SECONDS/5 for short runs), SOAK_EVENTS_RATE (500 lines/s), SOAK_SCENARIO
# (standard; simulated with the shared corpora if ../shared/data/corpora exists),
# SOAK_EVICT_IDLE (86400 s of event time; 0 = off), SOAK_HTTP_THREADS (1).
# Usage: bench/soak.sh path/to/distillguard
set -euo pipefail
BIN=$(realpath "$1")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECS=${SOAK_SECONDS:-600}
RATE=${SOAK_RATE:-10000}
CONNS=${SOAK_CONNS:-4}
WINDOW=${SOAK_WINDOW:-$(( SECS >= 300 ? 60 : (SECS / 5 > 0 ? SECS / 5 : 1) ))}
EV_RATE=${SOAK_EVENTS_RATE:-500}
SCEN=${SOAK_SCENARIO:-standard}
IDLE=${SOAK_EVICT_IDLE:-86400}
HTTP_THREADS=${SOAK_HTTP_THREADS:-1}
CORPORA=${CORPORA:-$ROOT/../shared/data/corpora}
T=$(mktemp -d /tmp/dg-soak.XXXXXX)
PID=""
cleanup() { [[ -n "$PID" ]] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT

LOAD="$ROOT/build/bench-tools/soak_load"
mkdir -p "$(dirname "$LOAD")"
if [[ ! -x "$LOAD" || "$ROOT/bench/soak_load.cc" -nt "$LOAD" ]]; then
  g++ -O2 -std=c++20 -pthread "$ROOT/bench/soak_load.cc" -o "$LOAD"
fi
corp=()
[[ -d "$CORPORA" ]] && corp=(--corpora "$CORPORA")
"$BIN" simulate --scenario "$ROOT/scenarios/$SCEN.toml" --out "$T/sim" --seed 5 "${corp[@]}" >/dev/null 2>&1
python3 -c "import json,sys; [print(json.loads(l)['account_id']) for l in open('$T/sim/accounts.jsonl')]" >"$T/accounts.txt"
TOKEN=soak-admin
"$BIN" serve --listen 127.0.0.1:0 --port-file "$T/port" --data-dir "$T/data" --admin-token "$TOKEN" \
  --decision-token "" --accounts "$T/sim/accounts.jsonl" --http-threads "$HTTP_THREADS" \
  --log-decisions false --evict-idle "$IDLE" 2>"$T/serve.log" &
PID=$!
for _ in $(seq 1 500); do [[ -s "$T/port" ]] && break; sleep 0.02; done
PORT=$(cat "$T/port")
echo "soak: ${SECS}s, ${RATE} decisions/s over ${CONNS} connections, ${EV_RATE} event lines/s" \
  "($(wc -l <"$T/sim/events.jsonl") lines of scenario $SCEN, looped), eviction after ${IDLE}s idle," \
  "$HTTP_THREADS HTTP thread(s); $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) before"
rc=0
"$LOAD" --port "$PORT" --rate "$RATE" --seconds "$SECS" --conns "$CONNS" --window "$WINDOW" \
  --events "$T/sim/events.jsonl" --events-rate "$EV_RATE" --batch 100 --admin-token "$TOKEN" \
  --accounts "$T/accounts.txt" --pid "$PID" || rc=$?
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "server counters:"
curl -sf "http://127.0.0.1:$PORT/metrics" | grep -E "^distillguard_(decide_seconds_(count|sum)|events |accounts|evictions_total|restores_total|evict_errors_total|bad_requests_total|request_exceptions_total|engine_lag_seconds)" || true
exit $rc
