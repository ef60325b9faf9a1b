#!/usr/bin/env bash
# Installs dependencies and builds the optimised binaries (preset "release") into build/release.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "${NEBULA_JOBS:-$(nproc)}" "$@"
