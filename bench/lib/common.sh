# SPDX-License-Identifier: MIT
# shellcheck shell=bash disable=SC2034
# Shell functions shared by bench/run.sh, bench/testssl.sh and bench/tls_bench.sh (sourced, not
# run): start servers on free loopback ports, remember every pid started, and stop each by its
# pid (SIGTERM, then SIGKILL) at exit.
#
# The caller sets WORK (a scratch folder) and LOG (a file) before calling anything, then runs
# `trap bench_cleanup EXIT` and `trap 'exit 130' INT TERM`.

PY=/usr/bin/python3
PF_MASTER=/usr/lib/postfix/sbin/master
STARTED_PIDS=()      # plain processes (postern)
PF_MASTERS=()        # Postfix master pids (each the leader of its own session and process group)

log() { printf '%s %s\n' "$(date +%T)" "$*" | tee -a "$LOG" >&2; }

alive() { kill -0 "$1" 2>/dev/null; }

stop_pid() {  # stop_pid PID: SIGTERM, wait up to 10 s, then SIGKILL
    local pid=$1
    alive "$pid" || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
    wait "$pid" 2>/dev/null || true
}

group_pids() {  # pids whose process group is $1 (a Postfix master started with setsid)
    ps -eo pid=,pgid= | awk -v g="$1" '$2 == g && $1 != g { print $1 }'
}

stop_postfix() {  # stop_postfix MASTER_PID: the master forwards SIGTERM to its children
    local m=$1 p
    if alive "$m"; then
        kill -TERM "$m" 2>/dev/null || true
        for _ in $(seq 100); do alive "$m" || break; sleep 0.1; done
        if alive "$m"; then kill -KILL "$m" 2>/dev/null || true; fi
    fi
    for _ in $(seq 100); do [ -z "$(group_pids "$m")" ] && break; sleep 0.1; done
    for p in $(group_pids "$m"); do kill -KILL "$p" 2>/dev/null || true; done
    wait "$m" 2>/dev/null || true
}

bench_cleanup() {  # the EXIT trap: stop what was started; drop WORK unless BENCH_KEEP=1
    local rc=$? p
    trap - EXIT INT TERM
    for p in "${STARTED_PIDS[@]}"; do stop_pid "$p"; done
    for p in "${PF_MASTERS[@]}"; do stop_postfix "$p"; done
    if [ "${BENCH_KEEP:-0}" != 1 ]; then
        # Keep the results when they live in the work dir; drop the mail and the servers' files.
        find "$WORK" -mindepth 1 -maxdepth 1 ! -name results -exec rm -rf {} + 2>/dev/null || true
        rmdir "$WORK" 2>/dev/null || true
    fi
    exit "$rc"
}

free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_greeting() {  # wait_greeting PORT PID [tls]: until the server answers 220 (10 s)
    "$PY" - "$1" "$2" "${3:-}" <<'EOF'
import os, socket, ssl, sys, time
port, pid, tls = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "tls"
end = time.monotonic() + 10
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
while time.monotonic() < end:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit(f"server pid {pid} exited")
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as raw:
            s = ctx.wrap_socket(raw) if tls else raw
            if s.recv(512).startswith(b"220"):
                s.sendall(b"QUIT\r\n")
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.1)
sys.exit(f"no greeting on port {port}")
EOF
}

make_ec_cert() {  # make_ec_cert DIR NAME: DIR/cert.pem, DIR/key.pem, EC P-256, self-signed, 365 days
    mkdir -p "$1"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -sha256 -nodes -days 365 \
        -subj "/CN=$2" -addext "subjectAltName=DNS:$2" \
        -keyout "$1/key.pem" -out "$1/cert.pem" 2>/dev/null
    chmod 600 "$1/key.pem"
}

# make_ca_cert DIR NAME: DIR/ca.pem (a private CA, EC P-256) and DIR/cert.pem, DIR/key.pem (EC
# P-256, for NAME, signed by that CA, serverAuth), so that a checker given ca.pem can verify the
# chain and judge the server's TLS settings rather than the self-signed certificate. Like a public
# CA's certificate it names a CRL (under .invalid, RFC 6761: never resolved, and testssl fetches
# nothing without --phone-out); without one testssl says "NOT ok -- neither CRL nor OCSP URI
# provided", a finding about the certificate, not the server.
make_ca_cert() {
    local d=$1 name=$2
    mkdir -p "$d"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -sha256 -nodes -days 365 \
        -subj "/O=postern bench/CN=postern bench test CA" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -keyout "$d/ca-key.pem" -out "$d/ca.pem" 2>/dev/null
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -sha256 -nodes \
        -subj "/CN=$name" -keyout "$d/key.pem" -out "$d/server.csr" 2>/dev/null
    printf '%s\n' "subjectAltName=DNS:$name" "basicConstraints=critical,CA:FALSE" \
        "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" \
        "crlDistributionPoints=URI:http://crl.postern.invalid/ca.crl" >"$d/server.ext"
    openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca-key.pem" -CAcreateserial \
        -days 365 -sha256 -extfile "$d/server.ext" -out "$d/cert.pem" 2>/dev/null
    chmod 600 "$d/key.pem" "$d/ca-key.pem"
}

postern_config() {  # postern_config FILE: the configuration of bench/run.sh (flush = "syncfs")
    cat >"$1" <<EOF
[smtp]
max_connections = 20000
max_connections_per_ip = 20000
idle_timeout = 600
max_message_size = 209715200

[store]
flush = "syncfs"

[log]
level = "warn"
EOF
}
