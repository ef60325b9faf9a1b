#!/usr/bin/env bash
# The long chaos run (see tests/chaos/chaos.cpp and docs/reliability.md):
#   scripts/chaos.sh [--orders 1000] [--seed N] [--concurrency C] [--build-dir build/ci]
# Builds nebula-chaos (with nebula-bot and nebula-gateway) if needed and runs it niced; prints the
# summary line. A failing seed reproduces the same sequence of faults.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build/ci"
orders=1000
seed=1
concurrency=12
while [ $# -gt 0 ]; do
  case "$1" in
    --orders) orders="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --concurrency) concurrency="$2"; shift 2 ;;
    --build-dir) build="$2"; shift 2 ;;
    *) echo "chaos.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -d "$build" ] || { echo "chaos.sh: no build in $build (cmake --preset ci)" >&2; exit 2; }
nice cmake --build "$build" -j2 --target nebula-chaos >/dev/null
work="$build/chaos-run/seed-$seed"
exec nice "$build/tests/chaos/nebula-chaos" --bin-dir "$build" --work "$work" --orders "$orders" \
  --seed "$seed" --concurrency "$concurrency" --load-seconds $((orders * 6 + 300)) \
  --settle-seconds $((orders * 3 + 150)) \
  --kill-chance 0.01 --fault-every-ms 4000
