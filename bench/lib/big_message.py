#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Sends one big message (DATA) to an SMTP server while sampling the server's memory.

  big_message.py --port PORT --pid SERVER_PID [--mib 100]

A sampler thread reads VmRSS and VmHWM from /proc/SERVER_PID/status every --interval seconds
(descendants summed, for forking servers) from before the connection until the 250 after the
final dot. Prints one JSON object: the RSS before, the highest RSS sampled, VmHWM before and
after, and the growth (highest sampled RSS minus RSS before).
"""
import argparse
import json
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import procstat  # noqa: E402


def status_kib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def read_reply(f):
    lines = []
    while True:
        line = f.readline()
        if not line:
            raise RuntimeError("connection closed; got " + repr(lines))
        lines.append(line.decode("latin-1").rstrip("\r\n"))
        if len(line) < 4 or line[3:4] != b"-":
            return int(lines[-1][:3]), lines


def expect(f, code, what):
    got, lines = read_reply(f)
    if got != code:
        raise RuntimeError(f"{what}: expected {code}, got {lines}")
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--mib", type=int, default=100)
    ap.add_argument("--interval", type=float, default=0.002)
    args = ap.parse_args()

    rss_before = procstat.rss_kib(args.pid)
    hwm_before = status_kib(args.pid, "VmHWM")
    peak = [rss_before]
    samples = [0]
    done = threading.Event()

    def sampler():
        while not done.is_set():
            try:
                v = procstat.rss_kib(args.pid)
            except OSError:
                v = 0
            peak[0] = max(peak[0], v)
            samples[0] += 1
            time.sleep(args.interval)

    th = threading.Thread(target=sampler, daemon=True)
    th.start()

    # The body: 78 octets of text + CRLF per line, up to --mib MiB, with a header.
    line = (b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdef" + b"\r\n")
    total = args.mib * 1024 * 1024
    header = (b"From: <bench@bench.example>\r\nTo: <bench@bench.example>\r\n"
              b"Subject: big message\r\nMessage-ID: <big@bench.example>\r\n\r\n")
    chunk = line * (1024 * 1024 // len(line))  # about 1 MiB of lines

    t0 = time.monotonic()
    s = socket.create_connection((args.host, args.port), timeout=300)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    f = s.makefile("rb")
    expect(f, 220, "greeting")
    s.sendall(b"EHLO bench.example\r\n")
    expect(f, 250, "EHLO")
    s.sendall(b"MAIL FROM:<bench@bench.example> SIZE=%d\r\n" % total)
    expect(f, 250, "MAIL")
    s.sendall(b"RCPT TO:<bench@bench.example>\r\n")
    expect(f, 250, "RCPT")
    s.sendall(b"DATA\r\n")
    expect(f, 354, "DATA")
    s.sendall(header)
    sent = len(header)
    while sent + len(chunk) <= total:
        s.sendall(chunk)
        sent += len(chunk)
    while sent + len(line) <= total:
        s.sendall(line)
        sent += len(line)
    t_data = time.monotonic()
    s.sendall(b".\r\n")
    final = expect(f, 250, "end of data")
    t_end = time.monotonic()
    s.sendall(b"QUIT\r\n")
    try:
        read_reply(f)
    except (RuntimeError, OSError):
        pass
    s.close()
    time.sleep(0.05)
    done.set()
    th.join()
    rss_after = procstat.rss_kib(args.pid)
    hwm_after = status_kib(args.pid, "VmHWM")
    print(json.dumps({
        "bytes_sent": sent, "reply": final[-1], "samples": samples[0],
        "seconds_total": round(t_end - t0, 3), "seconds_after_dot": round(t_end - t_data, 3),
        "rss_before_kib": rss_before, "rss_peak_sampled_kib": peak[0], "rss_after_kib": rss_after,
        "hwm_before_kib": hwm_before, "hwm_after_kib": hwm_after,
        "growth_sampled_mib": round((peak[0] - rss_before) / 1024, 2),
        "growth_hwm_mib": round((hwm_after - hwm_before) / 1024, 2),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
