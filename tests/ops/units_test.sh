#!/usr/bin/env bash
# The systemd units in deploy/: `systemd-analyze verify` must accept them without a warning, and
# their hardening must score an exposure of 2.0 or less. ExecStart is pointed at the built
# binaries (verify insists the executable exists). Exit 77 (skipped) without systemd-analyze.
# usage: units_test.sh SOURCE_DIR BOT_BINARY GATEWAY_BINARY
set -euo pipefail
source_dir="$1"
declare -A binary=([nebula-bot]="$2" [nebula-gateway]="$3")

if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "systemd-analyze is not installed: skipped"
    exit 77
fi

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

for unit in nebula-bot nebula-gateway; do
    file="$source_dir/deploy/$unit.service"
    grep -q "^ExecStart=/usr/bin/$unit " "$file" || { echo "FAIL $unit: ExecStart is not /usr/bin/$unit"; exit 1; }
    for required in "User=$unit" "Restart=on-failure" "NoNewPrivileges=yes" "ProtectSystem=strict" \
        "PrivateTmp=yes" "ReadWritePaths=" "LogsDirectory=$unit" "LogsDirectoryMode=0700" "UMask=0077"; do
        grep -q "^$required" "$file" || { echo "FAIL $unit: missing $required"; exit 1; }
    done
    if grep -q "^StateDirectory=" "$file" && ! grep -q "^StateDirectoryMode=0700$" "$file"; then
        echo "FAIL $unit: StateDirectory without StateDirectoryMode=0700"; exit 1
    fi
    sed "s|/usr/bin/$unit|${binary[$unit]}|" "$file" > "$scratch/$unit.service"
    if ! out="$(systemd-analyze verify "$scratch/$unit.service" 2>&1)" || [ -n "$out" ]; then
        echo "FAIL $unit: systemd-analyze verify"
        echo "$out"
        exit 1
    fi
    if ! systemd-analyze security --offline=yes --threshold=20 "$scratch/$unit.service" >"$scratch/security.txt" 2>&1; then
        echo "FAIL $unit: exposure above 2.0"
        tail -3 "$scratch/security.txt"
        exit 1
    fi
    echo "OK   $unit: $(grep -o 'Overall exposure level.*' "$scratch/security.txt")"
done
