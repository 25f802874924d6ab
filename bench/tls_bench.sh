#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# STARTTLS handshakes per second and messages per second over STARTTLS: postern against a private
# Postfix instance with TLS (smtpd_tls_security_level = may), both given the same EC P-256
# self-signed certificate, measured in the same run, interleaved, reported as ratios.
#
#   bash bench/install-peers.sh          # once: Postfix from Debian
#   bash bench/tls_bench.sh [OUT_DIR]    # about 3 minutes on 2 cores, as root
#   bash bench/tls_bench.sh --report OUT_DIR   # the summary table again, from OUT_DIR/tls.tsv
#
# Environment: POSTERN (the binary, default build/src/app/postern), TLS_LOAD (the load tool,
# default: build/bench/tls_load if it is newer than its source, else compiled into the work dir
# with g++), TLS_BENCH_RUNS (3), TLS_BENCH_SECONDS (10: each load's soft limit), TLS_BENCH_SESSIONS
# (20), TLS_BENCH_THREADS (client threads, 1), TLS_BENCH_SIZE (message octets, 1024),
# TLS_BENCH_TLS (1.2 or 1.3 to force one version; default: what the peers negotiate, TLS 1.3).
#
# Each run measures, for each mode (handshake, mail), postern then Postfix (Postfix first in even
# runs): bench/lib/tls_load.cpp with the same options against each, the server's CPU from /proc
# before and after (bench/lib/procstat.py: Postfix's whole process tree, exited children
# included), and the machine's CPU. Postfix's mail figures wait until virtual(8) has delivered
# every message to the Maildir and count that CPU too, as bench/run.sh does. Everything listens on
# 127.0.0.1 on free ports; every process started is stopped by its pid at exit.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
POSTERN="${POSTERN:-$ROOT/build/src/app/postern}"
RUNS="${TLS_BENCH_RUNS:-3}"
SECS="${TLS_BENCH_SECONDS:-10}"
SESSIONS="${TLS_BENCH_SESSIONS:-20}"
THREADS="${TLS_BENCH_THREADS:-1}"
SIZE="${TLS_BENCH_SIZE:-1024}"
TLS_VERSION="${TLS_BENCH_TLS:-}"
HOST_NAME=bench.localhost
RCPT=bench@bench.example

summarize() {  # summarize TSV: the table of docs/performance.md, section "TLS"
    "$PY" - "$1" <<'EOF'
import csv, statistics, sys
rows = [r for r in csv.DictReader(open(sys.argv[1]), delimiter="\t") if r["status"] == "ok"]
runs = sorted({r["run"] for r in rows}, key=int)
def values(mode, server, f, run=None):
    return [f(r) for r in rows if r["mode"] == mode and r["server"] == server and run in (None, r["run"])]
def med(mode, server, f):
    v = values(mode, server, f)
    return statistics.median(v) if v else float("nan")
def each_run(mode, f, invert):
    out = []
    for run in runs:
        p, q = values(mode, "postern", f, run), values(mode, "postfix", f, run)
        if p and q and p[0] and q[0]:
            out.append(q[0] / p[0] if invert else p[0] / q[0])
    return " / ".join(f"{x:.2f}x" for x in out)
def col(key):
    return lambda r: float(r[key])
def client_ms(r):
    return 1000 * float(r["client_cpu_s"]) / float(r["count"])
lines = [
    ("STARTTLS handshakes/s", "handshake", col("per_s"), "{:,.0f}", False),
    ("STARTTLS msg/s", "mail", col("per_s"), "{:,.0f}", False),
    ("server CPU per handshake (ms)", "handshake", col("cpu_ms_per_op"), "{:.3f}", True),
    ("server CPU per message (ms; Postfix incl. delivery)", "mail", col("cpu_ms_incl_delivery"), "{:.3f}", True),
    ("load generator CPU per handshake (ms)", "handshake", client_ms, "{:.3f}", None),
    ("machine CPU, handshake loads (% of 200)", "handshake", col("machine_cpu_pct"), "{:.0f}", None),
    ("machine CPU, mail loads (% of 200)", "mail", col("machine_cpu_pct"), "{:.0f}", None),
]
print(f"| measure (median of {len(runs)} runs) | postern | Postfix | postern / Postfix | each run |")
print("|---|---|---|---|---|")
for name, mode, f, fmt, invert in lines:
    p, q = med(mode, "postern", f), med(mode, "postfix", f)
    if invert is None:
        print(f"| {name} | {fmt.format(p)} | {fmt.format(q)} | | |")
    elif invert:
        print(f"| {name} | {fmt.format(p)} | {fmt.format(q)} | {q / p:.2f}x less | {each_run(mode, f, True)} |")
    else:
        print(f"| {name} | {fmt.format(p)} | {fmt.format(q)} | {p / q:.2f}x | {each_run(mode, f, False)} |")
EOF
}

if [ "${1:-}" = --report ]; then   # the table again, from a finished run's folder
    PY=/usr/bin/python3 summarize "${2:?usage: tls_bench.sh --report OUT_DIR}/tls.tsv"
    exit 0
fi

WORK="$(mktemp -d /var/tmp/postern-tls-bench.XXXXXX)"
chmod 755 "$WORK"
OUT="${1:-$WORK/results}"
mkdir -p "$OUT"
LOG="$OUT/run.log"
# shellcheck source=bench/lib/common.sh
. "$HERE/lib/common.sh"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" -eq 0 ] || { echo "tls_bench.sh: run as root (private Postfix master)" >&2; exit 1; }
for tool in "$POSTERN" "$PF_MASTER" /usr/sbin/postfix "$PY"; do
    [ -x "$tool" ] || { echo "tls_bench.sh: missing $tool (bench/install-peers.sh; cmake --build build --target postern)" >&2; exit 1; }
done

# ---------------------------------------------------------------- the load tool

SRC="$HERE/lib/tls_load.cpp"
if [ -n "${TLS_LOAD:-}" ]; then
    LOAD="$TLS_LOAD"
elif [ -x "$(dirname "$POSTERN")/../../bench/tls_load" ] && [ "$(dirname "$POSTERN")/../../bench/tls_load" -nt "$SRC" ]; then
    LOAD="$(dirname "$POSTERN")/../../bench/tls_load"
else
    LOAD="$WORK/tls_load"
    g++ -std=c++20 -O2 -Wall -Wextra -o "$LOAD" "$SRC" -lssl -lcrypto -pthread
fi
[ -x "$LOAD" ] || { echo "tls_bench.sh: no load tool at $LOAD" >&2; exit 1; }

# ---------------------------------------------------------------- helpers

cpu_of() { "$PY" "$HERE/lib/procstat.py" cpu "$1"; }
machine_jiffies() { awk '/^cpu / { busy = $2+$3+$4+$7+$8+$9; print busy "," busy+$5+$6 }' /proc/stat; }
count_files() { find "$1" -maxdepth 1 -type f 2>/dev/null | wc -l; }

start_postern() {  # -> POSTERN_PID POSTERN_PORT POSTERN_MAILDIR
    local dir="$WORK/postern"
    mkdir -p "$dir"
    postern_config "$dir/postern.toml"
    POSTERN_PORT=$(free_port)
    bash -c 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"' postern \
        "$POSTERN" serve --data "$dir/data" --smtp "127.0.0.1:$POSTERN_PORT" --http 127.0.0.1:0 --config "$dir/postern.toml" \
        --hostname "$HOST_NAME" --tls-cert "$WORK/cert/cert.pem" --tls-key "$WORK/cert/key.pem" \
        >"$dir/postern.log" 2>&1 &
    POSTERN_PID=$!   # bash -c execs postern: this is postern's own pid
    STARTED_PIDS+=("$POSTERN_PID")
    POSTERN_MAILDIR="$dir/data/mail/inbox/new"
    wait_greeting "$POSTERN_PORT" "$POSTERN_PID"
    log "postern: pid $POSTERN_PID on 127.0.0.1:$POSTERN_PORT, data $dir/data"
}

# The private Postfix instance of bench/run.sh (its own config, queue and data directories, the
# virtual(8) agent delivering into one Maildir as uid nobody, no chroot, no logging), plus TLS:
# STARTTLS offered, never required, and tlsmgr(8) for the session ticket keys as in a stock
# master.cf.
start_postfix() {  # -> PF_PID PF_PORT PF_MAILDIR
    local dir="$WORK/postfix"
    mkdir -p "$dir/conf" "$dir/queue" "$dir/data" "$dir/mail"
    chown postfix "$dir/data"
    chown nobody:nogroup "$dir/mail"
    PF_PORT=$(free_port)
    cat >"$dir/conf/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
mail_owner = postfix
setgid_group = postdrop
myhostname = $HOST_NAME
inet_interfaces = loopback-only
inet_protocols = ipv4
mydestination =
relay_domains =
local_recipient_maps =
alias_maps =
alias_database =
mynetworks = 127.0.0.0/8
virtual_mailbox_domains = bench.example
virtual_mailbox_base = $dir/mail
virtual_mailbox_maps = static:inbox/
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
virtual_mailbox_limit = 0
message_size_limit = 209715200
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
default_process_limit = 200
biff = no
smtpd_tls_security_level = may
smtpd_tls_chain_files = $WORK/cert/key.pem, $WORK/cert/cert.pem
smtpd_tls_loglevel = 0
EOF
    cat >"$dir/conf/master.cf" <<EOF
127.0.0.1:$PF_PORT inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
    /usr/sbin/postfix -c "$dir/conf" check >"$dir/check.log" 2>&1 \
        || { cat "$dir/check.log" >&2; echo "tls_bench.sh: postfix check failed" >&2; return 1; }
    # setsid: the master leads its own process group; -d: it stays in the foreground, so $! is
    # its pid (bash -c execs setsid, which execs the master without forking: bash -c is not a
    # process group leader).
    bash -c 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec setsid "$@"' master \
        "$PF_MASTER" -c "$dir/conf" -d >"$dir/master.out" 2>&1 &
    PF_PID=$!
    PF_MASTERS+=("$PF_PID")
    PF_MAILDIR="$dir/mail/inbox/new"
    wait_greeting "$PF_PORT" "$PF_PID"
    log "postfix: Postfix $(/usr/sbin/postconf -d -h mail_version) master pid $PF_PID, smtpd on 127.0.0.1:$PF_PORT"
}

declare -A PID_OF PORT_OF MAILDIR_OF
declare -A ACKED   # messages acknowledged (250) per server

load_cmd() {  # load_cmd SERVER MODE [SECONDS] -> LOAD_CMD (an array)
    LOAD_CMD=("$LOAD" --port "${PORT_OF[$1]}" --mode "$2" --sessions "$SESSIONS" --threads "$THREADS"
        --seconds "${3:-$SECS}" --size "$SIZE" --to "$RCPT")
    if [ -n "$TLS_VERSION" ]; then LOAD_CMD+=(--tls "$TLS_VERSION"); fi
}

measure() {  # measure RUN MODE SERVER: one load, one row of OUT/tls.tsv
    local run=$1 mode=$2 server=$3 pid=${PID_OF[$3]}
    local json="$OUT/$mode-$server-run$run.json" c0 c1 c2="" m0 m1 drain="" rc=0
    load_cmd "$server" "$mode"
    echo "# run $run, $mode, $server" >>"$OUT/commands.txt"
    echo "${LOAD_CMD[*]}" >>"$OUT/commands.txt"
    sync
    sleep 1
    c0=$(cpu_of "$pid")
    m0=$(machine_jiffies)
    timeout $((SECS + 60)) "${LOAD_CMD[@]}" >"$json" 2>>"$LOG" || rc=$?
    m1=$(machine_jiffies)
    c1=$(cpu_of "$pid")
    local acked
    acked=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["messages"])' "$json" 2>/dev/null || echo 0)
    ACKED[$server]=$(( ${ACKED[$server]:-0} + acked ))
    if [ "$mode" = mail ] && [ "$server" = postfix ]; then
        # Postfix has queued the messages; count the CPU of its delivery to the Maildir too.
        local t0=$SECONDS
        for _ in $(seq 1200); do
            [ "$(count_files "${MAILDIR_OF[$server]}")" -ge "${ACKED[$server]}" ] && break
            sleep 0.1
        done
        drain=$((SECONDS - t0))
        c2=$(cpu_of "$pid")
    fi
    "$PY" - "$json" "$run" "$mode" "$server" "$rc" "$c0" "$c1" "$c2" "$m0" "$m1" "$(getconf CLK_TCK)" \
        "$drain" >>"$OUT/tls.tsv" <<'EOF'
import json, sys
path, run, mode, server, rc, c0, c1, c2, m0, m1, hz, drain = sys.argv[1:]
try:
    r = json.load(open(path))
except ValueError:
    r = {"handshakes": 0, "messages": 0, "wall_s": 0, "errors": -1, "client_cpu_s": 0, "sessions_issued": 0,
         "tls_version": "", "cipher": "", "group": ""}
ops = r["handshakes"] if mode == "handshake" else r["messages"]
wall = r["wall_s"]
cpu = float(c1) - float(c0)
cpu_all = float(c2) - float(c0) if c2 else cpu
a, b = [int(x) for x in m0.split(",")], [int(x) for x in m1.split(",")]
machine = 100.0 * (b[0] - a[0]) / float(hz) / wall if wall else 0
status = "ok" if rc == "0" and r["errors"] == 0 else f"rc={rc},errors={r['errors']}"
print("\t".join(str(x) for x in (
    run, mode, server, ops, f"{wall:.3f}", f"{ops / wall if wall else 0:.1f}", f"{cpu:.2f}",
    f"{1000 * cpu / ops if ops else 0:.3f}", f"{1000 * cpu_all / ops if ops else 0:.3f}", drain,
    f"{r['client_cpu_s']:.2f}", f"{machine:.0f}", f"{r['sessions_issued'] / max(r['handshakes'], 1):.2f}",
    r["tls_version"], r["cipher"], r["group"], status)))
EOF
    log "run $run $mode $server: $(tail -1 "$OUT/tls.tsv" | cut -f4-13 | tr '\t' ' ')"
}

# ---------------------------------------------------------------- the run

{
    echo "date:    $(date -u '+%F %T') UTC"
    echo "host:    $(nproc) CPUs, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
    echo "kernel:  $(uname -sr)"
    echo "postern: $("$POSTERN" --version 2>/dev/null | head -1), $POSTERN (binary of $(date -u -r "$POSTERN" '+%F %T') UTC)"
    echo "postfix: $(/usr/sbin/postconf -d -h mail_version)"
    echo "openssl: $(openssl version)"
    echo "load:    $LOAD, $SESSIONS sessions, $THREADS client thread(s), $SECS s per load, $SIZE-octet messages, $RUNS runs"
    echo "uptime: $(uptime)"
} | tee "$OUT/machine.txt" >&2

make_ec_cert "$WORK/cert" "$HOST_NAME"
cp "$WORK/cert/cert.pem" "$OUT/cert.pem"
start_postern
start_postfix
PID_OF=([postern]=$POSTERN_PID [postfix]=$PF_PID)
PORT_OF=([postern]=$POSTERN_PORT [postfix]=$PF_PORT)
MAILDIR_OF=([postern]=$POSTERN_MAILDIR [postfix]=$PF_MAILDIR)

printf 'run\tmode\tserver\tcount\tseconds\tper_s\tserver_cpu_s\tcpu_ms_per_op\tcpu_ms_incl_delivery\tdrain_s\tclient_cpu_s\tmachine_cpu_pct\tsessions_issued_per_handshake\ttls\tcipher\tgroup\tstatus\n' >"$OUT/tls.tsv"

# Warm-up, not recorded: Postfix forks its first smtpd processes, both servers fault in their code.
for server in postern postfix; do
    load_cmd "$server" handshake 1
    "${LOAD_CMD[@]}" >/dev/null 2>>"$LOG" || log "warm-up against $server failed"
done

for run in $(seq "$RUNS"); do
    order="postern postfix"
    [ $((run % 2)) -eq 0 ] && order="postfix postern"
    for mode in handshake mail; do
        for server in $order; do measure "$run" "$mode" "$server"; done
    done
done

VERIFY_OK=1
: >"$OUT/verify.tsv"
for server in postern postfix; do
    got=$(count_files "${MAILDIR_OF[$server]}")
    echo -e "$server\t${ACKED[$server]:-0}\t$got" >>"$OUT/verify.tsv"
    if [ "$got" -eq "${ACKED[$server]:-0}" ]; then
        log "verify $server: $got messages in ${MAILDIR_OF[$server]}, as acknowledged"
    else
        log "verify $server: $got messages in ${MAILDIR_OF[$server]}, ${ACKED[$server]:-0} acknowledged: FAILED"
        VERIFY_OK=0
    fi
done
stop_pid "$POSTERN_PID"
stop_postfix "$PF_PID"
cp "$WORK/postern/postern.log" "$OUT/postern.log"   # warn and error lines only
echo "uptime at end: $(uptime)" | tee -a "$OUT/machine.txt" >&2

# ---------------------------------------------------------------- summary

summarize "$OUT/tls.tsv" | tee "$OUT/summary.md"
echo
column -t -s $'\t' "$OUT/tls.tsv"
log "done in $SECONDS s; results in $OUT"
bad=$(awk -F'\t' 'NR > 1 && $17 != "ok"' "$OUT/tls.tsv" | wc -l)
[ "$bad" -eq 0 ] || { echo "tls_bench.sh: $bad load(s) had errors (status column)" >&2; exit 1; }
[ "$VERIFY_OK" = 1 ] || { echo "tls_bench.sh: verification FAILED" >&2; exit 1; }
