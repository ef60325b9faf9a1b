#!/usr/bin/env bash
# The README's run command.
#   run.sh [--once]               the local demo on loopback, the reseller's path: the fake
#                                 3x-ui panel, `nebula-gateway init` and the real gateway it set
#                                 up (TLS), the fake Discord and a real nebula-bot (SQLite) from
#                                 its token; the owner invites it, runs /admin setup and pastes
#                                 init's line; a customer buys access and an admin approves it and
#                                 looks at the stats, with a transcript; files in ./demo-output
#                                 (NEBULA_DEMO_DIR overrides). The services keep running until
#                                 Ctrl-C; --once stops after the walk-through.
#   run.sh gateway-demo [--once]  the gateway alone: a fake panel and nebula-gateway, a customer
#                                 account created and read back through signed requests.
#   run.sh bot --env FILE         applies pending migrations, then runs the real nebula-bot.
#   run.sh gateway --env FILE     runs the real gateway with that configuration.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "bot" ]; then
  shift
  env_file=.env
  if [ "${1:-}" = "--env" ] && [ -n "${2:-}" ]; then env_file="$2"; shift 2; fi
  bash scripts/build.sh --target nebula-bot
  build/release/src/bot/nebula-bot --env-file "$env_file" migrate
  exec build/release/src/bot/nebula-bot --env-file "$env_file" run "$@"
fi

if [ "${1:-}" = "gateway" ]; then
  shift
  bash scripts/build.sh --target nebula-gateway
  exec build/release/src/gateway/nebula-gateway "$@"
fi

if [ "${1:-}" != "gateway-demo" ]; then
  once=()
  [ "${1:-}" = "--once" ] && once=(--once)
  bash scripts/build.sh --target nebula-gateway nebula-fake-xui nebula-fake-discord nebula-bot nebula-demo-driver
  exec bash tests/fakes/demo/demo.sh --bin-dir build/release --out "${NEBULA_DEMO_DIR:-$PWD/demo-output}" "${once[@]}"
fi
shift
once=false
[ "${1:-}" = "--once" ] && once=true

bash scripts/build.sh --target nebula-gateway nebula-fake-xui
out="${NEBULA_DEMO_DIR:-$PWD/demo-output}"
rm -rf "$out" && mkdir -p "$out"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

wait_for_file() {  # bounded wait for a ready file written by a starting service
  for _ in $(seq 1 200); do [ -s "$1" ] && return 0; sleep 0.05; done
  echo "run: $2 did not start; see $out/*.log" >&2; exit 1
}

echo "== fake 3x-ui panel (3.x API, base path /demo/)"
build/release/tests/fakes/xui/nebula-fake-xui --mode v3 --base-path /demo/ --username admin \
  --password demo-panel-password --ready-file "$out/panel.json" >"$out/panel.log" 2>&1 &
pids+=($!)
wait_for_file "$out/panel.json" "the fake panel"
panel_port=$(sed -E 's/.*"port":([0-9]+).*/\1/' "$out/panel.json")
echo "   listening on 127.0.0.1:$panel_port"

echo "== throw-away TLS certificate"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
  -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
  -keyout "$out/key.pem" -out "$out/cert.pem" 2>/dev/null
key=$(openssl rand -hex 32)
cat >"$out/gateway.env" <<ENV
PORT=0
BIND_ADDRESS=127.0.0.1
SSL_CERT_PATH=$out/cert.pem
SSL_KEY_PATH=$out/key.pem
API_SECRET_KEY=$key
PANEL_URL=http://127.0.0.1:$panel_port
PANEL_BASE_PATH=/demo/
PANEL_USERNAME=admin
PANEL_PASSWORD=demo-panel-password
PUBLIC_HOST=vpn.example.com
ALLOWED_IPS=127.0.0.1
LOG_DIR=$out/logs
ENV

echo "== nebula-gateway (HTTPS, signed requests only)"
build/release/src/gateway/nebula-gateway --env "$out/gateway.env" --ready-file "$out/gateway.json" \
  >"$out/gateway.log" 2>&1 &
pids+=($!)
wait_for_file "$out/gateway.json" "nebula-gateway"
gateway_port=$(sed -E 's/.*"port":([0-9]+).*/\1/' "$out/gateway.json")
echo "   listening on https://127.0.0.1:$gateway_port"

export GATEWAY_URL="https://127.0.0.1:$gateway_port" API_SECRET_KEY="$key" GATEWAY_CA="$out/cert.pem"
call() { echo; echo "\$ $*"; bash scripts/gateway-call.sh "$@" | tee -a "$out/transcript.txt"; }
call GET /api/health
call GET /api/inbounds
call POST /api/clients '{"inbound_id":1,"email":"nl-000001","total_bytes":32212254720,"expiry_ms":1893456000000,"limit_ip":2,"sub_id":"demo000000000001"}'
call GET /api/clients/nl-000001
echo
echo "\$ unsigned request (refused)"
curl -sS --cacert "$out/cert.pem" -w '\nHTTP %{http_code}\n' "$GATEWAY_URL/api/health"
echo
echo "Demo files are in $out (transcript.txt, gateway.env, logs/)."
if $once; then exit 0; fi
echo "The gateway keeps serving at $GATEWAY_URL; try:"
echo "  GATEWAY_URL=$GATEWAY_URL API_SECRET_KEY=$key GATEWAY_CA=$out/cert.pem scripts/gateway-call.sh GET /api/traffic"
echo "Press Ctrl-C to stop."
wait
