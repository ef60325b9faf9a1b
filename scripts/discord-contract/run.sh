#!/usr/bin/env bash
# Runs the given test binaries with the fake Discord recording every request body, then checks
# those bodies against discord-api-spec's schemas. Usage: run.sh <test-binary>...
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ ! -d "$here/node_modules/discord-api-spec" ] || [ ! -d "$here/node_modules/zod" ]; then
  echo "discord contract: node modules missing; run scripts/install-deps.sh (npm ci in $here)" >&2
  exit 1
fi
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
for binary in "$@"; do
  NEBULA_DISCORD_CONTRACT_DIR="$out" "$binary" --gtest_brief=1 >"$out/$(basename "$binary").log" 2>&1 || {
    echo "discord contract: $binary failed:" >&2
    tail -50 "$out/$(basename "$binary").log" >&2
    exit 1
  }
done
node "$here/validate.mjs" "$out"
