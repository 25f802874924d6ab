#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs every build and test dependency from Debian packages (and npm for test
# clients). Idempotent: packages already present are skipped by apt-get and npm.
set -euo pipefail
cd "$(dirname "$0")/.."

want_tests=0
[ "${1:-}" = "--tests" ] && want_tests=1

build_pkgs=(
  build-essential cmake ninja-build pkg-config
  libboost1.81-dev libssl-dev openssl libc-ares-dev libsqlite3-dev
  libtomlplusplus-dev libcli11-dev libfmt-dev libspdlog-dev nlohmann-json3-dev
  libsodium-dev libidn2-dev libpsl-dev libcrypt-dev
)
test_pkgs=(
  googletest libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-pytest swaks libnet-ssleay-perl libio-socket-inet6-perl libnet-dns-perl libauthen-sasl-perl
  nodejs testssl.sh dnsmasq-base python3-aiosmtpd chromium
  python3-dkim python3-spf python3-dnspython clang libclang-rt-14-dev
)

missing=()
pkgs=("${build_pkgs[@]}")
[ "$want_tests" = 1 ] && pkgs+=("${test_pkgs[@]}")
# Debian's nodejs package has no npm; add Debian's npm only where no npm exists (a NodeSource
# node brings its own, which Debian's would conflict with).
if [ "$want_tests" = 1 ] && ! command -v npm >/dev/null 2>&1; then pkgs+=(npm); fi
for p in "${pkgs[@]}"; do
  # nodejs may come from a non-Debian source already; accept any install of node.
  if [ "$p" = nodejs ] && command -v node >/dev/null 2>&1; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ "$want_tests" = 1 ]; then
  command -v npm >/dev/null 2>&1 || { echo "npm is required for the nodemailer tests" >&2; exit 1; }
  if [ ! -d tests/e2e/node_modules/nodemailer ] || [ ! -d tests/e2e/node_modules/playwright-core ]; then
    (cd tests/e2e && npm ci --no-audit --no-fund --silent 2>/dev/null || npm install --no-audit --no-fund --silent)
  fi
fi
