#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The web inbox with many stored messages: API list and search latency, and the server's memory,
# at 1,000 messages and at 100,000, postern against MailDev 3 (npm package `maildev`, the peer
# that installs offline here; Mailpit and MailHog are not in Debian nor npm) in the same run.
#
#   bash bench/web_bench.sh [OUT_DIR]          # about 6 minutes on 2 cores at 100,000 messages
#   bash bench/web_bench.sh --report OUT_DIR   # the summary tables again, from OUT_DIR
#
# Environment: POSTERN (the binary, default build/src/app/postern), WEB_BENCH_MESSAGES (100000),
# WEB_BENCH_SMALL (the first stage, 1000), WEB_BENCH_REPS (timed rounds per stage, 50),
# WEB_BENCH_CONNS (SMTP connections of the loader, 8), WEB_BENCH_PEER (maildev, or none),
# WEB_BENCH_PEER_SECONDS (300: MailDev's fill to N stops there, and the run says how far it got),
# WEB_BENCH_MAILDEV_DIR (where MailDev is installed with npm if missing, default
# /var/tmp/postern-bench-maildev; never the repository).
#
# One postern and one MailDev run side by side on 127.0.0.1, each on its own free SMTP and HTTP
# ports, from start to end of the run; postern keeps every message ([web] max_messages = 0,
# max_size_mb = 0) and MailDev too (--max-emails 0, its default), each persisting to its own
# folder under the work dir. Stages:
#   1. messages 0..SMALL-1 into each server (bench/lib/web_fill.py: the same octets to both), wait
#      until each counts them (postern: indexed, backlog 0);
#   2. the timed calls at SMALL (bench/lib/web_measure.py time: rounds interleaving the two
#      servers), then each server's memory;
#   3. messages SMALL..N-1 into postern, then into MailDev (one at a time: the other is idle),
#      with fill time, server CPU, and memory right after;
#   4. the timed calls at N, then memory again.
# The same processes throughout, so RSS(N) / RSS(SMALL) says whether memory grows with the
# number of stored messages. Every process started is stopped by its pid at exit.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
PY=/usr/bin/python3
POSTERN="${POSTERN:-$ROOT/build/src/app/postern}"
N="${WEB_BENCH_MESSAGES:-100000}"
SMALL="${WEB_BENCH_SMALL:-1000}"
REPS="${WEB_BENCH_REPS:-50}"
CONNS="${WEB_BENCH_CONNS:-8}"
PEER="${WEB_BENCH_PEER:-maildev}"
PEER_SECONDS="${WEB_BENCH_PEER_SECONDS:-300}"
MAILDEV_DIR="${WEB_BENCH_MAILDEV_DIR:-/var/tmp/postern-bench-maildev}"
MAILDEV_VERSION=3.0.0

summarize() {  # summarize OUT_DIR: the tables of docs/performance.md, section "Web inbox"
    "$PY" - "$1" <<'EOF'
import json, os, sys
out = sys.argv[1]
def load(name):
    p = os.path.join(out, name)
    return json.load(open(p)) if os.path.exists(p) and os.path.getsize(p) else None
small, big = load("time-small.json"), load("time-big.json")
names = {"postern": "postern", "maildev": "MailDev"}
servers = [k for k in ("postern", "maildev") if big and k in big["servers"]]
calls = [("first_page", "first page (50 newest)"), ("deep_page", "page at the middle (start = total / 2)"),
         ("search_rare", "search, 1 % match (`quokka`)"), ("search_common", "search, 50 % match (`invoice`)"),
         ("message", "one message (`/message/{ID}`)")]
def cell(stage, k, c):
    if not stage or k not in stage["servers"]:
        return "-"
    d = stage["servers"][k]["calls"][c]
    return f"{d['median_ms']:.2f} / {d['p95_ms']:.2f}"
def tot(stage, k):
    return f"{stage['servers'][k]['total']:,}" if stage and k in stage["servers"] else "-"
head = "| call (median / p95, ms) |"
sep = "|---|"
for k in servers:
    head += f" {names[k]}, {tot(small, k)} msgs | {names[k]}, {tot(big, k)} msgs |"
    sep += "---|---|"
if "maildev" in servers:
    head += " MailDev / postern at the larger count (median) |"
    sep += "---|"
print(f"Latency, {big['reps'] if big else '?'} timed rounds per stage, servers interleaved:\n")
print(head); print(sep)
for c, label in calls:
    row = f"| {label} |"
    for k in servers:
        row += f" {cell(small, k, c)} | {cell(big, k, c)} |"
    if "maildev" in servers:
        p, m = big["servers"]["postern"]["calls"][c]["median_ms"], big["servers"]["maildev"]["calls"][c]["median_ms"]
        row += f" {m / p:.1f}x |"
    print(row)
print()
print("Matches reported (total of the list; matches of a search) and first-call (cold) times, ms:\n")
print("| call | " + " | ".join(f"{names[k]} matches, {tot(s, k)} msgs | {names[k]} first call" for k in servers for s in (small, big)) + " |")
print("|---|" + "---|---|" * (2 * len(servers)))
for c, label in calls[:4]:
    row = f"| {label} |"
    for k in servers:
        for s in (small, big):
            d = s["servers"][k]["calls"][c] if s and k in s["servers"] else None
            row += f" {d['matches']:,} | {d['first_ms']:.1f} |" if d else " - | - |"
    print(row)
print()
print("Memory (KiB, /proc/PID/status; Pss from smaps_rollup):\n")
print("| server | VmRSS, empty | VmRSS after the calls at the small count | VmRSS right after the fill to the large count | VmRSS after the calls at the large count | of which RssAnon / RssFile | Pss | VmHWM (peak, whole run) | VmRSS large / small |")
print("|---|---|---|---|---|---|---|---|---|")
def kib(m, key="VmRSS"):
    return format(m[key], ",") if m else "-"
for k in servers:
    m0 = load(f"mem-empty-{k}.json")
    m1 = small["servers"][k]["mem_kib"] if small else None
    fill = load(f"mem-after-fill-{k}.json")
    m2 = big["servers"][k]["mem_kib"]
    ratio = f"{m2['VmRSS'] / m1['VmRSS']:.2f}x" if m1 else "-"
    print(f"| {names[k]} ({tot(small, k)} then {tot(big, k)} msgs) | {kib(m0)} | {kib(m1)} | {kib(fill)} | {kib(m2)} | "
          f"{kib(m2, 'RssAnon')} / {kib(m2, 'RssFile')} | {kib(m2, 'Pss')} | {kib(m2, 'VmHWM')} | {ratio} |")
print()
fills = [(k, load(f"fill-{k}.json"), load(f"wait-{k}.json"), load(f"cpu-fill-{k}.json")) for k in servers]
print("Fill to the large count (loader: bench/lib/web_fill.py):\n")
print("| server | messages sent | loader seconds | msg/s acknowledged | then waited until counted (s) | backlog when the loader ended | server CPU s, fill + indexing |")
print("|---|---|---|---|---|---|---|")
for k, f, w, cpu in fills:
    if f:
        print(f"| {names[k]} | {f['sent']:,} | {f['seconds']} | {f['per_s']:,} | {w['seconds'] if w else '-'} | "
              f"{w.get('backlog_at_start', '-') if w else '-'} | {cpu['cpu_s'] if cpu else '-'} |")
EOF
}

if [ "${1:-}" = --report ]; then
    summarize "${2:?usage: web_bench.sh --report OUT_DIR}"
    exit 0
fi

WORK="$(mktemp -d /var/tmp/postern-web-bench.XXXXXX)"
chmod 755 "$WORK"
OUT="${1:-$WORK/results}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
LOG="$OUT/run.log"
: >"$LOG"
# shellcheck source=bench/lib/common.sh
. "$HERE/lib/common.sh"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

[ -x "$POSTERN" ] || { echo "web_bench.sh: no postern binary at $POSTERN (cmake --build build --target postern)" >&2; exit 1; }
[ "$N" -gt "$SMALL" ] || { echo "web_bench.sh: WEB_BENCH_MESSAGES ($N) must be above WEB_BENCH_SMALL ($SMALL)" >&2; exit 1; }
MEASURE=("$PY" "$HERE/lib/web_measure.py")
FILL=("$PY" "$HERE/lib/web_fill.py")

# ---------------------------------------------------------------- the peer

MAILDEV_JS="$MAILDEV_DIR/node_modules/maildev/dist/bin/maildev.js"
if [ "$PEER" = maildev ]; then
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        log "no node/npm: running without the MailDev peer"
        PEER=none
    elif [ ! -f "$MAILDEV_JS" ] || ! grep -q "\"version\": \"$MAILDEV_VERSION\"" "$MAILDEV_DIR/node_modules/maildev/package.json"; then
        log "installing maildev@$MAILDEV_VERSION into $MAILDEV_DIR (npm)"
        mkdir -p "$MAILDEV_DIR"
        npm install --prefix "$MAILDEV_DIR" --no-audit --no-fund --loglevel=error "maildev@$MAILDEV_VERSION" >>"$LOG" 2>&1 \
            || { log "npm install maildev failed: running without the peer"; PEER=none; }
    fi
fi

# ---------------------------------------------------------------- the servers

wait_http() {  # wait_http URL PID: until URL answers 200 (10 s)
    for _ in $(seq 100); do
        alive "$2" || { log "pid $2 exited"; return 1; }
        curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    log "no answer from $1"
    return 1
}

start_postern() {  # -> POSTERN_PID POSTERN_SMTP POSTERN_URL
    local dir="$WORK/postern"
    mkdir -p "$dir"
    cat >"$dir/postern.toml" <<EOF
[web]
max_messages = 0
max_size_mb = 0

[log]
level = "warn"
EOF
    POSTERN_SMTP=$(free_port)
    local http_port
    http_port=$(free_port)
    "$POSTERN" serve --data "$dir/data" --smtp "127.0.0.1:$POSTERN_SMTP" --http "127.0.0.1:$http_port" \
        --config "$dir/postern.toml" >"$dir/postern.log" 2>&1 &
    POSTERN_PID=$!
    STARTED_PIDS+=("$POSTERN_PID")
    POSTERN_URL="http://127.0.0.1:$http_port"
    wait_greeting "$POSTERN_SMTP" "$POSTERN_PID"
    wait_http "$POSTERN_URL/api/v1/info" "$POSTERN_PID"
    log "postern: pid $POSTERN_PID, SMTP 127.0.0.1:$POSTERN_SMTP, HTTP $POSTERN_URL, data $dir/data"
}

start_maildev() {  # -> MAILDEV_PID MAILDEV_SMTP MAILDEV_URL
    local dir="$WORK/maildev"
    mkdir -p "$dir/mail" "$dir/tmp"
    MAILDEV_SMTP=$(free_port)
    local http_port
    http_port=$(free_port)
    # node is the server process itself (no child processes): $! is its pid.
    TMPDIR="$dir/tmp" node "$MAILDEV_JS" --smtp "$MAILDEV_SMTP" --web "$http_port" --ip 127.0.0.1 \
        --web-ip 127.0.0.1 --mail-directory "$dir/mail" --max-emails 0 --silent >"$dir/maildev.log" 2>&1 &
    MAILDEV_PID=$!
    STARTED_PIDS+=("$MAILDEV_PID")
    MAILDEV_URL="http://127.0.0.1:$http_port"
    wait_greeting "$MAILDEV_SMTP" "$MAILDEV_PID"
    wait_http "$MAILDEV_URL/api/healthz" "$MAILDEV_PID"
    log "maildev: $MAILDEV_VERSION, node $(node --version), pid $MAILDEV_PID, SMTP 127.0.0.1:$MAILDEV_SMTP, HTTP $MAILDEV_URL, mail $dir/mail"
}

cpu_of() { "$PY" "$HERE/lib/procstat.py" cpu "$1"; }

# fill KIND FIRST COUNT DEADLINE_S TAG: send messages FIRST.. to KIND, wait until it counts
# FIRST+COUNT, record OUT/fill-TAG.json, OUT/wait-TAG.json, OUT/cpu-fill-TAG.json (server CPU over
# both).
fill() {
    local kind=$1 first=$2 count=$3 deadline=$4 tag=$5 port pid url c0 c1 rc=0 got
    if [ "$kind" = postern ]; then port=$POSTERN_SMTP pid=$POSTERN_PID url=$POSTERN_URL
    else port=$MAILDEV_SMTP pid=$MAILDEV_PID url=$MAILDEV_URL; fi
    echo "${FILL[*]} --port $port --first $first --count $count --conns $CONNS --deadline $deadline" >>"$OUT/commands.txt"
    c0=$(cpu_of "$pid")
    timeout $((deadline + 60)) "${FILL[@]}" --port "$port" --first "$first" --count "$count" --conns "$CONNS" \
        --deadline "$deadline" >"$OUT/fill-$tag.json" 2>>"$LOG" || rc=$?
    got=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["sent"])' "$OUT/fill-$tag.json" 2>/dev/null || echo 0)
    log "fill $tag: $(cat "$OUT/fill-$tag.json" 2>/dev/null) (rc $rc)"
    "${MEASURE[@]}" wait --server "$kind" "$url" "$pid" --expect $((first + got)) --timeout 600 \
        >"$OUT/wait-$tag.json" || { log "wait $tag: $(cat "$OUT/wait-$tag.json")"; return 1; }
    c1=$(cpu_of "$pid")
    echo "{\"cpu_s\": $(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", b - a }')}" >"$OUT/cpu-fill-$tag.json"
    log "counted $tag: $(cat "$OUT/wait-$tag.json"), server CPU $(cat "$OUT/cpu-fill-$tag.json")"
    FILLED=$((first + got))
}

# ---------------------------------------------------------------- the run

{
    echo "date:    $(date -u '+%F %T') UTC"
    echo "host:    $(nproc) CPUs, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
    echo "kernel:  $(uname -sr)"
    echo "fs:      $(df -T "$WORK" | awk 'NR == 2 { print $1, $2 }') ($WORK)"
    echo "postern: $("$POSTERN" --version 2>/dev/null | head -1), $POSTERN (binary of $(date -u -r "$POSTERN" '+%F %T') UTC; tree at commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD -- src 2>/dev/null || echo ', src/ modified'))"
    if [ "$PEER" = maildev ]; then echo "peer:    MailDev $MAILDEV_VERSION (npm), node $(node --version)"; fi
    echo "run:     $SMALL then $N messages, $REPS timed rounds per stage, loader $CONNS SMTP connections"
    echo "uptime: $(uptime)"
} | tee "$OUT/machine.txt" >&2

start_postern
SERVERS=(--server postern "$POSTERN_URL" "$POSTERN_PID")
if [ "$PEER" = maildev ]; then
    start_maildev
    SERVERS+=(--server maildev "$MAILDEV_URL" "$MAILDEV_PID")
fi
"${MEASURE[@]}" mem --server postern "$POSTERN_URL" "$POSTERN_PID" >"$OUT/mem-empty-postern.json"
if [ "$PEER" = maildev ]; then
    "${MEASURE[@]}" mem --server maildev "$MAILDEV_URL" "$MAILDEV_PID" >"$OUT/mem-empty-maildev.json"
fi

# Stage 1 and 2: SMALL messages.
fill postern 0 "$SMALL" 120 small-postern
if [ "$PEER" = maildev ]; then fill maildev 0 "$SMALL" 120 small-maildev; fi
log "timing the calls at $SMALL messages"
echo "${MEASURE[*]} time ${SERVERS[*]} --reps $REPS --stage small" >>"$OUT/commands.txt"
timeout 600 "${MEASURE[@]}" time "${SERVERS[@]}" --reps "$REPS" --stage small >"$OUT/time-small.json"

# Stage 3: up to N, one server at a time.
fill postern "$SMALL" $((N - SMALL)) 600 postern
"${MEASURE[@]}" mem --server postern "$POSTERN_URL" "$POSTERN_PID" >"$OUT/mem-after-fill-postern.json"
log "postern after the fill: $(cat "$OUT/mem-after-fill-postern.json")"
if [ "$PEER" = maildev ]; then
    fill maildev "$SMALL" $((N - SMALL)) "$PEER_SECONDS" maildev
    "${MEASURE[@]}" mem --server maildev "$MAILDEV_URL" "$MAILDEV_PID" >"$OUT/mem-after-fill-maildev.json"
    log "maildev after the fill: $(cat "$OUT/mem-after-fill-maildev.json")"
    if [ "$FILLED" -lt "$N" ]; then log "MailDev took $FILLED of $N messages in $PEER_SECONDS s: its figures are at $FILLED"; fi
fi

# Stage 4: the calls at N.
log "timing the calls at $N messages"
echo "${MEASURE[*]} time ${SERVERS[*]} --reps $REPS --stage big" >>"$OUT/commands.txt"
timeout 900 "${MEASURE[@]}" time "${SERVERS[@]}" --reps "$REPS" --stage big >"$OUT/time-big.json"

{
    echo "postern data: $(du -sk "$WORK/postern/data/mail" | cut -f1) KiB of Maildir, index $(du -ck "$WORK/postern/data"/index.sqlite* | tail -1 | cut -f1) KiB"
    if [ "$PEER" = maildev ]; then echo "maildev data: $(du -sk "$WORK/maildev/mail" | cut -f1) KiB"; fi
    echo "uptime at end: $(uptime)"
} | tee -a "$OUT/machine.txt" >&2
cp "$WORK/postern/postern.log" "$OUT/postern.log"   # warn and error lines only

# ---------------------------------------------------------------- summary and checks

summarize "$OUT" | tee "$OUT/summary.md"
"$PY" - "$OUT/time-big.json" "$N" <<'EOF' | tee -a "$OUT/summary.md"
import json, sys
d = json.load(open(sys.argv[1]))
n = int(sys.argv[2])
p = d["servers"]["postern"]
bad = []
rare = sum(1 for i in range(p["total"]) if i % 100 == 37)
common = sum(1 for i in range(p["total"]) if i % 4 in (0, 2))
for k, s in d["servers"].items():
    exp = {"first_page": s["total"], "deep_page": s["total"],
           "search_rare": sum(1 for i in range(s["total"]) if i % 100 == 37),
           "search_common": sum(1 for i in range(s["total"]) if i % 4 in (0, 2))}
    for c, e in exp.items():
        if s["calls"][c]["matches"] != e:
            bad.append(f"{k} {c}: {s['calls'][c]['matches']} matches, expected {e}")
print()
print(f"Checks: every answer 200; matches as expected for each server ({'ok' if not bad else 'FAILED: ' + '; '.join(bad)}).")
fp = p["calls"]["first_page"]
print(f"Target, first page under 50 ms at {p['total']:,} messages: median {fp['median_ms']:.2f} ms, p95 {fp['p95_ms']:.2f} ms: "
      f"{'met' if fp['p95_ms'] < 50 else 'NOT met'}.")
sys.exit(1 if bad else 0)
EOF
log "done in $SECONDS s; results in $OUT"
