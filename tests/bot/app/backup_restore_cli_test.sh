#!/usr/bin/env bash
# The restore walkthrough of docs/operations.md ("Restoring on a fresh machine"), as an operator
# does it: the daily backup job seals the database and BACKUP_COMMAND copies the archive off the
# machine; on a fresh machine with only the archive and the passphrase, `nebula-bot backup restore`
# brings back the same database, which `migrate --check` accepts. A wrong passphrase, a changed
# archive and an existing file are refused, leaving nothing behind and nothing overwritten. With
# NEBULA_TEST_POSTGRES_URL set, the same for a PostgreSQL database (pg_dump's archive).
set -euo pipefail
bot="$1"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# ---- the old machine ----
old="$dir/old"
offsite="$dir/offsite"
mkdir -p "$old" "$offsite"
cat >"$old/bot.env" <<ENV
DISCORD_TOKEN=test-token-0123456789abcdef
DISCORD_CLIENT_ID=123456789012345678
DISCORD_GUILD_ID=123456789012345678
API_GATEWAY_URL=https://vpn1.example.com:8443
API_SECRET_KEY=0123456789abcdef0123456789abcdef0123456789abcdef
ADMIN_ROLE_ID=123456789012345678
REVIEW_CHANNEL_ID=123456789012345678
BILLING_CHANNEL_ID=123456789012345678
MAIN_PANEL_CHANNEL_ID=123456789012345678
ORDERS_CATEGORY_ID=123456789012345678
DATABASE_URL=sqlite:$old/bot.db
DATA_DIR=$old
LOG_DIR=$old/log
BACKUP_PASSPHRASE=correct horse battery staple
BACKUP_COMMAND=cp "\$1" $offsite/
ENV
"$bot" --env-file "$old/bot.env" migrate >/dev/null || fail "migrate failed"
sqlite3 "$old/bot.db" "INSERT INTO users (discord_id, username, created_at, updated_at) VALUES ('500000000000000011', 'alice', 1735689600, 1735689600);" ||
  fail "could not add a customer"
"$bot" --env-file "$old/bot.env" jobs run backup >"$dir/out" 2>&1 || { cat "$dir/out"; fail "the backup job failed"; }
grep -q "BACKUP_COMMAND done" "$dir/out" || { cat "$dir/out"; fail "the job did not run BACKUP_COMMAND"; }
archive="$(ls "$offsite")"
[[ "$archive" == bot-*.db.nlbk ]] || fail "offsite holds '$archive', not one archive"
ls "$old/backups" | grep -q '\.nlbk$' && fail "the archive was left in the backups folder"
if grep -q "alice" "$offsite/$archive"; then fail "the archive is not encrypted"; fi

# ---- a fresh machine: the archive and the passphrase only ----
new="$dir/new"
mkdir -p "$new"
cp "$offsite/$archive" "$new/"
printf 'BACKUP_PASSPHRASE=correct horse battery staple\n' >"$new/bot.env"
cd "$new"

printf 'BACKUP_PASSPHRASE=not the passphrase at all\n' >"$new/wrong.env"
if "$bot" --env-file "$new/wrong.env" backup restore "$archive" >"$dir/out" 2>&1; then fail "a wrong passphrase was accepted"; fi
grep -q "wrong passphrase" "$dir/out" || { cat "$dir/out"; fail "no clear error for a wrong passphrase"; }
[[ -z "$(ls "$new" | grep -v -e '\.nlbk$' -e '\.env$')" ]] || fail "a failed restore left $(ls "$new")"

cp "$archive" changed.nlbk
printf '\x01' | dd of=changed.nlbk bs=1 seek=200 conv=notrunc status=none
if "$bot" --env-file "$new/bot.env" backup restore changed.nlbk >"$dir/out" 2>&1; then fail "a changed archive was accepted"; fi

"$bot" --env-file "$new/bot.env" backup restore "$archive" >"$dir/out" 2>&1 || { cat "$dir/out"; fail "restore failed"; }
restored="${archive%.nlbk}"
[[ -s "$restored" ]] || fail "restore did not create $restored"
grep -q "integrity ok; 1 users" "$dir/out" || { cat "$dir/out"; fail "restore did not report its check"; }
# The same data (the job's own bookkeeping, written after the copy, aside).
dump() { sqlite3 "$1" .dump | grep -v 'job_runs'; }
[[ "$(dump "$old/bot.db")" == "$(dump "$restored")" ]] || fail "the restored database differs"
sqlite3 "$restored" "SELECT username FROM users" | grep -qx alice || fail "the customer is not in the restored database"
DATABASE_URL="sqlite:$new/$restored" "$bot" --env-file "$new/bot.env" migrate --check >/dev/null ||
  fail "the restored database is not up to date"

# Never over an existing file: a second restore to the same name is refused and changes nothing.
before="$(sha256sum "$restored")"
if "$bot" --env-file "$new/bot.env" backup restore "$archive" >"$dir/out" 2>&1; then fail "restore overwrote a file"; fi
grep -q "already exists" "$dir/out" || { cat "$dir/out"; fail "no clear error for an existing file"; }
[[ "$(sha256sum "$restored")" == "$before" ]] || fail "the existing file changed"

# ---- PostgreSQL (when the tests have a server): pg_dump's archive, sealed, restored, listed ----
if [[ -n "${NEBULA_TEST_POSTGRES_URL:-}" ]] && command -v pg_dump >/dev/null && command -v psql >/dev/null; then
  schema="t_cli_$$"
  psql -q "$NEBULA_TEST_POSTGRES_URL" -c "CREATE SCHEMA $schema" || fail "cannot create a schema"
  trap 'psql -q "$NEBULA_TEST_POSTGRES_URL" -c "DROP SCHEMA IF EXISTS '"$schema"' CASCADE" >/dev/null 2>&1; rm -rf "$dir"' EXIT
  separator='?'; [[ "$NEBULA_TEST_POSTGRES_URL" == *\?* ]] && separator='&'
  pg="$dir/pg"
  mkdir -p "$pg" "$dir/pg-offsite"
  sed -e "s|^DATABASE_URL=.*|DATABASE_URL=$NEBULA_TEST_POSTGRES_URL${separator}options=-csearch_path%3D$schema|" \
      -e "s|^DATA_DIR=.*|DATA_DIR=$pg|" -e "s|^BACKUP_COMMAND=.*|BACKUP_COMMAND=cp \"\\\$1\" $dir/pg-offsite/|" \
      "$old/bot.env" >"$pg/bot.env"
  "$bot" --env-file "$pg/bot.env" migrate >/dev/null || fail "migrate on PostgreSQL failed"
  "$bot" --env-file "$pg/bot.env" jobs run backup >"$dir/out" 2>&1 || { cat "$dir/out"; fail "the PostgreSQL backup failed"; }
  pg_archive="$(ls "$dir/pg-offsite")"
  [[ "$pg_archive" == bot-*.dump.nlbk ]] || fail "the PostgreSQL archive is '$pg_archive'"
  (cd "$new" && "$bot" --env-file "$new/bot.env" backup restore "$dir/pg-offsite/$pg_archive") >"$dir/out" 2>&1 ||
    { cat "$dir/out"; fail "restoring the PostgreSQL archive failed"; }
  grep -q "checked: pg_restore reads the dump" "$dir/out" || { cat "$dir/out"; fail "the dump was not checked"; }
  grep -q "pg_restore --no-owner" "$dir/out" || { cat "$dir/out"; fail "no pg_restore command shown"; }
  [[ "$(head -c 5 "$new/${pg_archive%.nlbk}")" == PGDMP ]] || fail "the restored file is not pg_dump's archive"
fi
echo "backup restore CLI: ok"
