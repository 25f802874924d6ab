#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Opens COUNT idle SMTP connections to a server, reads each greeting, and reports the server's
memory before and after: KiB per idle connection.

  idle_conns.py --port PORT --pid SERVER_PID --count 10000 [--host 127.0.0.1]

The server's memory is VmRSS (and Pss) summed over SERVER_PID and its descendants, so a forking
server (Postfix: master, one smtpd per connection, ...) is counted whole. At most --window
connections wait for their greeting at once; the run stops early if the server stops greeting
(no progress for --stall seconds), closes connections, or the machine's MemAvailable falls under
--min-free-mib, and then reports what the server held. Prints one JSON object.
"""
import argparse
import errno
import json
import os
import resource
import selectors
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import procstat  # noqa: E402


def mem_available_mib():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) // 1024
    return 0


def raise_nofile(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(soft, need)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(hard, want)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pid", type=int, required=True, help="server pid (its descendants are counted too)")
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--window", type=int, default=200, help="connections awaiting their greeting at once")
    ap.add_argument("--stall", type=float, default=20.0, help="give up after this long without a greeting")
    ap.add_argument("--settle", type=float, default=2.0, help="seconds to wait before the 'after' reading")
    ap.add_argument("--min-free-mib", type=int, default=2048)
    ap.add_argument("--deadline", type=float, default=240.0, help="overall time limit in seconds")
    args = ap.parse_args()

    nofile = raise_nofile(args.count + 256)
    time.sleep(0.5)
    before = {"rss": procstat.rss_kib(args.pid), "pss": procstat.pss_kib(args.pid),
              "procs": len(procstat.tree(args.pid))}

    sel = selectors.DefaultSelector()
    pending = {}   # sock -> bytes received so far
    held = []      # greeted sockets
    refused = 0
    stop_reason = "target reached"
    started = time.monotonic()
    last_progress = started

    def open_one():
        nonlocal refused
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        err = s.connect_ex((args.host, args.port))
        if err not in (0, errno.EINPROGRESS):
            s.close()
            refused += 1
            return
        pending[s] = b""
        sel.register(s, selectors.EVENT_READ)

    while len(held) < args.count:
        now = time.monotonic()
        if now - started > args.deadline:
            stop_reason = "overall deadline"
            break
        if now - last_progress > args.stall:
            stop_reason = f"no greeting for {args.stall:.0f} s"
            break
        if mem_available_mib() < args.min_free_mib:
            stop_reason = f"MemAvailable under {args.min_free_mib} MiB"
            break
        if refused > 100:
            stop_reason = "connections refused or closed by the server"
            break
        while len(pending) < args.window and len(held) + len(pending) < args.count:
            if len(held) + len(pending) + 64 >= nofile:
                break
            open_one()
        for key, _ in sel.select(timeout=0.2):
            s = key.fileobj
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if not data:
                sel.unregister(s)
                del pending[s]
                s.close()
                refused += 1
                continue
            buf = pending[s] + data
            if b"\n" not in buf:
                pending[s] = buf
                continue
            sel.unregister(s)
            del pending[s]
            if buf.startswith(b"220"):
                held.append(s)
                last_progress = time.monotonic()
            else:  # 421 (too many connections) or anything else: not held
                s.close()
                refused += 1
    open_seconds = time.monotonic() - started
    for s in list(pending):
        sel.unregister(s)
        s.close()
    pending.clear()

    time.sleep(args.settle)
    # Connections the server closed meanwhile (idle timeout, limits) are readable: do not count them.
    alive = 0
    probe = selectors.DefaultSelector()
    for s in held:
        probe.register(s, selectors.EVENT_READ)
    readable = {key.fileobj for key, _ in probe.select(timeout=0)}
    for s in held:
        if s not in readable:
            alive += 1
        else:
            try:
                if s.recv(4096, socket.MSG_PEEK):
                    alive += 1  # sent something but still open
            except OSError:
                pass
    probe.close()
    after = {"rss": procstat.rss_kib(args.pid), "pss": procstat.pss_kib(args.pid),
             "procs": len(procstat.tree(args.pid))}

    for s in held:
        s.close()
    time.sleep(args.settle)
    closed = {"rss": procstat.rss_kib(args.pid), "procs": len(procstat.tree(args.pid))}

    n = max(alive, 1)
    print(json.dumps({
        "target": args.count, "greeted": len(held), "alive": alive, "refused": refused,
        "stop_reason": stop_reason, "open_seconds": round(open_seconds, 2),
        "rss_before_kib": before["rss"], "rss_after_kib": after["rss"],
        "pss_before_kib": before["pss"], "pss_after_kib": after["pss"],
        "procs_before": before["procs"], "procs_after": after["procs"],
        "rss_per_conn_kib": round((after["rss"] - before["rss"]) / n, 2),
        "pss_per_conn_kib": round((after["pss"] - before["pss"]) / n, 2),
        "rss_after_close_kib": closed["rss"], "procs_after_close": closed["procs"],
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
