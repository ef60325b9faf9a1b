#!/usr/bin/env bash
# nebula-gateway benchmark on loopback (see BENCHMARKS.md, section "nebula-gateway").
#
# Starts the fake 3x-ui panel and, for every measurement, a fresh nebula-gateway (plain HTTP and
# HTTPS), then drives it with nebula-loadgen at C keep-alive connections:
#   signed    GET /api/health       v1 signature with a fresh nonce on every request
#   baseline  GET /bench/baseline   the same server, head screening and JSON answer, no auth
# and prints, per transport: requests/s, the signed/baseline ratio, latency percentiles and the
# gateway's memory under load (VmHWM at the end, VmRSS sampled every 0.2 s), against the targets.
#
# Options (all optional):
#   --runs N           measurements per scenario (default 3); scenarios interleave run by run
#   --duration S       measured seconds per measurement (default 10)
#   --warmup S         warm-up seconds before measuring (default 2)
#   --connections C    keep-alive connections (default 64)
#   --modes LIST       "plain tls" (default), or one of them
#   --server-cpu N     pin the gateway and fake panel to this CPU (default 0; "none": no pinning)
#   --loadgen-cpu N    pin nebula-loadgen to this CPU (default 1; "none": no pinning)
#   --build-dir DIR    release build directory (default build/bench-release; configured if absent)
#   --out FILE         also write every measurement as JSON lines to FILE
#   --engine E         nebula-loadgen engine: raw (default) or client
#   --gateway-bin F    measure this nebula-gateway executable instead of the one built here (A/B tests)
#   --nice N           run the gateway, panel and load generator at this nice level (negative: root)
#   --paced-only       with --rate: measure only the paced scenario (for the p99 figure)
#   --realtime         run them at real-time priority instead (SCHED_FIFO 1, root): on a machine
#                      busy with other work this stands in for a quiet one
#   --rate R           also measure signed requests open loop at R req/s in total (scenario "paced";
#                      target: p99 <= 2 ms)
#   --memory-dir DIR   keep the gateway's /proc/PID/smaps_rollup, smaps and status at the end of
#                      every measurement in DIR (MODE-SCENARIO-RUN.*), to see where the memory went
#
# Exit status: 0 when every target is met by the median run, 1 when one is missed, 2 on setup errors.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
runs=3 duration=10 warmup=2 connections=64 modes="plain tls" server_cpu=0 loadgen_cpu=1
build_dir="$root/build/bench-release" out_file="" engine=raw rate=0 gateway_override="" nice_level=0 memory_dir="" realtime=0 paced_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --modes) modes="$2"; shift 2 ;;
    --server-cpu) server_cpu="$2"; shift 2 ;;
    --loadgen-cpu) loadgen_cpu="$2"; shift 2 ;;
    --build-dir) build_dir="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"; shift 2 ;;
    --out) out_file="$2"; shift 2 ;;
    --engine) engine="$2"; shift 2 ;;
    --rate) rate="$2"; shift 2 ;;
    --nice) nice_level="$2"; shift 2 ;;
    --realtime) realtime=1; shift ;;
    --paced-only) paced_only=1; shift ;;
    --memory-dir) memory_dir="$2"; mkdir -p "$memory_dir"; shift 2 ;;
    --gateway-bin) gateway_override="$(realpath "$2")"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

if [ "$paced_only" = 1 ] && [ "$rate" = 0 ]; then echo "run.sh: --paced-only needs --rate" >&2; exit 2; fi
for tool in openssl jq taskset; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is required (scripts/install-deps.sh)" >&2; exit 2; }
done

# ---- build (a no-op when up to date) ----
gateway_bin="$build_dir/src/gateway/nebula-gateway"
panel_bin="$build_dir/tests/fakes/xui/nebula-fake-xui"
loadgen_bin="$build_dir/bench/gateway/nebula-loadgen"
build_log="$(mktemp "${TMPDIR:-/tmp}/nebula-gwbench-build.XXXXXX")"
if { [ -f "$build_dir/CMakeCache.txt" ] || cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
       -DNEBULA_BUILD_TESTS=OFF; } >"$build_log" 2>&1 &&
   cmake --build "$build_dir" --target nebula-gateway nebula-fake-xui nebula-loadgen -j2 >>"$build_log" 2>&1; then
  rm -f "$build_log"
elif [ -x "$gateway_bin" ] && [ -x "$panel_bin" ] && [ -x "$loadgen_bin" ]; then
  # Unrelated work in progress elsewhere in the tree can break the build; say so and go on.
  echo "run.sh: WARNING: the build failed, measuring the binaries already in $build_dir:" >&2
  tail -5 "$build_log" >&2
  rm -f "$build_log"
else
  cat "$build_log" >&2
  rm -f "$build_log"
  exit 2
fi
[ -n "$gateway_override" ] && gateway_bin="$gateway_override"

pin() {  # the command prefix that pins to CPU $1 and applies the nice level
  local prefix=""
  [ "$nice_level" != 0 ] && prefix="nice -n $nice_level "
  [ "$realtime" = 1 ] && prefix="chrt -f 1 "
  [ "$1" = none ] || prefix="${prefix}taskset -c $1"
  echo "$prefix"
}
server_pin=$(pin "$server_cpu")
loadgen_pin=$(pin "$loadgen_cpu")

work="$(mktemp -d "${TMPDIR:-/tmp}/nebula-gwbench.XXXXXX")"
panel_pid="" gateway_pid="" sampler_pid=""
stop() {  # stop <pid>: SIGTERM, then wait for it
  [ -n "$1" ] || return 0
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
cleanup() {
  stop "$sampler_pid"
  stop "$gateway_pid"
  stop "$panel_pid"
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_for_file() {  # wait_for_file FILE PID NAME: bounded poll (10 s) for a ready file
  for _ in $(seq 1 200); do
    [ -s "$1" ] && return 0
    kill -0 "$2" 2>/dev/null || { echo "run.sh: $3 exited during start-up:" >&2; cat "$work"/*.log >&2; exit 2; }
    sleep 0.05
  done
  echo "run.sh: $3 did not become ready within 10 s" >&2
  exit 2
}

# ---- throw-away certificate (ECDSA P-256, as a current ACME client issues) ----
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
cert_sha256=$(openssl x509 -in "$work/cert.pem" -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1)

# ---- fake 3x-ui panel (the health route's panel check is cached for HEALTH_CACHE_SECONDS) ----
$server_pin "$panel_bin" --mode v3 --username bench --password bench-panel-password \
  --ready-file "$work/panel.json" >"$work/panel.log" 2>&1 &
panel_pid=$!
wait_for_file "$work/panel.json" "$panel_pid" "nebula-fake-xui"
panel_url=$(jq -r .url "$work/panel.json")

key="$(openssl rand -hex 32)"
export NEBULA_BENCH_KEY="$key"

# start_gateway MODE: a fresh gateway per measurement, so VmHWM belongs to that measurement alone.
start_gateway() {
  local mode="$1" env="$work/gateway.env"
  rm -f "$work/gateway.json"
  {
    echo "API_SECRET_KEY=$key"
    echo "PANEL_URL=$panel_url"
    echo "PANEL_USERNAME=bench"
    echo "PANEL_PASSWORD=bench-panel-password"
    echo "PUBLIC_HOST=vpn.example.com"
    echo "BIND_ADDRESS=127.0.0.1"
    echo "PORT=0"
    echo "RATE_LIMIT_PER_MINUTE=1000000"
    # Every load connection comes from 127.0.0.1: room for all of them from that one address.
    echo "MAX_CONNECTIONS=$((connections * 2 + 16))"
    echo "MAX_CONNECTIONS_PER_IP=$((connections + 8))"
    echo "REPLAY_CACHE_SIZE=5000000"
    echo "HEALTH_CACHE_SECONDS=5"
    echo "BENCH_BASELINE_ROUTE=true"
    echo "LOG_LEVEL=warn"
    echo "LOG_DIR=$work/logs"
    if [ "$mode" = plain ]; then
      echo "PLAIN_HTTP=true"
    else
      echo "SSL_CERT_PATH=$work/cert.pem"
      echo "SSL_KEY_PATH=$work/key.pem"
    fi
  } >"$env"
  # Only the file's settings: keep the caller's environment out of the gateway's configuration.
  $server_pin env -i "$gateway_bin" --env "$env" --ready-file "$work/gateway.json" >"$work/gateway.log" 2>&1 &
  gateway_pid=$!
  wait_for_file "$work/gateway.json" "$gateway_pid" "nebula-gateway"
  gateway_port=$(jq -r .port "$work/gateway.json")
}

cpu_ticks() {  # cpu_ticks PID: user + system CPU time in clock ticks
  awk '{ print $14 + $15 }' "/proc/$1/stat"
}
clk_tck=$(getconf CLK_TCK)

status_kb() {  # status_kb PID FIELD: a /proc/PID/status memory field in kB
  awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0
}

# measure MODE SCENARIO RUN: one measurement, appended to $work/results.jsonl
measure() {
  local mode="$1" scenario="$2" run="$3" scheme=http path tls_args=() load_args=()
  [ "$mode" = tls ] && scheme=https && tls_args=(--pin-sha256 "$cert_sha256")
  case "$scenario" in
    signed) path=/api/health; load_args=(--sign) ;;
    paced) path=/api/health; load_args=(--sign --rate "$rate") ;;
    baseline) path=/bench/baseline ;;
  esac
  start_gateway "$mode"
  local idle_rss; idle_rss=$(status_kb "$gateway_pid" VmRSS)
  : >"$work/rss.samples"
  (
    while kill -0 "$gateway_pid" 2>/dev/null; do
      status_kb "$gateway_pid" VmRSS >>"$work/rss.samples"
      sleep 0.2
    done
  ) &
  sampler_pid=$!
  local cpu_before; cpu_before=$(cpu_ticks "$gateway_pid")
  $loadgen_pin "$loadgen_bin" --url "$scheme://127.0.0.1:$gateway_port$path" "${tls_args[@]}" \
    "${load_args[@]}" --connections "$connections" --duration "$duration" --warmup "$warmup" \
    --engine "$engine" --json >"$work/loadgen.json" || true
  local cpu_used=$(( $(cpu_ticks "$gateway_pid") - cpu_before ))
  local hwm; hwm=$(status_kb "$gateway_pid" VmHWM)
  local rss_max; rss_max=$(sort -n "$work/rss.samples" | tail -1)
  if [ -n "$memory_dir" ]; then
    for f in smaps_rollup smaps status; do cp "/proc/$gateway_pid/$f" "$memory_dir/$mode-$scenario-$run.$f"; done
  fi
  stop "$sampler_pid"; sampler_pid=""
  stop "$gateway_pid"; gateway_pid=""
  if [ ! -s "$work/loadgen.json" ]; then
    echo "run.sh: nebula-loadgen produced no report for $mode $scenario" >&2
    exit 2
  fi
  jq -c --arg mode "$mode" --arg scenario "$scenario" --argjson run "$run" --argjson hwm "$hwm" \
    --argjson rss "${rss_max:-0}" --argjson idle "$idle_rss" \
    --argjson cpu "$cpu_used" --argjson tck "$clk_tck" \
    '{mode: $mode, scenario: $scenario, run: $run, rps: .requests_per_s, requests: .requests,
      responses_total: .responses_total, p50_ms: .latency_ms.p50, p99_ms: .latency_ms.p99, p999_ms: .latency_ms.p99_9,
      max_ms: .latency_ms.max, non_2xx: .non_2xx, errors: .errors,
      idle_rss_kb: $idle, vmrss_max_kb: $rss, vmhwm_kb: $hwm,
      gateway_cpu_us: ($cpu * 1e6 / $tck / ([.responses_total, 1] | max) | round),
      loadgen_cpu_us: (.cpu_us_per_response | round)}' "$work/loadgen.json" \
    | tee -a "$work/results.jsonl" \
    | jq -r '"  \(.mode) \(.scenario) run \(.run): \(.rps | floor) req/s  p50 \(.p50_ms) ms  p99 \(.p99_ms) ms  p99.9 \(.p999_ms) ms  max \(.max_ms) ms  non-2xx \(.non_2xx)  errors \(.errors)  VmRSS max \(.vmrss_max_kb) kB  VmHWM \(.vmhwm_kb) kB  CPU/response: gateway \(.gateway_cpu_us) us, loadgen \(.loadgen_cpu_us) us"'
}

echo "nebula-gateway benchmark: $connections connections, ${warmup}s warm-up + ${duration}s measured, $runs run(s),"
echo "  gateway $gateway_bin"
echo "  gateway+panel on CPU $server_cpu, loadgen on CPU $loadgen_cpu, nice $nice_level$([ "$realtime" = 1 ] && echo ", real-time (SCHED_FIFO 1)"), engine $engine; $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
: >"$work/results.jsonl"
for mode in $modes; do
  for run in $(seq 1 "$runs"); do
    # Alternate the order so slow drift in background load does not favour one scenario.
    if [ $((run % 2)) -eq 1 ]; then order="signed baseline"; else order="baseline signed"; fi
    [ "$rate" != 0 ] && order="$order paced"
    [ "$paced_only" = 1 ] && order=paced
    for scenario in $order; do measure "$mode" "$scenario" "$run"; done
  done
done
[ -n "$out_file" ] && cp "$work/results.jsonl" "$out_file"

# ---- summary: medians with the range over runs, and the targets ----
# The ratio is taken run by run (signed and baseline of one run ran back to back). "CPU-bound
# capacity" divides the gateway's own CPU time by the responses it sent, so it does not depend on
# how much of the CPU the machine's other work left to the gateway.
echo
echo "summary (median [min..max] over $runs run(s)); load average now $(cut -d' ' -f1-3 /proc/loadavg)"
jq -s -r '
  def median: sort | if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end;
  def r2: . * 100 | round / 100;
  def span(f): (map(f) | "\(median | r2) [\(min | r2)..\(max | r2)]");
  def latency: "p50 ms \(span(.p50_ms))  p99 ms \(span(.p99_ms))  p99.9 ms \(span(.p999_ms))";
  group_by(.mode)[] as $m
  | ($m | map(select(.scenario == "signed"))) as $s
  | ($m | map(select(.scenario == "baseline"))) as $b
  | ($m | map(select(.scenario == "paced"))) as $p
  | (($s | length) > 0 and ($b | length) > 0) as $closed
  | ([range(0; [$s, $b] | map(length) | min)] | map($s[.].rps / $b[.].rps)) as $ratios
  | (if $closed then $ratios | median else 1 end) as $ratio
  | (if $closed then ($b | map(.gateway_cpu_us) | median) / ($s | map(.gateway_cpu_us) | median) else 1 end) as $cpu_ratio
  | (if $closed then $s | map(.p99_ms) | median else 0 end) as $p99
  | ($m | map(.vmhwm_kb) | max) as $hwm
  | ($m | map(.non_2xx + .errors) | add) as $bad
  | (if ($p | length) > 0 then ($p | map(.p99_ms) | median) else 0 end) as $paced_p99
  | "\($m[0].mode):",
    (if $closed then "  signed    req/s \($s | span(.rps))  \($s | latency)",
                     "  baseline  req/s \($b | span(.rps))  \($b | latency)" else empty end),
    (if ($p | length) > 0 then "  paced     signed, open loop at \($p[0].rps | round) req/s:  \($p | latency)" else empty end),
    (if $closed then "  CPU       gateway us/response: signed \($s | span(.gateway_cpu_us))  baseline \($b | span(.gateway_cpu_us));  loadgen us/response: signed \($s | span(.loadgen_cpu_us))  baseline \($b | span(.loadgen_cpu_us))" else empty end),
    "  memory    VmHWM kB: \(if $closed then "signed \($s | span(.vmhwm_kb))  baseline \($b | span(.vmhwm_kb))" else "paced \($p | span(.vmhwm_kb))" end);  VmRSS sampled max kB \($m | map(.vmrss_max_kb) | max);  idle kB \($m | map(.idle_rss_kb) | median)",
    (if $closed then "  ratio     signed/baseline req/s per run \($ratios | map(r2))  median \($ratio | r2);  CPU-bound capacity ratio (baseline/signed gateway CPU per response) \($cpu_ratio | r2)" else empty end),
    "  targets   \(if $closed then "ratio >= 0.85: \(if $ratio >= 0.85 then "met" else "MISSED" end) (\($ratio | r2));  p99 <= 5 ms (signed, median run): \(if $p99 <= 5 then "met" else "MISSED" end) (\($p99 | r2) ms);  " else "" end)RSS <= 20 MB (worst VmHWM): \(if $hwm <= 20480 then "met" else "MISSED" end) (\($hwm / 1024 | r2) MB);  non-2xx + errors: \($bad)\(if ($p | length) > 0 then ";  paced p99 <= 2 ms (median run): \(if $paced_p99 <= 2 then "met" else "MISSED" end) (\($paced_p99 | r2) ms)" else "" end)",
    "RESULT \($m[0].mode) \(if $ratio >= 0.85 and $p99 <= 5 and $hwm <= 20480 and $bad == 0 and $paced_p99 <= 2 then "pass" else "fail" end)"
' "$work/results.jsonl" | tee "$work/summary.txt"
! grep -q '^RESULT .* fail' "$work/summary.txt"
