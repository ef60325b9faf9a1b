#!/usr/bin/env bash
# The README's test command: installs dependencies, builds with sanitizers and warnings as
# errors, checks formatting, runs clang-tidy on src/ (scripts/tidy.sh), runs every test through
# ctest, then replays each fuzz corpus and fuzzes each target briefly (scripts/fuzz.sh;
# NEBULA_FUZZ_SECONDS per target, default 5).
set -euo pipefail
cd "$(dirname "$0")/.."

preset="${NEBULA_TEST_PRESET:-ci}"
jobs="${NEBULA_JOBS:-$(nproc)}"

bash scripts/install-deps.sh

echo "== format check"
bash scripts/format.sh --check

echo "== configure and build ($preset)"
# The sanitized build of the whole suite needs about 3 GB; say what there is before starting.
df -h . | tail -n 1 | awk '{print "disk: " $4 " free on " $6}'
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$jobs"

echo "== clang-tidy (src/)"
bash scripts/tidy.sh

echo "== tests"
# A throw-away PostgreSQL server for the database tests; if it cannot start, the suite fails.
pg_env="$(bash scripts/start-postgres.sh)"
eval "$pg_env"
trap 'bash scripts/stop-postgres.sh "$NEBULA_TEST_POSTGRES_DIR"' EXIT
ctest --preset "$preset" -j "$jobs"

echo "== fuzz targets (clang, ASan+UBSan)"
bash scripts/fuzz.sh "${NEBULA_FUZZ_SECONDS:-5}"
