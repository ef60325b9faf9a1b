#!/usr/bin/env bash
# nebula-bot Buy Access burst (see BENCHMARKS.md, "nebula-bot: Buy Access burst"): builds the
# release binaries, then runs bot_buy_flow_bench --runs times against a fresh bot each time.
#   run.sh [--build-dir DIR] [--runs N] [--customers N] [--window-ms MS] [--db-threads N] [--settle-ms MS]
#          [--work-dir DIR] [--json FILE]   (work dir: the bot's .env, database, log; default a temp dir)
# Exit status: 0 when every run met every target, 1 when one missed, 2 on setup errors.
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
build_dir="$root/build/demo-rel" runs=3 extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build_dir="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --customers|--window-ms|--db-threads|--settle-ms|--work-dir|--json) extra+=("$1" "$2"); shift 2 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1
if [ ! -f "$build_dir/build.ninja" ]; then
  cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DNEBULA_BUILD_TESTS=OFF >/dev/null
fi
cmake --build "$build_dir" --target nebula-bot bot_buy_flow_bench -j "${NEBULA_JOBS:-$(nproc)}" >/dev/null
status=0
for run in $(seq 1 "$runs"); do
  echo "== run $run of $runs"
  "$build_dir/bench/bot/buy_flow/bot_buy_flow_bench" --bot "$build_dir/src/bot/nebula-bot" "${extra[@]}" ||
    { rc=$?; [ "$rc" -eq 1 ] && status=1 || exit "$rc"; }
done
exit "$status"
