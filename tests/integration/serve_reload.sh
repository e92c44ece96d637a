#!/usr/bin/env bash
# Policy hot reload of `distillguard serve` through the real signal: after the config file's
# [policy] changes, SIGHUP makes the new policy decide (an account added to the block list is
# blocked) while the engine keeps its state (accounts known, events processed) and the process
# keeps running; a broken file on SIGHUP is refused and the policy in force stays.
# Usage: tests/integration/serve_reload.sh path/to/distillguard
set -euo pipefail
BIN=$(realpath "$1")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d /tmp/dg-reload.XXXXXX)
PID=""
# The service is stopped and waited for before its data directory goes (it writes a checkpoint
# as it stops).
cleanup() {
  if [[ -n "$PID" ]]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$T"
}
trap cleanup EXIT
TOKEN=reload-token
write_config() {
  cat >"$T/serve.toml" <<TOML
listen = "127.0.0.1:0"
data_dir = "$T/data"
admin_token = "$TOKEN"
[http]
decision_token = ""
[alerts]
log_decisions = false
[policy]
$1
TOML
}
write_config ""
"$BIN" simulate --scenario "$ROOT/scenarios/tiny.toml" --out "$T/sim" --seed 3 >/dev/null 2>&1
"$BIN" serve --config "$T/serve.toml" --port-file "$T/port" 2>"$T/serve.log" &
PID=$!
for _ in $(seq 1 300); do [[ -s "$T/port" ]] && break; sleep 0.02; done
PORT=$(cat "$T/port")
URL=http://127.0.0.1:$PORT
curl -sf -X POST --data-binary @"$T/sim/events.jsonl" -H "Authorization: Bearer $TOKEN" "$URL/v1/events" >/dev/null
ACCT=$(head -1 "$T/sim/events.jsonl" | python3 -c "import json,sys; print(json.load(sys.stdin)['account_id'])")
decide() { curl -sf -X POST -d "{\"account_id\":\"$ACCT\"}" "$URL/v1/decide"; }
# A reply is read whole before it is searched: `curl | grep -q` under pipefail fails when grep
# exits on its match while curl still writes the rest (curl: write error, exit 23).
has() { [[ "$1" == *"$2"* ]]; }
accounts() { curl -sf "$URL/metrics" | awk '$1 == "distillguard_accounts" { print $2 }'; }
for _ in $(seq 1 200); do [[ "$(accounts)" -gt 0 ]] && break; sleep 0.05; done
before=$(accounts)
has "$(decide)" '"action":"allow"' || { echo "FAIL: $ACCT not allowed before the reload"; decide; exit 1; }

write_config "[policy.block]
accounts = [\"$ACCT\"]"
kill -HUP "$PID"
for _ in $(seq 1 100); do has "$(decide)" '"action":"block"' && break; sleep 0.05; done
has "$(decide)" '"action":"block"' || { echo "FAIL: SIGHUP did not apply the new block list"; cat "$T/serve.log"; exit 1; }
kill -0 "$PID" || { echo "FAIL: serve died on SIGHUP"; exit 1; }
[[ "$(accounts)" == "$before" ]] || { echo "FAIL: accounts $before -> $(accounts) across the reload"; exit 1; }

echo '[policy' >"$T/serve.toml"  # broken TOML
kill -HUP "$PID"
for _ in $(seq 1 100); do grep -q "policy not reloaded" "$T/serve.log" && break; sleep 0.05; done
grep -q "policy not reloaded" "$T/serve.log" || { echo "FAIL: no refusal logged"; exit 1; }
has "$(decide)" '"action":"block"' || { echo "FAIL: a broken file changed the policy"; exit 1; }
metrics=$(curl -sSf "$URL/metrics") || { echo "FAIL: GET /metrics: curl exit $?"; exit 1; }
grep -q '^distillguard_policy_reloads_total 1$' <<<"$metrics" || { echo "FAIL: reload count"; exit 1; }
grep -q '^distillguard_policy_reload_failures_total 1$' <<<"$metrics" || {
  echo "FAIL: failure count"; grep reload <<<"$metrics"; exit 1; }
echo "serve_reload: PASS ($before accounts kept; SIGHUP applied one policy and refused a broken file)"
