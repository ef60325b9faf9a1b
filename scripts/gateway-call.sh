#!/usr/bin/env bash
# Sends one signed request to a nebula-gateway with curl and openssl — the v1 signature of
# docs/api.md in a dozen lines, for operators and for clients written in other languages.
#
#   GATEWAY_URL=https://vpn1.example.com:8443 API_SECRET_KEY=... \
#     scripts/gateway-call.sh GET /api/health
#   scripts/gateway-call.sh POST /api/clients '{"inbound_id":1,"email":"nl-000001"}'
#
# Optional: GATEWAY_CA (CA/cert file to trust), GATEWAY_INSECURE_PIN_SKIP is not offered on purpose.
set -euo pipefail
method="${1:?usage: gateway-call.sh METHOD PATH [BODY]}"
path="${2:?usage: gateway-call.sh METHOD PATH [BODY]}"
body="${3:-}"
: "${GATEWAY_URL:?set GATEWAY_URL, e.g. https://127.0.0.1:8443}"
: "${API_SECRET_KEY:?set API_SECRET_KEY}"

timestamp=$(date +%s)
nonce=$(openssl rand -hex 16)
body_hash=$(printf '%s' "$body" | openssl dgst -sha256 -r | cut -d' ' -f1)
canonical=$(printf 'v1\n%s\n%s\n%s\n%s\n%s' "$method" "$path" "$timestamp" "$nonce" "$body_hash")
signature=$(printf '%s' "$canonical" | openssl dgst -sha256 -hmac "$API_SECRET_KEY" -r | cut -d' ' -f1)

args=(-sS -X "$method" -H "X-Nebula-Timestamp: $timestamp" -H "X-Nebula-Nonce: $nonce"
      -H "X-Nebula-Signature: v1=$signature" -w '\nHTTP %{http_code}\n')
[ -n "${GATEWAY_CA:-}" ] && args+=(--cacert "$GATEWAY_CA")
if [ -n "$body" ]; then args+=(-H "Content-Type: application/json" --data-binary "$body"); fi
exec curl "${args[@]}" "${GATEWAY_URL%/}$path"
