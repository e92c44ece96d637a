#!/usr/bin/env bash
# Browser tests of the analyst UI: Debian's chromium driven by playwright-core
# (tests/integration/ui_browser.mjs) against a live `distillguard serve` loaded with simulated
# traffic (scenarios/tiny.toml).
#   review: log in, open the top case, see its plots and evidence, block it and see /v1/decide
#           answer block for its accounts, undo it, find both in the audit log; confirm the case
#           and block a member; kill -9 the service, restart it, and find the actions still there
#           (audit log, status, the member's block).
#   xss:    one attacker's account id, user agent and prompts are rewritten to carry script and
#           HTML; its case page (live, and in the `scan --html` report) shows them as text and no
#           script runs.
#   screenshots DIR: `make screenshots` (the demo scenario; PNGs of the queue and the top case).
# Usage: tests/integration/ui_browser.sh path/to/distillguard review|xss|screenshots [DIR]
set -euo pipefail
BIN=$(realpath "$1")
MODE=${2:-review}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d /tmp/dg-ui.XXXXXX)
PID=""
cleanup() {
  if [[ -n "$PID" ]]; then kill -9 "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$T"
}
trap cleanup EXIT
TOKEN=ui-test-token-$RANDOM$RANDOM
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [[ ! -x "$CHROMIUM" ]]; then echo "FAIL: $CHROMIUM not found (scripts/deps.sh installs chromium)"; exit 1; fi
if [[ ! -d "$ROOT/node_modules/playwright-core" ]]; then echo "FAIL: playwright-core missing (npm ci)"; exit 1; fi

SCENARIO=tiny
SEED=3
if [[ "$MODE" == screenshots ]]; then SCENARIO=demo; SEED=7; fi
"$BIN" simulate --scenario "$ROOT/scenarios/$SCENARIO.toml" --out "$T/sim" --seed "$SEED" >/dev/null 2>&1
EVENTS="$T/sim/events.jsonl"

XSS_ACCOUNT='acct_<img src=x onerror="window.__xss=1">'
if [[ "$MODE" == xss ]]; then
  # The heaviest attacker account gets a hostile id, agent and prompt prefix.
  node - "$T/sim" "$XSS_ACCOUNT" <<'EOF'
const fs = require('fs');
const [dir, hostile] = process.argv.slice(2);
const labels = JSON.parse(fs.readFileSync(dir + '/labels.json', 'utf8'));
const lines = fs.readFileSync(dir + '/events.jsonl', 'utf8').split('\n').filter(Boolean);
const attackers = new Set(Object.entries(labels.accounts)
  .filter(([, v]) => v.label !== 'benign' && v.campaign).map(([id]) => id));
const count = new Map();
for (const l of lines) {
  const a = JSON.parse(l).account_id;
  if (attackers.has(a)) count.set(a, (count.get(a) || 0) + 1);
}
const victim = [...count.entries()].sort((x, y) => y[1] - x[1])[0][0];
const out = lines.map((l) => {
  const e = JSON.parse(l);
  if (e.account_id !== victim) return l;
  e.account_id = hostile;
  e.user_agent = '<script>window.__xss=2</script>';
  const msgs = (e.request && e.request.messages) || [];
  for (let i = msgs.length - 1; i >= 0; i--) {
    if (msgs[i].role === 'user' && typeof msgs[i].content === 'string') {
      msgs[i].content = '<b>bold</b><script>window.__xss=3</script> ' + msgs[i].content;
      break;
    }
  }
  return JSON.stringify(e);
});
fs.writeFileSync(dir + '/events.jsonl', out.join('\n') + '\n');
console.error('xss: rewrote account ' + victim);
EOF
fi

# The policy contains flagged accounts (throttle) without blocking them, so that blocking is
# the analyst's doing.
cat >"$T/serve.toml" <<'EOF'
[policy]
flagged = "throttle"
cluster_flagged = "throttle"
levels = { none = "allow", low = "allow", medium = "allow", high = "throttle", critical = "throttle" }
EOF

start() {
  rm -f "$T/port"
  "$BIN" serve --config "$T/serve.toml" --listen 127.0.0.1:0 --port-file "$T/port" --data-dir "$T/data" \
    --admin-token "$TOKEN" --accounts "$T/sim/accounts.jsonl" >>"$T/serve.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 500); do
    [[ -s "$T/port" ]] && break
    kill -0 "$PID" 2>/dev/null || { echo "serve died at start"; cat "$T/serve.log"; exit 1; }
    sleep 0.02
  done
  PORT=$(cat "$T/port")
  URL="http://127.0.0.1:$PORT"
}

start
# Load the traffic in a few batches, then wait until all of it is applied.
mkdir -p "$T/chunks"
split -l 20000 -d -a 4 "$EVENTS" "$T/chunks/c"
n=0
for c in "$T"/chunks/c*; do
  curl -sf -o /dev/null -X POST --data-binary @"$c" -H "Authorization: Bearer $TOKEN" "$URL/v1/events"
  n=$((n + 1))
done
for _ in $(seq 1 600); do
  seq_done=$(curl -sf "$URL/healthz" | sed -E 's/.*"processed_seq":([0-9]+).*/\1/')
  [[ "$seq_done" == "$n" ]] && break
  sleep 0.05
done
echo "ui: $(wc -l <"$EVENTS") events in $n batches applied"

cd "$ROOT"
case "$MODE" in
  review)
    node tests/integration/ui_browser.mjs review "$URL" "$TOKEN" "$T"
    # kill -9, restart: the actions are durable and applied again at once.
    kill -9 "$PID"; wait "$PID" 2>/dev/null || true
    start
    node tests/integration/ui_browser.mjs after "$URL" "$TOKEN" "$T"
    curl -sf -H "Authorization: Bearer $TOKEN" "$URL/v1/audit" >"$T/audit.json"
    for a in block clear confirm; do
      grep -q "\"action\":\"$a\"" "$T/audit.json" || { echo "FAIL: audit lacks $a after kill -9"; exit 1; }
    done
    echo "ui: review passed; actions survived kill -9"
    ;;
  xss)
    "$BIN" scan "$EVENTS" --accounts "$T/sim/accounts.jsonl" --html "$T/report.html" -q 2>/dev/null
    node tests/integration/ui_browser.mjs xss "$URL" "$TOKEN" "$XSS_ACCOUNT" "$T/report.html"
    echo "ui: xss passed"
    ;;
  screenshots)
    OUT=$(realpath "${3:-docs/img}")
    mkdir -p "$OUT"
    node tests/integration/ui_browser.mjs screenshots "$URL" "$TOKEN" "$OUT"
    ;;
  *) echo "unknown mode $MODE"; exit 2 ;;
esac
kill "$PID"; wait "$PID" 2>/dev/null || true
PID=""
