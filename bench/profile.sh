#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Where postern's time goes under the 1 KiB x 20 sessions load: CPU per thread, a perf profile
# and a syscall summary per thread (perf trace). Needs `perf` (apt-get install linux-perf).
#
#   bash bench/profile.sh [syncfs|fsync] [MESSAGES]
#
# Starts its own postern on a free loopback port and stops it by its pid; keeps nothing but the
# report it prints (the perf data is in a temp dir, removed at exit).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
POSTERN="${POSTERN:-$ROOT/build/src/app/postern}"
FLUSH="${1:-syncfs}"
N="${2:-30000}"
command -v perf >/dev/null || { echo "profile.sh: perf not found (apt-get install linux-perf)" >&2; exit 1; }

WORK="$(mktemp -d /var/tmp/postern-profile.XXXXXX)"
PID=""
LOAD_PID=""
cleanup() {
    local p
    for p in $LOAD_PID $PID; do
        if kill -0 "$p" 2>/dev/null; then
            kill -TERM "$p" 2>/dev/null || true
            for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
            kill -KILL "$p" 2>/dev/null || true
        fi
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

cat >"$WORK/postern.toml" <<EOF
[smtp]
max_connections = 20000
max_connections_per_ip = 20000
[store]
flush = "$FLUSH"
[log]
level = "warn"
EOF
PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$POSTERN" serve --data "$WORK/data" --smtp "127.0.0.1:$PORT" --http 127.0.0.1:0 --config "$WORK/postern.toml" &
PID=$!
sleep 0.5

load() {  # load COUNT
    /usr/sbin/smtp-source -f bench@bench.example -t bench@bench.example -m "$1" -s 20 -l 1024 -d "127.0.0.1:$PORT"
}

thread_cpu() { for t in /proc/"$PID"/task/*; do echo "$(basename "$t") $(awk '{ print $14 + $15 }' "$t/stat")"; done; }

echo "== CPU per thread (ticks of 10 ms) for $N messages, flush=$FLUSH"
thread_cpu >"$WORK/cpu0"
t0=$(date +%s.%N)
load "$N"
t1=$(date +%s.%N)
thread_cpu >"$WORK/cpu1"
join "$WORK/cpu0" "$WORK/cpu1" | awk -v n="$N" -v t0="$t0" -v t1="$t1" -v main="$PID" '{
    d = $3 - $2; printf "thread %s%s: %.2f s CPU, %.1f us per message\n", $1, ($1 == main ? " (main, Asio)" : ""), d / 100, d * 10000 / n }
    END { printf "wall %.2f s, %.0f msg/s\n", t1 - t0, n / (t1 - t0) }'

echo
echo "== perf record (cpu-clock, call graphs) during a second load"
load "$N" &
LOAD_PID=$!
sleep 0.5
perf record -F 999 -g -p "$PID" -o "$WORK/perf.data" -- sleep 2 >/dev/null 2>&1 || true
wait "$LOAD_PID" || true
LOAD_PID=""
perf report -i "$WORK/perf.data" --no-children -g none --sort pid,dso,sym --stdio 2>/dev/null \
    | grep -v '^#' | grep -v '^$' | head -40 | cut -c1-160 || true

echo
echo "== perf trace -s (syscalls per thread) during a third load"
load "$N" &
LOAD_PID=$!
sleep 0.5
timeout -s INT 2 perf trace -s -p "$PID" -o "$WORK/trace.txt" 2>/dev/null || true
wait "$LOAD_PID" || true
LOAD_PID=""
grep -v '^$' "$WORK/trace.txt" | head -40 || true
