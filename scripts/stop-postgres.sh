#!/usr/bin/env bash
# Stops a cluster started by scripts/start-postgres.sh and deletes its directory.
# Usage: scripts/stop-postgres.sh [directory]   (default: $NEBULA_TEST_POSTGRES_DIR)
set -euo pipefail

dir="${1:-${NEBULA_TEST_POSTGRES_DIR:-}}"
if [ -z "$dir" ] || [ ! -d "$dir/data" ]; then
  echo "stop-postgres: no cluster directory given (or it has no data/)" >&2
  exit 1
fi
bindir=""
for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
  if [ -x "$candidate/pg_ctl" ]; then bindir="$candidate"; break; fi
done
as_owner=()
[ "$(id -u)" -eq 0 ] && as_owner=(runuser -u postgres --)
"${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
rm -rf "$dir"
