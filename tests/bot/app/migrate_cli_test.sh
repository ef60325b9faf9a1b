#!/usr/bin/env bash
# nebula-bot migrate on SQLite: --check only reports (creating nothing), migrate applies and
# reports, and a second --check finds the database up to date.
set -euo pipefail
bot="$1"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
cd "$dir"
export DATABASE_URL="sqlite:$dir/data/bot.db"

fail() { echo "FAIL: $*" >&2; exit 1; }

if "$bot" migrate --check >"$dir/out" 2>&1; then fail "--check on a missing database exited 0"; fi
[[ ! -e "$dir/data" ]] || fail "--check created $(ls -R "$dir/data")"

"$bot" migrate >"$dir/out" 2>&1 || { cat "$dir/out"; fail "migrate failed"; }
grep -q "migration(s) applied" "$dir/out" || { cat "$dir/out"; fail "migrate did not list what it applied"; }
[[ -s "$dir/data/bot.db" ]] || fail "migrate did not create the database"

"$bot" migrate --check >"$dir/out" 2>&1 || { cat "$dir/out"; fail "--check after migrate exited non-zero"; }
grep -q "up to date" "$dir/out" || { cat "$dir/out"; fail "--check did not say the database is up to date"; }

"$bot" migrate >"$dir/out" 2>&1 || fail "a second migrate failed"
grep -q "nothing to apply" "$dir/out" || { cat "$dir/out"; fail "a second migrate applied something"; }
# --if-new (the service's ExecStartPre): a new database gets its schema, an existing one is left.
export DATABASE_URL="sqlite:$dir/fresh/bot.db"
"$bot" migrate --if-new >"$dir/out" 2>&1 || { cat "$dir/out"; fail "migrate --if-new on a new database failed"; }
grep -q "migration(s) applied" "$dir/out" || { cat "$dir/out"; fail "--if-new did not migrate a new database"; }
"$bot" migrate --check >"$dir/out" 2>&1 || { cat "$dir/out"; fail "--check after --if-new exited non-zero"; }
"$bot" migrate --if-new >"$dir/out" 2>&1 || { cat "$dir/out"; fail "a second --if-new failed"; }
grep -q "is not new; nothing applied" "$dir/out" || { cat "$dir/out"; fail "--if-new touched an existing database"; }
echo "migrate CLI: ok"
