#!/usr/bin/env bash
# clang-tidy over the project's sources (every .cpp under src/), with the checks of .clang-tidy
# (each one an error; the file says which and why), in parallel with run-clang-tidy and the
# compile commands of the sanitized build (build/ci/compile_commands.json, written by
# `cmake --preset ci`). Any finding fails. Part of the test command (scripts/test.sh).
#
# A file that passed is not checked again while its text, every header under src/, .clang-tidy
# and the compile commands stay the same (stamps in build/<preset>/tidy-stamps), so a second run
# only checks what changed. NEBULA_TIDY_ALL=1 checks every file regardless.
set -euo pipefail
cd "$(dirname "$0")/.."

preset="${NEBULA_TEST_PRESET:-ci}"
jobs="${NEBULA_JOBS:-$(nproc)}"
build="build/$preset"
commands="$build/compile_commands.json"
tidy="$(command -v clang-tidy-14 || command -v clang-tidy || true)"
runner="$(command -v run-clang-tidy-14 || command -v run-clang-tidy || true)"
if [ -z "$tidy" ] || [ -z "$runner" ]; then
  echo "tidy: clang-tidy and run-clang-tidy are missing (bash scripts/install-deps.sh installs them)" >&2
  exit 1
fi
if [ ! -f "$commands" ]; then
  echo "tidy: $commands is missing: run 'cmake --preset $preset' first" >&2
  exit 1
fi

# What every file's result depends on besides its own text.
shared="$({
  "$tidy" --version
  cat .clang-tidy "$commands"
  find src -name '*.hpp' -o -name '*.inc' | LC_ALL=C sort | xargs cat
} | sha256sum | cut -c1-64)"
stamps="$build/tidy-stamps"
mkdir -p "$stamps"

files=()
keys=()
while IFS= read -r file; do
  key="$(printf '%s %s' "$shared" "$(sha256sum < "$file" | cut -c1-64)" | sha256sum | cut -c1-64)"
  if [ "${NEBULA_TIDY_ALL:-0}" != 1 ] && [ -f "$stamps/$key" ]; then continue; fi
  files+=("$file")
  keys+=("$key")
done < <(find src -name '*.cpp' | LC_ALL=C sort)

total="$(find src -name '*.cpp' | wc -l)"
if [ ${#files[@]} -eq 0 ]; then
  echo "tidy: all $total files unchanged since they passed"
  exit 0
fi
echo "tidy: checking ${#files[@]} of $total files with $jobs jobs"

# run-clang-tidy takes regular expressions matched against the compile commands' file names
# (paths here hold letters, digits and / _ - . +).
patterns=()
for file in "${files[@]}"; do
  patterns+=("^$(printf '%s' "$PWD/$file" | sed 's/[.+]/\\&/g')\$")
done
# The compile commands are g++'s: clang does not know some of its warning flags, and its constexpr
# step limit is lower than g++'s operation limit (2^25), which i18n.cpp's catalogue checks need.
log="$build/tidy.log"
status=0
"$runner" -clang-tidy-binary "$tidy" -p "$build" -j "$jobs" -quiet \
  -extra-arg=-Wno-unknown-warning-option -extra-arg=-fconstexpr-steps=33554432 "${patterns[@]}" \
  > "$log" 2>&1 || status=$?
sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -v ' warnings\? generated\.$' || true

# run-clang-tidy prints each file's command line, then what clang-tidy said about it: a file
# with no "error:" in its part passed and gets its stamp, so a new run checks only the others.
passed="$(sed 's/\x1b\[[0-9;]*m//g' "$log" | awk -v tidy="$tidy" '
  index($0, tidy " ") == 1 { if (file != "" && !bad) print file; file = $NF; bad = 0; next }
  /(^|: )error: / { bad = 1 }
  END { if (file != "" && !bad) print file }')"
checked=0
for i in "${!files[@]}"; do
  if grep -qxF "$PWD/${files[$i]}" <<< "$passed"; then
    : > "$stamps/${keys[$i]}"
    checked=$((checked + 1))
  fi
done
if [ "$status" -ne 0 ] || [ "$checked" -ne ${#files[@]} ]; then
  echo "tidy: $((${#files[@]} - checked)) of ${#files[@]} files have problems (above); the checks and the reasons are in .clang-tidy" >&2
  exit 1
fi
echo "tidy: ${#files[@]} files pass"
