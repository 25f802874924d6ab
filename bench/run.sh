#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The benchmark of issue 3, section 7: postern against a private Postfix instance (same durability:
# every message on stable storage before its 250) and smtp-sink (stores nothing: the ceiling of the
# load generator and the loopback), all measured in the same run on this machine.
#
#   bash bench/install-peers.sh      # once: postfix (smtp-source, smtp-sink) from Debian
#   bash bench/run.sh [OUT_DIR]      # about 5 minutes; figures on stdout and in OUT_DIR
#
# Environment: POSTERN (the binary, default build/src/app/postern), BENCH_BUDGET (seconds, default
# 600: steps that would start later are skipped), BENCH_SCALE (multiplies every message count,
# default 1), BENCH_IDLE (idle connections, default 10000), BENCH_BIG_MIB (default 100),
# BENCH_ONLY (space-separated server names to run, default all), BENCH_POSTFIX_LOG=1 (Postfix logs
# to a file in the work dir; off by default, as this machine has no syslog and logging costs).
#
# Everything listens on 127.0.0.1 on free ports. Every process this script starts is stopped by
# its pid (SIGTERM, then SIGKILL), also on error or ^C, by the EXIT trap. Run as root (Postfix's
# master and smtp-sink drop privileges themselves).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
PY=/usr/bin/python3
LIB="$HERE/lib"
POSTERN="${POSTERN:-$ROOT/build/src/app/postern}"
BUDGET="${BENCH_BUDGET:-600}"
SCALE="${BENCH_SCALE:-1}"
IDLE_N="${BENCH_IDLE:-10000}"
BIG_MIB="${BENCH_BIG_MIB:-100}"
ONLY="${BENCH_ONLY:-smtp-sink postern-syncfs postern-fsync postfix}"
SMTP_SOURCE=/usr/sbin/smtp-source
SMTP_SINK=/usr/sbin/smtp-sink
PF_MASTER=/usr/lib/postfix/sbin/master
SENDER=bench@bench.example
RCPT=bench@bench.example

[ "$(id -u)" -eq 0 ] || { echo "run.sh: run as root (private Postfix master, smtp-sink -u)" >&2; exit 1; }
for tool in "$POSTERN" "$SMTP_SOURCE" "$SMTP_SINK" "$PF_MASTER" "$PY"; do
    [ -x "$tool" ] || { echo "run.sh: missing $tool (bench/install-peers.sh; cmake --build build --target postern)" >&2; exit 1; }
done

WORK="$(mktemp -d /var/tmp/postern-bench.XXXXXX)"
chmod 755 "$WORK"
OUT="${1:-$WORK/results}"
mkdir -p "$OUT"
RESULTS="$OUT/throughput.tsv"
LOG="$OUT/run.log"

# ---------------------------------------------------------------- processes, cleanup, helpers

# STARTED_PIDS, PF_MASTERS, log, alive, stop_pid, group_pids, stop_postfix, bench_cleanup,
# free_port and wait_greeting: shared with the TLS benchmark and the testssl script.
# shellcheck source=lib/common.sh
source "$HERE/lib/common.sh"

trap bench_cleanup EXIT
trap 'exit 130' INT TERM

cpu_of() { "$PY" "$LIB/procstat.py" cpu "$1"; }

# Busy and total jiffies of the whole machine (all CPUs), to show what else ran during a load.
machine_jiffies() { awk '/^cpu / { busy = $2+$3+$4+$7+$8+$9; print busy, busy+$5+$6 }' /proc/stat; }

over_budget() { [ "$SECONDS" -ge "$BUDGET" ]; }

count_files() { find "$1" -maxdepth 1 -type f 2>/dev/null | wc -l; }

# ---------------------------------------------------------------- the servers

postern_config() {  # postern_config FILE FLUSH
    cat >"$1" <<EOF
[smtp]
max_connections = 20000
max_connections_per_ip = 20000
idle_timeout = 600
max_message_size = 209715200

[store]
flush = "$2"

[log]
level = "warn"
EOF
}

start_postern() {  # start_postern NAME FLUSH -> sets SRV_PID SRV_PORT SRV_MAILDIR
    local name=$1 flush=$2 dir="$WORK/$1"
    mkdir -p "$dir"
    postern_config "$dir/postern.toml" "$flush"
    SRV_PORT=$(free_port)
    bash -c 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"' postern \
        "$POSTERN" serve --data "$dir/data" --smtp "127.0.0.1:$SRV_PORT" --http 127.0.0.1:0 --config "$dir/postern.toml" \
        >"$dir/postern.log" 2>&1 &
    SRV_PID=$!
    STARTED_PIDS+=("$SRV_PID")
    SRV_MAILDIR="$dir/data/mail/inbox/new"
    wait_greeting "$SRV_PORT" "$SRV_PID"
    log "$name: pid $SRV_PID on 127.0.0.1:$SRV_PORT, flush=$flush, data $dir/data"
}

start_sink() {  # start_sink -> sets SRV_PID SRV_PORT
    SRV_PORT=$(free_port)
    "$SMTP_SINK" -u nobody -m 20000 "127.0.0.1:$SRV_PORT" 4096 >"$WORK/smtp-sink.log" 2>&1 &
    SRV_PID=$!
    STARTED_PIDS+=("$SRV_PID")
    SRV_MAILDIR=""
    wait_greeting "$SRV_PORT" "$SRV_PID"
    log "smtp-sink: pid $SRV_PID on 127.0.0.1:$SRV_PORT"
}

# start_postfix NAME PROCESS_LIMIT -> sets SRV_PID (the master) SRV_PORT SRV_MAILDIR
# A private instance: its own config_directory, queue_directory and data_directory under $WORK,
# smtpd on a free loopback port, the virtual(8) agent delivering every message for bench.example
# into one Maildir ($dir/mail/inbox/) as uid nobody. No chroot. Postfix fsyncs the queue file in
# cleanup(8) before smtpd sends the 250, and virtual(8) fsyncs each Maildir file it delivers.
start_postfix() {
    local name=$1 proclimit=$2 dir="$WORK/$1"
    mkdir -p "$dir/conf" "$dir/queue" "$dir/data" "$dir/mail"
    chown postfix "$dir/data"
    chown nobody:nogroup "$dir/mail"
    SRV_PORT=$(free_port)
    local logging="# no maillog_file: Postfix logs through syslog(3), and this machine has no syslog daemon"
    if [ "${BENCH_POSTFIX_LOG:-0}" = 1 ]; then
        logging="maillog_file_prefixes = $dir
maillog_file = $dir/postfix.log"
    fi
    cat >"$dir/conf/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
mail_owner = postfix
setgid_group = postdrop
myhostname = bench.localhost
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
default_process_limit = $proclimit
biff = no
$logging
EOF
    cat >"$dir/conf/master.cf" <<EOF
127.0.0.1:$SRV_PORT inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
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
        || { cat "$dir/check.log" >&2; echo "run.sh: postfix check failed" >&2; return 1; }
    # setsid: the master leads its own process group (it signals that group when it stops);
    # -d: it stays in the foreground, so $! is its pid.
    bash -c 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec setsid "$@"' master \
        "$PF_MASTER" -c "$dir/conf" -d >"$dir/master.out" 2>&1 &
    SRV_PID=$!
    PF_MASTERS+=("$SRV_PID")
    SRV_MAILDIR="$dir/mail/inbox/new"
    wait_greeting "$SRV_PORT" "$SRV_PID"
    log "$name: Postfix $(/usr/sbin/postconf -d -h mail_version) master pid $SRV_PID, smtpd on 127.0.0.1:$SRV_PORT, config $dir/conf"
}

# ---------------------------------------------------------------- loads

# name | smtp-source options (besides -m) | messages for: smtp-sink | postern-syncfs | postern-fsync | postfix
# (chosen so that each run takes a few seconds on a 2-core machine)
LOADS=(
    "1k-1s|-s 1 -l 1024 -d|10000|5000|4000|1500"
    "1k-20s|-s 20 -l 1024 -d|100000|30000|12000|6000"
    "1k-100s|-s 100 -l 1024 -d|100000|40000|12000|6000"
    "100k-20s|-s 20 -l 102400 -d|10000|10000|5000|3000"
    "1k-conn-per-msg-20s|-s 20 -l 1024|20000|15000|8000|4000"
)

declare -A SRV_PIDS SRV_PORTS SRV_DIRS EXPECTED

count_for() {  # count_for SERVER N_SINK N_SYNCFS N_FSYNC N_POSTFIX
    local n
    case $1 in
        smtp-sink) n=$2 ;;
        postern-syncfs) n=$3 ;;
        postern-fsync) n=$4 ;;
        postfix) n=$5 ;;
    esac
    awk -v n="$n" -v s="$SCALE" 'BEGIN { v = int(n * s); if (v < 1) v = 1; print v }'
}

run_load() {  # run_load SERVER LOADNAME OPTIONS COUNT
    local server=$1 load=$2 opts=$3 count=$4
    local pid=${SRV_PIDS[$server]} port=${SRV_PORTS[$server]} maildir=${SRV_DIRS[$server]}
    local cmd="$SMTP_SOURCE -f $SENDER -t $RCPT -m $count $opts 127.0.0.1:$port"
    local c0 c1 c2 t0 t1 m0 m1 rc=0 drain_s="" cpu_drain="" status=ok client
    sync
    sleep 0.5
    c0=$(cpu_of "$pid")
    read -r m0 <<<"$(machine_jiffies | tr ' ' ',')"
    t0=$(date +%s.%N)
    # shellcheck disable=SC2086
    # The subshell's `times` gives the CPU of its children: smtp-source (and timeout).
    ( rc=0; timeout 180 $cmd >"$WORK/source.out" 2>&1 || rc=$?; times >"$WORK/times.out"; exit "$rc" ) || rc=$?
    t1=$(date +%s.%N)
    read -r m1 <<<"$(machine_jiffies | tr ' ' ',')"
    c1=$(cpu_of "$pid")
    client=$(awk 'NR == 2 { s = 0; for (i = 1; i <= 2; i++) { split($i, p, "m"); s += p[1] * 60 + p[2] } print s }' "$WORK/times.out")
    if [ "$rc" -ne 0 ] || [ -s "$WORK/source.out" ]; then
        status="smtp-source-rc=$rc"
        log "$server $load: smtp-source exit $rc: $(head -c 300 "$WORK/source.out" | tr '\n' ' ')"
    fi
    EXPECTED[$server]=$(( ${EXPECTED[$server]:-0} + count ))
    if [ "$server" = postfix ]; then
        # Postfix accepted the messages into its queue; wait until virtual(8) has delivered them
        # all to the Maildir, and count that CPU too.
        for _ in $(seq 1800); do
            [ "$(count_files "$maildir")" -ge "${EXPECTED[$server]}" ] && break
            sleep 0.1
        done
        drain_s=$(awk -v a="$t1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
        c2=$(cpu_of "$pid")
        cpu_drain=$c2
        [ "$(count_files "$maildir")" -ge "${EXPECTED[$server]}" ] || status="not-all-delivered"
    fi
    # shellcheck disable=SC2086
    awk -v server="$server" -v load="$load" -v n="$count" -v t0="$t0" -v t1="$t1" -v c0="$c0" -v c1="$c1" \
        -v c2="$cpu_drain" -v drain="$drain_s" -v m0="$m0" -v m1="$m1" -v client="$client" -v status="$status" -v cmd="$cmd" \
        -v hz="$(getconf CLK_TCK)" -v ncpu="$(nproc)" 'BEGIN {
        wall = t1 - t0
        split(m0, a, ","); split(m1, b, ",")
        busy = (b[1] - a[1]) / hz; total = (b[2] - a[2]) / hz
        cpu = c1 - c0
        cpu_all = (c2 == "" ? cpu : c2 - c0)
        other = busy - cpu - client
        printf "%s\t%s\t%d\t%.3f\t%.0f\t%.2f\t%.3f\t%s\t%s\t%.2f\t%.0f\t%.0f\t%s\t%s\n", server, load, n, wall,
            n / wall, cpu, 1000 * cpu / n, (c2 == "" ? "-" : sprintf("%.3f", 1000 * cpu_all / n)),
            (drain == "" ? "-" : drain), client, 100 * busy / wall, 100 * other / wall, status, cmd
    }' | tee -a "$RESULTS"
}

# ---------------------------------------------------------------- the run

{
    echo "date:    $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "host:    $(nproc) CPUs, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
    echo "memory:  $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
    echo "kernel:  $(uname -srm)"
    echo "fs:      $(df -T "$WORK" | awk 'NR == 2 { print $1, $2 }') ($WORK)"
    echo "postern: $("$POSTERN" --version 2>&1 | head -1), $POSTERN (binary of $(date -u -r "$POSTERN" '+%H:%M:%S UTC'); tree at commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD -- src 2>/dev/null || echo ', src/ modified'))"
    echo "postfix: $(/usr/sbin/postconf -d -h mail_version)"
    echo "uptime:  $(uptime)"
    echo "top at start (second of two 1 s snapshots):"
    top -b -n 2 -d 1 -w 120 | awk '/^top -/ { n++ } n == 2' | sed -n '3p;7,12p' | sed 's/^/    /'
} | tee "$OUT/machine.txt" >&2

printf 'server\tload\tmessages\tseconds\tmsg_per_s\tserver_cpu_s\tcpu_ms_per_msg\tcpu_ms_incl_delivery\tdrain_s\tclient_cpu_s\tmachine_cpu_pct\tother_cpu_pct\tstatus\tcommand\n' >"$RESULTS"

log "throughput: servers: $ONLY"
for server in $ONLY; do
    case $server in
        smtp-sink) start_sink ;;
        postern-syncfs) start_postern postern-syncfs syncfs ;;
        postern-fsync) start_postern postern-fsync fsync ;;
        postfix) start_postfix postfix 200 ;;
        *) echo "run.sh: unknown server $server" >&2; exit 2 ;;
    esac
    SRV_PIDS[$server]=$SRV_PID
    SRV_PORTS[$server]=$SRV_PORT
    SRV_DIRS[$server]=$SRV_MAILDIR
done

# Loads outer, servers inner: each server's figure for a load is taken minutes at most from its
# peers', so the ratios see the same machine.
for entry in "${LOADS[@]}"; do
    IFS='|' read -r load opts n_sink n_syncfs n_fsync n_postfix <<<"$entry"
    for server in $ONLY; do
        if over_budget; then log "budget of $BUDGET s spent: skipping $server $load"; continue; fi
        run_load "$server" "$load" "$opts" "$(count_for "$server" "$n_sink" "$n_syncfs" "$n_fsync" "$n_postfix")"
    done
done

# Every message postern and Postfix acknowledged is in the Maildir.
VERIFY_OK=1
for server in $ONLY; do
    [ "$server" = smtp-sink ] && continue
    got=$(count_files "${SRV_DIRS[$server]}")
    if [ "$got" -eq "${EXPECTED[$server]:-0}" ]; then
        log "verify $server: $got messages in ${SRV_DIRS[$server]}, as expected"
    else
        log "verify $server: $got messages in ${SRV_DIRS[$server]}, expected ${EXPECTED[$server]:-0}: FAILED"
        VERIFY_OK=0
    fi
    echo -e "$server\t${EXPECTED[$server]:-0}\t$got" >>"$OUT/verify.tsv"
done

for server in $ONLY; do
    if [ "$server" = postfix ]; then stop_postfix "${SRV_PIDS[$server]}"; else stop_pid "${SRV_PIDS[$server]}"; fi
    rm -rf "$WORK/$server/data" "$WORK/$server/mail" "$WORK/$server/queue"
done

log "throughput done; $(uptime)"

# ---------------------------------------------------------------- memory

if ! over_budget; then
    log "big message: one ${BIG_MIB} MiB message to a fresh postern (syncfs)"
    start_postern postern-big syncfs
    "$PY" "$LIB/big_message.py" --port "$SRV_PORT" --pid "$SRV_PID" --mib "$BIG_MIB" | tee "$OUT/big-message-postern.json"
    stop_pid "$SRV_PID"
    rm -rf "$WORK/postern-big/data"
fi

case " $ONLY " in *" postern-"*) idle_servers="postern" ;; *) idle_servers="" ;; esac
case " $ONLY " in *" postfix "*) idle_servers="$idle_servers postfix" ;; esac
for server in $idle_servers; do
    if over_budget; then log "budget of $BUDGET s spent: skipping idle connections to $server"; continue; fi
    log "idle connections: $IDLE_N to a fresh $server"
    if [ "$server" = postern ]; then
        start_postern postern-idle syncfs
    else
        # One smtpd process per connection, up to default_process_limit.
        start_postfix postfix-idle $((IDLE_N + 100))
    fi
    "$PY" "$LIB/idle_conns.py" --port "$SRV_PORT" --pid "$SRV_PID" --count "$IDLE_N" \
        --deadline "$(( BUDGET - SECONDS > 60 ? BUDGET - SECONDS - 30 : 30 ))" | tee "$OUT/idle-$server.json"
    if [ "$server" = postern ]; then stop_pid "$SRV_PID"; else stop_postfix "$SRV_PID"; fi
done

# ---------------------------------------------------------------- summary

log "done in $SECONDS s; results in $OUT"
echo "uptime at end: $(uptime)" | tee -a "$OUT/machine.txt" >&2
echo
column -t -s $'\t' <(cut -f1-13 "$RESULTS")
[ "$VERIFY_OK" = 1 ] || { echo "run.sh: verification FAILED" >&2; exit 1; }
