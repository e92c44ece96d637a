#!/usr/bin/env bash
# Benchmark (not a test): decision latency of POST /v1/decide under load from a second process
# (wrk, Debian package) on loopback. Loads a simulated day of events first so the verdict view is
# populated, then runs wrk with a Lua script that cycles through the simulated account ids.
# wrk is closed-loop: it reports the latency percentiles at the throughput it reaches with
# CONNS connections; the target is p99 <= 1 ms at >= 10,000 decisions/s.
# Usage: bench/serve_latency.sh path/to/distillguard [seconds] [conns]
set -euo pipefail
BIN=$(realpath "$1")
SECS=${2:-10}
CONNS=${3:-4}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
command -v wrk >/dev/null || { echo "wrk not installed (apt-get install wrk)"; exit 1; }
T=$(mktemp -d /tmp/dg-bench.XXXXXX)
PID=""
cleanup() { [[ -n "$PID" ]] && kill "$PID" 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT
TOKEN=bench-token
"$BIN" simulate --scenario "$ROOT/scenarios/tiny.toml" --out "$T/sim" --seed 3 >/dev/null 2>&1
"$BIN" serve --listen 127.0.0.1:0 --port-file "$T/port" --data-dir "$T/data" --admin-token "$TOKEN" \
  --accounts "$T/sim/accounts.jsonl" --http-threads 1 --log-decisions false 2>"$T/serve.log" &
PID=$!
for _ in $(seq 1 300); do [[ -s "$T/port" ]] && break; sleep 0.02; done
PORT=$(cat "$T/port")
curl -sf -X POST --data-binary @"$T/sim/events.jsonl" -H "Authorization: Bearer $TOKEN" \
  "http://127.0.0.1:$PORT/v1/events" >/dev/null
sleep 1
ACCOUNTS=$(python3 -c "import json,sys; print(','.join('\"%s\"' % json.loads(l)['account_id'] for l in open('$T/sim/accounts.jsonl')))")
cat >"$T/decide.lua" <<LUA
local accounts = { $ACCOUNTS }
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i + 1
  local a = accounts[(i % #accounts) + 1]
  return wrk.format(nil, "/v1/decide", nil,
    '{"account_id":"' .. a .. '","api_key_id":"k1","request":{"n":1,"max_tokens":256,"logprobs":false}}')
end
LUA
echo "decide latency: $CONNS connections, ${SECS}s, 1 wrk thread, 1 HTTP thread (2-core machine)"
wrk -t1 -c"$CONNS" -d"${SECS}s" --latency -s "$T/decide.lua" "http://127.0.0.1:$PORT" | sed -n '1,30p'
echo "server-side handler time (histogram):"
curl -sf "http://127.0.0.1:$PORT/metrics" | grep -E "decide_seconds_(count|sum)"
