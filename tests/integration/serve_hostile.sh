#!/usr/bin/env bash
# Hostile-client test for `distillguard serve` (issue 18): the real binary is sent malformed
# requests with curl and raw bytes over bash's /dev/tcp (bad %-escapes in query and path, bad
# numbers, bad batch ids, bad and truncated gzip, bad JSON, oversized headers and bodies, wrong
# methods, garbage on the socket, a request line without a version, a slow client). Each must
# get its error status with an OpenAI-shaped JSON body; afterwards the process must be alive,
# /healthz ok, distillguard_bad_requests_total must have counted them, and a valid batch must be
# acknowledged and its account appear in the report.
# Usage: tests/integration/serve_hostile.sh path/to/distillguard
set -euo pipefail
BIN=$(realpath "$1")
T=$(mktemp -d /tmp/dg-hostile.XXXXXX)
PID=""
cleanup() {
  if [[ -n "$PID" ]]; then kill -9 "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$T"
}
trap cleanup EXIT
TOKEN=hostile-test-token
AUTH="Authorization: Bearer $TOKEN"
FAILS=0
BAD=0  # answers that must be counted as bad requests (400 / 405 / 413)

"$BIN" serve --listen 127.0.0.1:0 --port-file "$T/port" --data-dir "$T/data" \
  --admin-token "$TOKEN" --lateness 0 --read-timeout 1 --max-body-bytes 65536 \
  >"$T/serve.log" 2>&1 &
PID=$!
for _ in $(seq 1 300); do
  [[ -s "$T/port" ]] && break
  kill -0 "$PID" 2>/dev/null || { echo "serve died at start"; cat "$T/serve.log"; exit 1; }
  sleep 0.02
done
PORT=$(cat "$T/port")
URL="http://127.0.0.1:$PORT"

fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
alive() { kill -0 "$PID" 2>/dev/null || { echo "FAIL: serve died ($1)"; cat "$T/serve.log"; exit 1; }; }
count_bad() { case "$1" in 400 | 405 | 413) BAD=$((BAD + 1)) ;; esac; }

# expect NAME WANT_STATUS WANT_IN_BODY curl-args...
expect() {
  local name=$1 want=$2 grep_for=$3
  shift 3
  local code
  code=$(curl -s -g --path-as-is -o "$T/body" -w '%{http_code}' "$@" || true)
  alive "$name"
  count_bad "$code"
  if [[ "$code" != "$want" ]]; then
    fail "$name: HTTP $code, want $want: $(head -c 300 "$T/body")"
  elif ! grep -qF -- "$grep_for" "$T/body"; then
    fail "$name: body lacks $grep_for: $(head -c 300 "$T/body")"
  fi
}

# raw NAME WANT_STATUS BYTES(printf %b format): sends raw bytes, reads the answer until close.
raw() {
  local name=$1 want=$2 bytes=$3 code
  exec 3<>"/dev/tcp/127.0.0.1/$PORT"
  printf '%b' "$bytes" >&3 || true
  timeout 5 cat <&3 >"$T/raw" || true
  exec 3<&- 3>&-
  alive "$name"
  code=$(head -c 12 "$T/raw" | cut -c10-12)
  count_bad "$code"
  if [[ "$code" != "$want" ]]; then
    fail "$name: HTTP '$code', want $want: $(head -c 300 "$T/raw")"
  elif ! grep -q '{"error":{"message":' "$T/raw"; then
    fail "$name: no OpenAI-shaped error body: $(head -c 300 "$T/raw")"
  fi
}

expect "authz bad escape" 400 '"param":"gateway"' "$URL/v1/authz?gateway=%zz"
expect "authz % at the end" 400 '"param":"gateway"' "$URL/v1/authz?gateway=nginx%"
expect "alerts since=x" 400 '"param":"since"' -H "$AUTH" "$URL/v1/alerts?since=x"
expect "alerts limit overflow" 400 'out of range' -H "$AUTH" "$URL/v1/alerts?limit=99999999999999999999"
expect "alerts limit negative" 400 '"param":"limit"' -H "$AUTH" "$URL/v1/alerts?limit=-5"
expect "alerts limit clamped" 200 '[' -H "$AUTH" "$URL/v1/alerts?limit=123456789"
expect "account bad escape" 400 '"param":"account_id"' -H "$AUTH" "$URL/v1/accounts/%zz"
expect "cluster truncated escape" 400 '"param":"cluster_id"' -H "$AUTH" "$URL/v1/clusters/x%4"
expect "batch id garbage" 400 '"param":"x-dg-batch-id"' -H "$AUTH" -H "x-dg-batch-id: 12abc" \
  --data-binary $'x\n' "$URL/v1/events"
expect "batch id negative" 400 '"param":"x-dg-batch-id"' -H "$AUTH" -H "x-dg-batch-id: -1" \
  --data-binary $'x\n' "$URL/v1/events"
expect "batch id overflow" 400 'out of range' -H "$AUTH" -H "x-dg-batch-id: 99999999999999999999" \
  --data-binary $'x\n' "$URL/v1/events"
printf '\x1f\x8bgarbage that is not deflate' >"$T/garbage.gz"
printf '{"ts":"2025-01-01T00:00:00Z","account_id":"x"}\n%.0s' $(seq 1 50) | gzip -c >"$T/full.gz"
head -c 40 "$T/full.gz" >"$T/trunc.gz"
expect "events garbage gzip" 400 'gzip' -H "$AUTH" -H "Content-Encoding: gzip" \
  --data-binary @"$T/garbage.gz" "$URL/v1/events"
expect "events truncated gzip" 400 'gzip' -H "$AUTH" -H "Content-Encoding: gzip" \
  --data-binary @"$T/trunc.gz" "$URL/v1/events"
expect "events bad JSON is logged" 200 '"accepted":true' -H "$AUTH" \
  --data-binary $'not json\n{"ts":\n' "$URL/v1/events"
expect "decide bad JSON" 400 'invalid_body' --data-binary '{"account_id":' "$URL/v1/decide"
expect "decide garbage gzip" 400 'invalid_body' --data-binary @"$T/garbage.gz" "$URL/v1/decide"
expect "decide truncated gzip" 400 'invalid_body' -H "Content-Encoding: gzip" \
  --data-binary @"$T/trunc.gz" "$URL/v1/decide"
head -c 70000 /dev/zero | tr '\0' a >"$T/big"
expect "body too large" 413 'request_too_large' -H "$AUTH" --data-binary @"$T/big" "$URL/v1/events"
expect "header too large" 413 'request_too_large' -H "x-big: $(head -c 40000 /dev/zero | tr '\0' a)" \
  "$URL/healthz"
expect "GET decide" 405 'method_not_allowed' "$URL/v1/decide"
expect "PUT events" 405 'method_not_allowed' -X PUT -H "$AUTH" --data-binary x "$URL/v1/events"
expect "unknown endpoint" 404 'not_found' -H "$AUTH" "$URL/v1/nope"

raw "garbage bytes" 400 '\x16\x03\x01\x02\x00\xff\xfe garbage\r\n\r\n'
raw "request line without version" 400 'GET /healthz\r\n\r\n'
raw "header without colon" 400 'GET /healthz HTTP/1.1\r\nbadheader\r\n\r\n'
raw "bad chunk size" 400 'POST /v1/decide HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n'

# A slow client: one header byte every 0.2 s must be cut off after --read-timeout (1 s).
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
printf 'GET /healthz HTTP/1.1\r\n' >&3
t0=$(date +%s%N)
cut=""
for _ in $(seq 1 50); do
  (printf 'a' >&3) 2>/dev/null || { cut=write; break; }
  rc=0
  read -r -t 0.2 -n 1 -u 3 _ || rc=$?
  if ((rc == 1)); then cut=eof; break; fi  # EOF: the server closed (rc > 128 = read timed out)
done
exec 3<&- 3>&-
elapsed_ms=$((($(date +%s%N) - t0) / 1000000))
if [[ -z "$cut" ]]; then
  fail "slow client was never cut off (${elapsed_ms} ms)"
elif ((elapsed_ms < 800 || elapsed_ms > 3000)); then
  fail "slow client cut off after ${elapsed_ms} ms, want about 1000"
else
  echo "hostile: slow client cut off after ${elapsed_ms} ms"
fi
alive "slow client"

# Still serving, and correctly.
[[ "$(curl -sf "$URL/healthz")" == *'"status":"ok"'* ]] || fail "healthz not ok"
line='{"ts":"2025-04-01T00:00:00Z","account_id":"hostile-survivor","client_ip":"198.51.100.7","user_agent":"curl","endpoint":"/v1/chat/completions","request":{"model":"gpt-4o","messages":[{"role":"user","content":"hello"}]},"response":{"status":200,"usage":{"prompt_tokens":5,"completion_tokens":7}}}'
code=$(curl -s -o "$T/ack" -w '%{http_code}' -H "$AUTH" -H "x-dg-batch-id: 1" \
  --data-binary "$line"$'\n' "$URL/v1/events")
[[ "$code" == 200 ]] && grep -q '"accepted":true' "$T/ack" || fail "valid batch: HTTP $code $(cat "$T/ack")"
curl -sf -H "$AUTH" "$URL/v1/report?final=1" >"$T/report.json" || fail "report failed"
grep -q '"account_id":"hostile-survivor"' "$T/report.json" || fail "acknowledged account not in report"
curl -sf "$URL/metrics" >"$T/metrics"
got=$(awk '$1 == "distillguard_bad_requests_total" {print $2}' "$T/metrics")
[[ "$got" == "$BAD" ]] || fail "distillguard_bad_requests_total = '$got', want $BAD"
exc=$(awk '$1 == "distillguard_request_exceptions_total" {print $2}' "$T/metrics")
[[ "$exc" == 0 ]] || fail "distillguard_request_exceptions_total = '$exc', want 0"
alive "the end"
kill "$PID"; wait "$PID" 2>/dev/null || true
PID=""
if ((FAILS > 0)); then
  echo "hostile: $FAILS failure(s)"; cat "$T/serve.log"; exit 1
fi
echo "hostile: PASS ($BAD bad requests answered and counted, service alive)"
