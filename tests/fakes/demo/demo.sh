#!/usr/bin/env bash
# The local demo on loopback, from already built binaries:
#   demo.sh --bin-dir BUILD_DIR --out DIR [--once]
# The reseller's path of README.md "Go live in ten minutes", against fakes: the fake Discord;
# per VPN server a fresh fake 3x-ui panel, `nebula-gateway init` (flags instead of questions) and
# the real nebula-gateway started with the env file init wrote; a real nebula-bot on SQLite whose
# bot.env holds the token (plus where the fakes are); its invite link. Then nebula-demo-driver
# plays the people: the owner adds the bot to an empty server, runs /admin setup, pastes init's
# line, sets a wallet number and creates a plan; customers buy and an admin runs the shop. The
# transcript and the files the bot sent land in DIR; the services' configuration, database and
# logs in DIR/services. With --once everything stops after the walk-through; otherwise the
# services keep running until Ctrl-C.
set -euo pipefail

bin=""
out=""
once=false
while [ $# -gt 0 ]; do
  case "$1" in
    --bin-dir) bin="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --once) once=true; shift ;;
    *) echo "demo.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$bin" ] && [ -n "$out" ] || { echo "usage: demo.sh --bin-dir BUILD_DIR --out DIR [--once]" >&2; exit 2; }
bin=$(cd "$bin" && pwd)

fake_xui="$bin/tests/fakes/xui/nebula-fake-xui"
fake_discord="$bin/tests/fakes/discord/nebula-fake-discord"
driver="$bin/tests/fakes/demo/nebula-demo-driver"
gateway="$bin/src/gateway/nebula-gateway"
bot="$bin/src/bot/nebula-bot"
for program in "$fake_xui" "$fake_discord" "$driver" "$gateway" "$bot"; do
  [ -x "$program" ] || { echo "demo.sh: $program is not built" >&2; exit 2; }
done

rm -rf "$out"
mkdir -p "$out/services"
out=$(cd "$out" && pwd)
svc="$out/services"

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_for_file() {  # a starting service writes its address here; bounded, fails if it died
  local file="$1" name="$2" pid="$3"
  for _ in $(seq 1 600); do
    [ -s "$file" ] && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  echo "demo: $name did not start; its log:" >&2
  tail -n 20 "$svc/$name.log" >&2 || true
  exit 1
}
port_of() { sed -E 's/.*"port":([0-9]+).*/\1/' "$1"; }

free_port() {  # a port nothing listens on now, for the gateway init sets up
  "$driver" free-port
}

echo "== Starting the services on 127.0.0.1"
"$fake_discord" --token "demo.$(openssl rand -hex 24)" >"$svc/discord.json" 2>"$svc/discord.log" &
pids+=($!)
wait_for_file "$svc/discord.json" discord "$!"
echo "   fake Discord (REST, CDN, ws)  $(sed -E 's/.*"api_base":"([^"]+)".*/\1/' "$svc/discord.json")"

# ---- On each VPN server: 3x-ui is running; the reseller runs `nebula-gateway init` ----
server_lines=()
vpn_server() {  # vpn_server NAME LOCATION: a fresh 3x-ui panel and the reseller's one command
  local name="$1" location="$2" dir="$svc/vpn-$1"
  mkdir -p "$dir"
  "$fake_xui" --mode v3 --base-path /demo/ --username admin --password demo-panel-password \
    --ready-file "$dir/panel.json" >"$dir/panel.log" 2>&1 &
  pids+=($!)
  wait_for_file "$dir/panel.json" "vpn-$name/panel" "$!"
  local panel_port
  panel_port=$(port_of "$dir/panel.json")
  echo "   fake 3x-ui panel (3.x API)    http://127.0.0.1:$panel_port/demo/  ($name)"
  # 3x-ui's own settings database, as the panel leaves it in /etc/x-ui/x-ui.db: init reads the
  # panel's port and web base path from it.
  sqlite3 "$dir/x-ui.db" \
    "CREATE TABLE settings (id integer PRIMARY KEY AUTOINCREMENT, key text, value text);
     INSERT INTO settings (key, value) VALUES ('webPort', '$panel_port'), ('webBasePath', 'demo'),
       ('webListen', '');"
  # The reseller's command, with its questions answered by flags. Only the demo's own: the files
  # go under the demo's folder instead of /etc/nebulalinks (--config-dir, --xui-db), loopback is
  # this "server's" public address and the bot's, no firewall rule and no systemd service (the
  # demo starts the gateway itself, below, with the env file init wrote).
  if ! "$gateway" init --yes --config-dir "$dir/etc" --xui-db "$dir/x-ui.db" \
    --panel-user admin --panel-password demo-panel-password --inbound 1 \
    --public-host 127.0.0.1 --bot-address 127.0.0.1 --port "$(free_port)" \
    --name "$name" --location "$location" --firewall none --no-start >"$dir/init.log" 2>&1; then
    echo "demo: nebula-gateway init failed:" >&2
    cat "$dir/init.log" >&2
    exit 1
  fi
  local line
  line=$(grep '^/admin server add ' "$dir/init.log" | head -n 1)
  [ -n "$line" ] || { echo "demo: init printed no line to paste:" >&2; cat "$dir/init.log" >&2; exit 1; }
  server_lines+=("$line")
  # What systemd does after init: the service with that env file (on loopback, logs in the demo).
  BIND_ADDRESS=127.0.0.1 LOG_DIR="$dir/logs" "$gateway" --env "$dir/etc/gateway.env" \
    --ready-file "$dir/gateway.json" >"$dir/gateway.log" 2>&1 &
  pids+=($!)
  wait_for_file "$dir/gateway.json" "vpn-$name/gateway" "$!"
  echo "   nebula-gateway (TLS, pinned)  https://127.0.0.1:$(port_of "$dir/gateway.json")  ($name, set up by init)"
}
vpn_server Frankfurt-1 Germany

# ---- On the bot machine: the token in bot.env, start, invite ----
{
  echo "# What a reseller writes: the bot's token, and nothing else the bot can look up."
  echo "DISCORD_TOKEN=$(sed -E 's/.*"token":"([^"]+)".*/\1/' "$svc/discord.json")"
  echo "# Only for the demo: Discord is the fake on loopback (its REST API, gateway and CDN),"
  "$driver" env --fake "$svc/discord.json"
  echo "# and the database, files and logs stay in the demo's folder."
  echo "DATABASE_URL=sqlite:$svc/bot.db"
  echo "DATA_DIR=$svc/data"
  echo "LOG_DIR=$svc/logs/bot"
} >"$svc/bot.env"
"$bot" --env-file "$svc/bot.env" migrate >"$svc/bot-migrate.log" 2>&1 ||
  { cat "$svc/bot-migrate.log" >&2; exit 1; }
"$bot" --env-file "$svc/bot.env" run >"$svc/bot.log" 2>&1 &
bot_pid=$!
pids+=($bot_pid)
echo "   nebula-bot (SQLite)           pid $bot_pid, configuration $svc/bot.env"
invite=$("$bot" --env-file "$svc/bot.env" invite-url 2>"$svc/invite-url.log") ||
  { cat "$svc/invite-url.log" >&2; exit 1; }

echo
server_args=()
for line in "${server_lines[@]}"; do server_args+=(--paste "$line"); done
if ! "$driver" walk --fake "$svc/discord.json" --out "$out" --bot-pid "$bot_pid" --invite "$invite" \
  "${server_args[@]}"; then
  echo "demo: the walk-through failed; the last lines of the bot's log:" >&2
  tail -n 30 "$svc/bot.log" >&2 || true
  exit 1
fi

# The customer's link is real: its id is a client on the VPN server's 3x-ui panel (asked as the
# panel's own web UI does: CSRF token, login, the clients list).
uuid=$(sed -nE "s/^The customer.s VLESS link: vless:\/\/([0-9a-f-]+)@.*/\1/p" "$out/transcript.txt")
panel="http://127.0.0.1:$(port_of "$svc/vpn-Frankfurt-1/panel.json")/demo"
jar="$svc/vpn-Frankfurt-1/panel-cookies"
csrf=$(curl -fsS -c "$jar" "$panel/csrf-token" | sed -E 's/.*"obj":"([^"]+)".*/\1/')
curl -fsS -b "$jar" -c "$jar" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
  -d '{"username":"admin","password":"demo-panel-password"}' "$panel/login" >/dev/null
curl -fsS -b "$jar" -H 'X-Requested-With: XMLHttpRequest' "$panel/panel/api/clients/list" \
  >"$svc/vpn-Frankfurt-1/clients.json"
if [ -z "$uuid" ] || ! grep -q "\"uuid\":\"$uuid\"" "$svc/vpn-Frankfurt-1/clients.json"; then
  echo "demo: the customer's link ($uuid) is no client on the Frankfurt-1 panel" >&2
  exit 1
fi
echo "The customer's link is client $uuid on the Frankfurt-1 3x-ui panel." | tee -a "$out/transcript.txt"
echo
echo "Demo files are in $out (services' configuration and logs in $svc)."
if $once; then exit 0; fi
echo "The services keep running: the fake Discord's control API is at"
echo "  $(sed -E 's/.*"cdn_base":"([^"]+)\/cdn".*/\1/' "$svc/discord.json")/_fake/requests"
echo "Press Ctrl-C to stop them all."
wait
