#!/usr/bin/env bash
# nebula-bot Buy Access burst (see BENCHMARKS.md, "nebula-bot: Buy Access burst"): builds the
# release binaries, then runs bot_buy_flow_bench --runs times against a fresh bot each time.
#   run.sh [--build-dir DIR] [--runs N] [--customers N] [--window-ms MS] [--db-threads N] [--settle-ms MS]
#          [--simultaneous] [--tls] [--http1] [--latency-ms MS] [--press buy|account]
#          [--postgres | --database URL]
#          [--work-dir DIR] [--json FILE]   (work dir: the bot's .env, database, log; default a temp dir)
#          --postgres: the bot on PostgreSQL, a throw-away cluster from scripts/start-postgres.sh;
#          --database: on that PostgreSQL server instead (a fresh schema each run).
#   run.sh --matrix [--runs N] [--build-dir DIR] [--json FILE] [--no-postgres]
#          every scenario of {spread over 1 s, simultaneous} x {plain, HTTPS + 60 ms answers} x
#          {new customers press Buy Access, returning customers press My Account} on SQLite, and
#          both presses simultaneous over plain HTTP on PostgreSQL (unless --no-postgres), --runs
#          times each, then one table of the medians (needs python3).
# Exit status: 0 when every run met every target, 1 when one missed, 2 on setup errors.
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
build_dir="$root/build/demo-rel" runs=3 extra=() matrix=0 json="" postgres=0 matrix_postgres=1 database=""
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build_dir="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --matrix) matrix=1; shift ;;
    --json) json="$2"; shift 2 ;;
    --postgres) postgres=1; shift ;;
    --no-postgres) matrix_postgres=0; shift ;;
    --database) database="$2"; shift 2 ;;
    --simultaneous|--tls|--http1) extra+=("$1"); shift ;;
    --customers|--window-ms|--db-threads|--settle-ms|--work-dir|--latency-ms|--press) extra+=("$1" "$2"); shift 2 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1
if [ ! -f "$build_dir/build.ninja" ]; then
  cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DNEBULA_BUILD_TESTS=OFF >/dev/null
fi
cmake --build "$build_dir" --target nebula-bot bot_buy_flow_bench -j "${NEBULA_JOBS:-$(nproc)}" >/dev/null
bench="$build_dir/bench/bot/buy_flow/bot_buy_flow_bench"
bot="$build_dir/src/bot/nebula-bot"
status=0

if [ -z "$database" ] && { [ "$postgres" -eq 1 ] || { [ "$matrix" -eq 1 ] && [ "$matrix_postgres" -eq 1 ]; }; }; then
  eval "$(bash "$root/scripts/start-postgres.sh")"
  database="$NEBULA_TEST_POSTGRES_URL" pg_dir="$NEBULA_TEST_POSTGRES_DIR"
  trap 'bash "$root/scripts/stop-postgres.sh" "$pg_dir" >/dev/null 2>&1 || true' EXIT
fi

run_one() {  # run_one <label> <bench arguments...>
  local label="$1"; shift
  echo "== $label"
  "$bench" --bot "$bot" "$@" || { rc=$?; [ "$rc" -eq 1 ] && status=1 || exit "$rc"; }
}

if [ "$matrix" -eq 0 ]; then
  for run in $(seq 1 "$runs"); do
    run_one "run $run of $runs" "${extra[@]}" ${json:+--json "$json"} ${database:+--database "$database"}
  done
  exit "$status"
fi

[ -n "$json" ] || json="$(mktemp -t nebula-buy-matrix.XXXXXX.jsonl)"
: > "$json"
for press in buy account; do
  for network in plain tls; do
    for timing in spread simultaneous; do
      args=(--press "$press" --json "$json")
      [ "$network" = tls ] && args+=(--tls --latency-ms 60)
      [ "$timing" = simultaneous ] && args+=(--simultaneous)
      for run in $(seq 1 "$runs"); do
        run_one "$press, $network, $timing: run $run of $runs" "${args[@]}" "${extra[@]}"
      done
    done
  done
done
if [ "$matrix_postgres" -eq 1 ]; then
  for press in buy account; do
    for run in $(seq 1 "$runs"); do
      run_one "$press, plain, simultaneous, PostgreSQL: run $run of $runs" --press "$press" --simultaneous \
        --database "$database" --json "$json" "${extra[@]}"
    done
  done
fi
echo "== medians of $runs runs (all results: $json)"
python3 - "$json" <<'EOF'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
groups = {}
for r in rows:
    key = (r["press"], "HTTPS + %d ms" % r["latency_ms"] if r["tls"] else "plain",
           "simultaneous" if r["simultaneous"] else "spread over 1 s",
           "PostgreSQL" if r.get("database") == "postgres" else "SQLite")
    groups.setdefault(key, []).append(r)
print("| presses | Discord | timing | database | p50 ms | p99 ms | max ms | acknowledged | bot CPU ms/press "
      "| REST connections (TLS handshakes) | peak RSS MB | DB write transactions |")
print("| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for key, rs in groups.items():
    m = lambda f: statistics.median(r[f] for r in rs)
    who = "1,000 new, Buy Access" if key[0] == "buy" else "1,000 returning, My Account"
    acked = "/".join(str(r["acknowledged"]) for r in rs)
    print("| %s | %s | %s | %s | %.1f | %.1f | %.1f | %s | %.3f | %d | %.1f | %d |" % (
        who, key[1], key[2], key[3], m("p50_ms"), m("p99_ms"), m("max_ms"), acked, m("cpu_ms_per_press"),
        m("connections"), m("rss_peak_kib") / 1024.0, m("write_transactions")))
EOF
exit "$status"
