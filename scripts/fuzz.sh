#!/usr/bin/env bash
# Builds the libFuzzer targets (cmake preset "fuzz": clang, ASan+UBSan) and, for each target in
# fuzz/, first replays its committed corpus (fuzz/corpus/<target>/, every input once) and then
# fuzzes it for SECONDS (default 60). Fails when any target crashes, leaks, hangs or breaks a
# property; the input is saved under build/fuzz/artifacts/<target>/.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# New inputs the fuzzer finds go to build/fuzz/corpus/<target>/ (not committed). Environment:
# NEBULA_FUZZ_NICE=19 runs the fuzzers at the lowest priority; NEBULA_JOBS caps build jobs;
# NEBULA_FUZZ_SKIP_BUILD=1 uses the binaries already built; NEBULA_FUZZ_LOGS names the folder
# for the logs (default build/fuzz/logs).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
shift || true
if ! [[ "$seconds" =~ ^[0-9]+$ ]]; then
  echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]" >&2
  exit 2
fi
jobs="${NEBULA_JOBS:-$(nproc)}"
build=build/fuzz

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for source in fuzz/*.cpp; do targets+=("$(basename "$source" .cpp)"); done
fi

if [ "${NEBULA_FUZZ_SKIP_BUILD:-0}" != 1 ]; then
  echo "== fuzz: configure and build (clang, ASan+UBSan)"
  cmake --preset fuzz >/dev/null
  cmake --build --preset fuzz -j "$jobs"
fi

run=(env)
if [ -n "${NEBULA_FUZZ_NICE:-}" ]; then run=(nice -n "$NEBULA_FUZZ_NICE"); fi
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

failed=()
for target in "${targets[@]}"; do
  binary="$build/fuzz/fuzz_$target"
  seeds="fuzz/corpus/$target"
  found="$build/corpus/$target"
  artifacts="$build/artifacts/$target/"
  log="${NEBULA_FUZZ_LOGS:-$build/logs}/$target.log"
  mkdir -p "$found" "$artifacts" "$(dirname "$log")"
  if [ ! -x "$binary" ] || [ ! -d "$seeds" ]; then
    echo "fuzz: $target: missing $binary or $seeds" >&2
    failed+=("$target")
    continue
  fi
  # Every committed input once: crashes found earlier stay fixed.
  mapfile -t inputs < <(find "$seeds" -type f | sort)
  if [ ${#inputs[@]} -eq 0 ]; then
    echo "fuzz: $target: fuzz/corpus/$target has no inputs" >&2
    failed+=("$target")
    continue
  fi
  if ! "${run[@]}" "$binary" -artifact_prefix="$artifacts" "${inputs[@]}" >"$log" 2>&1; then
    echo "fuzz: $target: FAILED replaying fuzz/corpus/$target (log: $log)" >&2
    tail -n 30 "$log" >&2
    failed+=("$target")
    continue
  fi
  replayed=${#inputs[@]}
  if [ "$seconds" -gt 0 ]; then
    if ! "${run[@]}" "$binary" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -max_len=8192 \
        -print_final_stats=1 -artifact_prefix="$artifacts" "$found" "$seeds" >"$log" 2>&1; then
      echo "fuzz: $target: FAILED while fuzzing (log: $log; input saved in $artifacts)" >&2
      tail -n 40 "$log" >&2
      failed+=("$target")
      continue
    fi
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    echo "fuzz: $target: ok, $replayed corpus inputs replayed, ${execs:-0} runs in ${seconds}s, cov ${cov:-?} ft ${ft:-?}"
  else
    echo "fuzz: $target: ok, $replayed corpus inputs replayed"
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets passed"
