#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the peers the benchmark compares postern with, from Debian packages, idempotently:
#   postfix  - the durable peer (the bench runs its own private instance, see bench/run.sh), and
#              smtp-source / smtp-sink, the load generator and the store-nothing ceiling.
#   python3  - /usr/bin/python3 for the idle-connection and big-message clients.
# The system Postfix service is never enabled or started: the Debian package would start it, so this
# script masks it before installing and stops/disables it if it is running afterwards.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

need=()
for pkg in postfix python3 procps; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        need+=("$pkg")
    fi
done

if [ "${#need[@]}" -gt 0 ]; then
    if ! command -v systemctl >/dev/null 2>&1 || [ ! -d /run/systemd/system ]; then
        # No systemd: tell invoke-rc.d not to start any service while the packages install.
        policy=/usr/sbin/policy-rc.d
        created_policy=0
        if [ ! -e "$policy" ]; then
            printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
            $SUDO chmod 755 "$policy"
            created_policy=1
        fi
    else
        $SUDO systemctl mask postfix.service >/dev/null 2>&1 || true
        created_policy=0
    fi
    # "No configuration": the postinst writes a minimal main.cf and does not start a mail system.
    echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}"
    if [ "$created_policy" = 1 ]; then $SUDO rm -f "$policy"; fi
fi

# Make sure the system instance is not running (the bench starts its own instance by pid).
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    $SUDO systemctl disable --now postfix.service >/dev/null 2>&1 || true
fi

for tool in /usr/sbin/smtp-source /usr/sbin/smtp-sink /usr/sbin/postfix /usr/lib/postfix/sbin/master; do
    [ -x "$tool" ] || { echo "install-peers: missing $tool" >&2; exit 1; }
done
echo "install-peers: postfix $(/usr/sbin/postconf -d -h mail_version 2>/dev/null), smtp-source, smtp-sink ready"
