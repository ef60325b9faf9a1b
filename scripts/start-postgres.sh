#!/usr/bin/env bash
# Starts a throw-away PostgreSQL cluster for the tests: initdb into a fresh temporary directory,
# listening on 127.0.0.1 only, on a free port; creates the role `nebula` and the database
# `nebula_test`. PostgreSQL refuses to run as root, so when run as root the cluster belongs to
# the `postgres` user. Prints two lines on stdout, ready for `eval`:
#   export NEBULA_TEST_POSTGRES_URL=postgres://nebula:<password>@127.0.0.1:<port>/nebula_test
#   export NEBULA_TEST_POSTGRES_DIR=<directory>   (pass it to scripts/stop-postgres.sh)
# Exits non-zero (and leaves nothing behind) when the server cannot be started.
set -euo pipefail

bindir=""
for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
  if [ -x "$candidate/initdb" ] && [ -x "$candidate/pg_ctl" ]; then bindir="$candidate"; break; fi
done
if [ -z "$bindir" ]; then
  echo "start-postgres: no PostgreSQL server found under /usr/lib/postgresql (run scripts/install-deps.sh)" >&2
  exit 1
fi

dir="$(mktemp -d "${TMPDIR:-/tmp}/nebula-pg.XXXXXX")"
as_owner=()
if [ "$(id -u)" -eq 0 ]; then
  chown postgres:postgres "$dir"
  as_owner=(runuser -u postgres --)
fi
chmod 700 "$dir"

cleanup_on_error() {
  "${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup_on_error ERR

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

"${as_owner[@]}" "$bindir/initdb" -D "$dir/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
  --no-sync -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
  { echo "start-postgres: initdb failed:" >&2; cat "$dir/initdb.log" >&2; false; }

started=""
for _ in 1 2 3 4 5 6 7 8 9 10; do
  port=$((20000 + RANDOM % 40000))
  port_in_use "$port" && continue
  if "${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
      start >/dev/null 2>&1; then
    started=yes
    break
  fi
done
if [ -z "$started" ]; then
  echo "start-postgres: the server did not start; its log:" >&2
  cat "$dir/server.log" >&2 || true
  false
fi

password="$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')"
"${as_owner[@]}" psql -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d postgres >/dev/null <<SQL
CREATE ROLE nebula LOGIN PASSWORD '$password';
CREATE DATABASE nebula_test OWNER nebula;
SQL

url="postgres://nebula:$password@127.0.0.1:$port/nebula_test"
echo "$url" >"$dir/url"
echo "export NEBULA_TEST_POSTGRES_URL=$url"
echo "export NEBULA_TEST_POSTGRES_DIR=$dir"
