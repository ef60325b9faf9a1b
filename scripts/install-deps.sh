#!/usr/bin/env bash
# Installs every build, test and benchmark dependency of NebulaLinks from Debian 12 packages.
# Idempotent: packages already present are skipped. Run as root or with sudo available.
set -euo pipefail

# Node packages for the Discord contract test, pinned by package-lock.json; `npm ci` only when
# the lock file changed since the last install.
contract="$(cd "$(dirname "$0")" && pwd)/discord-contract"
if [ -f "$contract/package-lock.json" ] &&
   ! cmp -s "$contract/package-lock.json" "$contract/node_modules/.nebula-installed-lock"; then
  echo "install-deps: npm ci in scripts/discord-contract"
  (cd "$contract" && npm ci --no-audit --no-fund && cp package-lock.json node_modules/.nebula-installed-lock)
fi

packages=(
  build-essential cmake ninja-build ccache pkg-config git ca-certificates openssl
  clang-format clang-tidy
  clang libclang-rt-14-dev libfuzzer-14-dev
  libboost1.81-dev libboost-url1.81-dev
  libssl-dev libsqlite3-dev sqlite3 libpq-dev postgresql libnghttp2-dev
  nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev
  libqrencode-dev libpng-dev tzdata libhowardhinnant-date-dev
  libcairo2-dev libpango1.0-dev fonts-noto-core fonts-dejavu-core
  libgtest-dev libgmock-dev libbenchmark-dev
  wrk curl procps jq
  systemd
)

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y --no-install-recommends "${missing[@]}"; then
  echo "install-deps: apt-get install failed; refreshing the package lists and trying again" >&2
  $SUDO apt-get update
  if ! $SUDO apt-get install -y --no-install-recommends "${missing[@]}"; then
    echo "install-deps: could not install: ${missing[*]}" >&2
    echo "install-deps: this project needs Debian 12 (bookworm) package repositories" >&2
    exit 1
  fi
fi
echo "install-deps: done"
