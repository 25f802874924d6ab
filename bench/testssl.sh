#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Debian's testssl (package testssl.sh) against postern's two TLS listeners: STARTTLS on an mx
# listener (--smtp) and implicit TLS on a submissions listener (--smtps), on free loopback ports.
#
#   bash bench/testssl.sh [POSTERN_BINARY] [OUT_DIR]     # installs testssl if missing (as root)
#
# Certificate (TESTSSL_CERT):
#   ca   (default) an EC P-256 certificate for postern.test issued by a private CA made for the
#        run and handed to testssl with --add-ca, so that the chain checks pass and every finding
#        is about postern's TLS settings (src/net/tls_context.cpp);
#   self postern's own self-signed certificate, made on first start in DATA/tls. testssl then
#        flags "Chain of trust ... self signed", "Issuer ... self-signed (NOT ok)" and "NOT ok --
#        neither CRL nor OCSP URI provided": those three are expected of any self-signed
#        certificate, so in this mode they are listed apart and not counted.
#
# testssl runs offline: --nodns none (no DNS lookup at all), --ip 127.0.0.1 (the URI's name is
# only the SNI and the name checked against the certificate), no --phone-out (no OCSP or CRL
# fetch). Output: OUT_DIR/{starttls,implicit}.{log,json} and OUT_DIR/not-ok.txt. Exit status 1
# if any line of either run says "NOT ok" (the lines are printed), 2 if testssl itself failed.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
POSTERN="${1:-${POSTERN:-$ROOT/build/src/app/postern}}"
CERT_MODE="${TESTSSL_CERT:-ca}"
NAME=postern.test
TESTSSL=/usr/bin/testssl

[ -x "$POSTERN" ] || { echo "testssl.sh: no postern binary at $POSTERN" >&2; exit 1; }
case $CERT_MODE in ca | self) ;; *) echo "testssl.sh: TESTSSL_CERT is ca or self" >&2; exit 1 ;; esac
if [ ! -x "$TESTSSL" ]; then
    [ "$(id -u)" -eq 0 ] || { echo "testssl.sh: testssl is missing: apt-get install testssl.sh (as root)" >&2; exit 1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends testssl.sh >/dev/null
fi

WORK="$(mktemp -d /var/tmp/postern-testssl.XXXXXX)"
chmod 755 "$WORK"
OUT="${2:-$WORK/results}"
mkdir -p "$OUT"
LOG="$OUT/testssl-run.log"
# shellcheck source=bench/lib/common.sh
. "$HERE/lib/common.sh"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- postern

STARTTLS_PORT=$(free_port)
IMPLICIT_PORT=$(free_port)
postern_config "$WORK/postern.toml"
cert_args=()
if [ "$CERT_MODE" = ca ]; then
    make_ca_cert "$WORK/pki" "$NAME"
    cert_args=(--tls-cert "$WORK/pki/cert.pem" --tls-key "$WORK/pki/key.pem")
fi
"$POSTERN" serve --data "$WORK/data" --http 127.0.0.1:0 --config "$WORK/postern.toml" --hostname "$NAME" \
    --smtp "127.0.0.1:$STARTTLS_PORT" --smtps "127.0.0.1:$IMPLICIT_PORT" "${cert_args[@]}" \
    >"$OUT/postern.log" 2>&1 &
POSTERN_PID=$!
STARTED_PIDS+=("$POSTERN_PID")
wait_greeting "$STARTTLS_PORT" "$POSTERN_PID"
wait_greeting "$IMPLICIT_PORT" "$POSTERN_PID" tls
[ "$CERT_MODE" = self ] && cp "$WORK/data/tls/cert.pem" "$OUT/postern-cert.pem"
[ "$CERT_MODE" = ca ] && cp "$WORK/pki/ca.pem" "$WORK/pki/cert.pem" "$OUT/"
log "postern $("$POSTERN" --version 2>/dev/null | head -1) pid $POSTERN_PID: STARTTLS on 127.0.0.1:$STARTTLS_PORT," \
    "implicit TLS on 127.0.0.1:$IMPLICIT_PORT, certificate: $CERT_MODE"
log "testssl $(dpkg-query -W -f='${Version}' testssl.sh 2>/dev/null || echo '(not from Debian)'), $(openssl version)"

# ---------------------------------------------------------------- testssl

run_testssl() {  # run_testssl NAME PORT [testssl options]: OUT/NAME.log and OUT/NAME.json
    local name=$1 port=$2 rc=0
    shift 2
    local ca_args=()
    [ "$CERT_MODE" = ca ] && ca_args=(--add-ca "$WORK/pki/ca.pem")
    local cmd=("$TESTSSL" --quiet --color 0 --warnings batch --nodns none --ip 127.0.0.1
        --connect-timeout 10 --openssl-timeout 10 "${ca_args[@]}" "$@"
        --logfile "$OUT/$name.log" --jsonfile "$OUT/$name.json" "$NAME:$port")
    log "$name: ${cmd[*]}"
    local t0=$SECONDS
    # testssl's exit status counts its findings, it is not an error: only a missing log means it
    # did not run. It runs from the work dir: inside a git tree it reports that tree's commit as
    # its own version.
    (cd "$WORK" && timeout 900 "${cmd[@]}" >"$OUT/$name.stdout" 2>"$OUT/$name.stderr") || rc=$?
    log "$name: testssl exit $rc after $((SECONDS - t0)) s"
    [ -s "$OUT/$name.log" ] || { cat "$OUT/$name.stderr" >&2; return 2; }
}

status=0
run_testssl starttls "$STARTTLS_PORT" --starttls smtp || status=2
run_testssl implicit "$IMPLICIT_PORT" || status=2

# ---------------------------------------------------------------- verdict

SELF_SIGNED_FINDINGS='Chain of trust.*self signed|self-signed \(NOT ok\)|NOT ok -- neither CRL nor OCSP URI provided'
: >"$OUT/not-ok.txt"
: >"$OUT/expected.txt"
for name in starttls implicit; do
    [ -s "$OUT/$name.log" ] || continue
    { grep -n 'NOT ok' "$OUT/$name.log" || true; } | sed "s/^/$name.log:/" | while IFS= read -r line; do
        if [ "$CERT_MODE" = self ] && [[ $line =~ $SELF_SIGNED_FINDINGS ]]; then
            echo "$line" >>"$OUT/expected.txt"
        else
            echo "$line" >>"$OUT/not-ok.txt"
        fi
    done
done

echo
for name in starttls implicit; do
    [ -s "$OUT/$name.log" ] || continue
    echo "== $name: overall and key lines"
    grep -E '^ (SSLv2|SSLv3|TLS 1(\.[0-3])?) |Has server cipher order|PFS is offered|Elliptic curves offered|Negotiated|Chain of trust|Signature Algorithm|Server key size|Heartbleed|ROBOT|Secure Renegotiation|CRIME|Session Resumption|TLS_FALLBACK|SWEET32|LUCKY13|Rating' \
        "$OUT/$name.log" | sed 's/  */ /g' | head -40 || true
done
if [ -s "$OUT/expected.txt" ]; then
    echo
    echo "expected with a self-signed certificate (not counted):"
    cat "$OUT/expected.txt"
fi
echo
if [ -s "$OUT/not-ok.txt" ]; then
    echo "testssl.sh: lines reporting NOT ok:"
    cat "$OUT/not-ok.txt"
    [ "$status" -eq 0 ] && status=1
else
    echo "testssl.sh: no line reports NOT ok"
fi
echo "output in $OUT"
exit "$status"
