#!/usr/bin/env bash
# Real integration test: nginx (Debian package) on loopback with auth_request to
# `distillguard serve`, in front of a small OpenAI-compatible upstream (upstream.mjs) that ships
# its exchange log to distillguard; the real `openai` npm client (client.mjs) sends harvesting
# and benign traffic. Passes when the harvesting account gets 429 with retry-after and
# x-ratelimit-* headers and an OpenAI-shaped body once flagged, the benign account keeps working,
# a block-listed account gets 403, and the harvester's `"watermarking": false` opt-out is honoured
# before the flag and rewritten by nginx (x-dg-strip: watermarking, policy.require_watermarking)
# once flagged. Needs: nginx, node, and `npm ci` at the repo root.
# Usage: tests/integration/serve_nginx.sh path/to/distillguard
set -euo pipefail
BIN=$(realpath "$1")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[[ -x "$NGINX" ]] || { echo "FAIL: nginx not installed (scripts/deps.sh installs nginx-light)"; exit 1; }
command -v node >/dev/null || { echo "FAIL: node not installed"; exit 1; }
[[ -d "$ROOT/node_modules/openai" ]] || (cd "$ROOT" && npm ci --no-audit --no-fund >/dev/null)

T=$(mktemp -d /tmp/dg-nginx.XXXXXX)
chmod 755 "$T"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  if [[ -f "$T/nginx/nginx.pid" ]]; then kill "$(cat "$T/nginx/nginx.pid" 2>/dev/null)" 2>/dev/null || true; fi
  sleep 0.2
  rm -rf "$T"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
TOKEN=integration-token

cat >"$T/serve.toml" <<TOML
listen = "127.0.0.1:0"
port_file = "$T/dg.port"
data_dir = "$T/data"
admin_token = "$TOKEN"
[engine]
lateness_s = 0
[policy]
flagged = "throttle"
require_watermarking = "flagged"
levels = { high = "throttle", critical = "throttle" }
[policy.throttled]
rate = 0.001
burst = 1
[policy.block]
accounts = ["acct_banned"]
TOML
"$BIN" serve --config "$T/serve.toml" 2>"$T/dg.log" &
PIDS+=($!)
for _ in $(seq 1 300); do [[ -s "$T/dg.port" ]] && break; sleep 0.02; done
DG_PORT=$(cat "$T/dg.port")
DG="http://127.0.0.1:$DG_PORT"

UP_PORT=$(free_port)
node "$ROOT/tests/integration/upstream.mjs" "$UP_PORT" "$DG" "$TOKEN" 2>"$T/upstream.log" &
PIDS+=($!)

NG_PORT=$(free_port)
mkdir -p "$T/nginx/logs"
cat >"$T/nginx/nginx.conf" <<NGINX
worker_processes 1;
error_log $T/nginx/logs/error.log warn;
pid $T/nginx/nginx.pid;
events { worker_connections 256; }
http {
  access_log $T/nginx/logs/access.log;
  client_body_temp_path $T/nginx/body;
  proxy_temp_path $T/nginx/proxy;
  fastcgi_temp_path $T/nginx/fastcgi;
  uwsgi_temp_path $T/nginx/uwsgi;
  scgi_temp_path $T/nginx/scgi;
  # Required watermarking (docs/SERVE.md): when distillguard's x-dg-strip names "watermarking",
  # every "watermarking": false in the body becomes true (three chained maps rewrite up to three
  # occurrences, the last first); a body still opting out after that is not forwarded at all.
  # The whole body must be in memory for \$request_body: buffer size = max body size.
  client_max_body_size 4m;
  client_body_buffer_size 4m;
  client_body_in_single_buffer on;
  map \$dg_strip \$dg_wm_required { "~(^|,)watermarking(,|\$)" 1; default 0; }
  map "\$dg_wm_required:\$request_body" \$dg_body1 {
    "~(?s)^(1:.*)\"watermarking\"\s*:\s*false(.*)" "\$1\"watermarking\":true\$2";
    default "\$dg_wm_required:\$request_body";
  }
  map \$dg_body1 \$dg_body2 {
    "~(?s)^(1:.*)\"watermarking\"\s*:\s*false(.*)" "\$1\"watermarking\":true\$2";
    default \$dg_body1;
  }
  map \$dg_body2 \$dg_body3 {
    "~(?s)^(1:.*)\"watermarking\"\s*:\s*false(.*)" "\$1\"watermarking\":true\$2";
    default \$dg_body2;
  }
  map \$dg_body3 \$dg_body {
    "~(?s)^1:.*\"watermarking\"\s*:\s*false" "";
    "~(?s)^[01]:(.*)" "\$1";
  }
  upstream distillguard { server 127.0.0.1:$DG_PORT; keepalive 16; }
  upstream model { server 127.0.0.1:$UP_PORT; keepalive 16; }
  server {
    listen 127.0.0.1:$NG_PORT;
    location /v1/ {
      auth_request /_dg_authz;
      # distillguard's answer, for the denial pages and for the upstream (degrade).
      auth_request_set \$dg_retry \$upstream_http_retry_after;
      auth_request_set \$dg_rl_limit \$upstream_http_x_ratelimit_limit_requests;
      auth_request_set \$dg_rl_remaining \$upstream_http_x_ratelimit_remaining_requests;
      auth_request_set \$dg_rl_reset \$upstream_http_x_ratelimit_reset_requests;
      auth_request_set \$dg_action \$upstream_http_x_dg_action;
      auth_request_set \$dg_strip \$upstream_http_x_dg_strip;
      auth_request_set \$dg_cap \$upstream_http_x_dg_cap_max_tokens;
      proxy_set_header x-dg-action \$dg_action;
      proxy_set_header x-dg-strip \$dg_strip;
      proxy_set_header x-dg-cap-max-tokens \$dg_cap;
      proxy_set_body \$dg_body;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_pass http://model;
      # auth_request passes only 401 and 403 on: distillguard answers 401 for "throttle" in
      # nginx mode, turned into OpenAI's 429 here; 403 is "block".
      error_page 401 = @dg_throttled;
      error_page 403 = @dg_blocked;
    }
    location = /_dg_authz {
      internal;
      proxy_pass http://distillguard/v1/authz?gateway=nginx;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-URI \$request_uri;
      proxy_set_header X-Real-IP \$remote_addr;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
    location @dg_throttled {
      default_type application/json;
      add_header retry-after \$dg_retry always;
      add_header x-ratelimit-limit-requests \$dg_rl_limit always;
      add_header x-ratelimit-remaining-requests \$dg_rl_remaining always;
      add_header x-ratelimit-reset-requests \$dg_rl_reset always;
      return 429 '{"error":{"message":"Rate limit reached for requests. Please try again in \${dg_retry}s.","type":"requests","param":null,"code":"rate_limit_exceeded"}}';
    }
    location @dg_blocked {
      default_type application/json;
      return 403 '{"error":{"message":"Access to the API has been suspended for this account.","type":"permission_error","param":null,"code":"account_blocked"}}';
    }
  }
}
NGINX
"$NGINX" -p "$T/nginx" -c "$T/nginx/nginx.conf" -g 'daemon off;' 2>"$T/nginx/stderr.log" &
PIDS+=($!)
for _ in $(seq 1 100); do
  curl -s -o /dev/null "http://127.0.0.1:$NG_PORT/" && curl -s -o /dev/null "http://127.0.0.1:$UP_PORT/" && break
  sleep 0.05
done

if ! node "$ROOT/tests/integration/client.mjs" "http://127.0.0.1:$NG_PORT" "$DG" "$TOKEN"; then
  echo "--- distillguard"; tail -20 "$T/dg.log"; echo "--- upstream"; tail -20 "$T/upstream.log"
  echo "--- nginx"; tail -20 "$T/nginx/logs/error.log" "$T/nginx/stderr.log"
  exit 1
fi
# Replies are read whole before they are searched (`curl | grep -q` fails under pipefail when
# grep exits on its match while curl still writes).
alerts=$(curl -sSf -H "Authorization: Bearer $TOKEN" "$DG/v1/alerts") || { echo "FAIL: GET /v1/alerts: curl exit $?"; exit 1; }
grep -q acct_harvest <<<"$alerts" || { echo "FAIL: no alert stored"; exit 1; }
metrics=$(curl -sSf "$DG/metrics") || { echo "FAIL: GET /metrics: curl exit $?"; exit 1; }
grep -q 'distillguard_decisions_total{action="throttle"}' <<<"$metrics" || { echo "FAIL: metrics"; exit 1; }
echo "nginx integration: PASS"
