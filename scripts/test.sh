#!/usr/bin/env bash
# The README's test command: installs dependencies, builds with sanitizers and warnings as
# errors, checks formatting and runs every test through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."

preset="${NEBULA_TEST_PRESET:-ci}"
jobs="${NEBULA_JOBS:-$(nproc)}"

bash scripts/install-deps.sh

echo "== format check"
bash scripts/format.sh --check

echo "== configure and build ($preset)"
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$jobs"

echo "== tests"
ctest --preset "$preset" -j "$jobs"
