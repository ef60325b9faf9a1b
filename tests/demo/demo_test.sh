#!/usr/bin/env bash
# The local demo end to end (--once, in a temporary folder) from an already built tree:
#   demo_test.sh SOURCE_DIR BUILD_DIR
# Passes when the walk-through finished, the transcript holds the customer's VLESS link and the
# files the demo promises exist: QR code and chart PNGs, the CSV export and the receipts; and the
# free trial and the promo code (entered, paid at the discounted amount, approved) were walked
# through; the admin searched a customer, gave an account, refunded an order and read the revenue
# chart again; the customer drew their usage chart in My Account. And that the demo went live the
# reseller's way: `nebula-gateway init`, a bot.env with the token only, the invite, /admin setup
# and init's line pasted; the delivered link is a client on the fake 3x-ui panel.
set -euo pipefail
src="$1"
build="$2"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out="$tmp/demo-output"

if ! bash "$src/tests/fakes/demo/demo.sh" --once --bin-dir "$build" --out "$out" >"$tmp/stdout.txt" 2>&1; then
  cat "$tmp/stdout.txt"
  echo "FAIL: the demo did not finish" >&2
  exit 1
fi
fail() { cat "$tmp/stdout.txt"; echo "FAIL: $*" >&2; exit 1; }
is_png() { [ -s "$1" ] && [ "$(head -c 4 "$1" | tail -c 3)" = "PNG" ]; }

grep -q 'vless://' "$out/transcript.txt" || fail "no VLESS link in the transcript"
grep -q 'The customer.s VLESS link: vless://' "$out/transcript.txt" || fail "no link in the result"
is_png "$out/qr.png" || fail "qr.png is missing or not a PNG"
is_png "$out/customer-receipt.png" || fail "customer-receipt.png is missing or not a PNG"
charts=$(find "$out" -maxdepth 1 -name '*.png' ! -name 'qr*.png' ! -name '*receipt*' | wc -l)
[ "$charts" -ge 1 ] || fail "no chart PNG"
csv=$(find "$out" -maxdepth 1 -name '*.csv' | head -n 1)
[ -n "$csv" ] || fail "no CSV export"
grep -q 'NL-000001' "$csv" || fail "the CSV export does not list order NL-000001"
grep -q 'clicks Free trial on the main panel' "$out/transcript.txt" || fail "no free trial in the transcript"
grep -q 'types the code welcome20' "$out/transcript.txt" || fail "no promo code in the transcript"
grep -q 'runs /admin user search' "$out/transcript.txt" || fail "no customer search in the transcript"
grep -q 'Account given to' "$out/transcript.txt" || fail "no account given by the admin in the transcript"
grep -q 'is marked refunded' "$out/transcript.txt" || fail "no refund in the transcript"
grep -q 'has been refunded' "$out/transcript.txt" || fail "the customer was not told of the refund"
is_png "$out/revenue-2.png" || fail "no revenue chart after the refund (revenue-2.png)"
is_png "$out/usage.png" || fail "no usage chart from My Account (usage.png)"
grep -q 'clicks Approve on the review card of NL-' "$out/transcript.txt" || fail "the order with the promo code was not approved"
is_png "$out/promo-receipt.png" || fail "promo-receipt.png is missing or not a PNG"

# The reseller's path: init set the VPN server up, bot.env holds no id and no gateway, the owner
# invited the bot, let /admin setup create the roles and channels and pasted init's line.
svc="$out/services"
grep -q '^Done. Paste this line into Discord' "$svc/vpn-Frankfurt-1/init.log" || fail "nebula-gateway init did not finish"
grep -q '^API_SECRET_KEY=' "$svc/vpn-Frankfurt-1/etc/gateway.env" || fail "init wrote no gateway.env"
grep -q '^DISCORD_TOKEN=' "$svc/bot.env" || fail "bot.env has no token"
if grep -E '^(DISCORD_CLIENT_ID|DISCORD_GUILD_ID|[A-Z_]+_(ROLE|CHANNEL|CATEGORY)_ID|API_GATEWAY_URL|API_SECRET_KEY|API_GATEWAY_PIN_SHA256|DEFAULT_SERVER_[A-Z]+)=' "$svc/bot.env"; then
  fail "bot.env holds more than a reseller writes"
fi
grep -q 'owner Karim opens the invite link' "$out/transcript.txt" || fail "the owner did not invite the bot"
grep -q 'owner Karim clicks Create them' "$out/transcript.txt" || fail "the owner did not run /admin setup"
grep -q 'bot creates the private channel #order-review' "$out/transcript.txt" || fail "setup made no review channel"
grep -q 'admin Karim pastes /admin server add name:Frankfurt-1 ' "$out/transcript.txt" || fail "init's line was not pasted"
grep -q 'Server \*\*Frankfurt-1\*\* (Germany) added' "$out/transcript.txt" || fail "the server was not added"
grep -q "The customer's link is client .* on the Frankfurt-1 3x-ui panel" "$out/transcript.txt" ||
  fail "the customer's link is no client on the panel"
echo "demo ok: $(ls "$out" | tr '\n' ' ')"
