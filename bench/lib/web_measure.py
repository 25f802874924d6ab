#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The HTTP side of bench/web_bench.sh: waits for servers to hold their mail, times their list,
search and message API calls, and reads their memory from /proc.

  web_measure.py wait  --server KIND URL PID --expect N [--timeout S]
  web_measure.py mem   --server KIND URL PID
  web_measure.py time  --server KIND URL PID [--server ...] --reps R --stage LABEL

KIND is "postern" (the Mailpit-style /api/v1) or "maildev" (MailDev 3's /api/email). Each prints
one JSON document on stdout.

wait: polls until the server's own count of messages is N (postern: GET /api/v1/info "Messages"
and /metrics postern_index_backlog 0, i.e. stored and indexed; MailDev: GET
/api/email/summary "storeTotal"). Reports the seconds waited and, for postern, the index backlog
at the first poll.

mem: VmRSS, VmHWM, RssAnon, RssFile, RssShmem (KiB, /proc/PID/status) and Pss (smaps_rollup).

time: the same calls against every server, interleaved: for each of R rounds, for each call, each
server in turn (the order of the servers flips every round), over one keep-alive connection per
server (http.client, HTTP/1.1). A request's time is from sending it to having read the whole body
(the JSON is parsed afterwards, outside the timing). Two untimed rounds come first; the first
call of each kind is kept apart as "first" (cold caches). Every answer must be 200 and parse; the
number of matches each search reports is kept so the run can check both servers found the same
messages.

Calls (postern | MailDev):
  first_page     GET /api/v1/messages?start=0&limit=50      | GET /api/email/summary?skip=0&limit=50
  deep_page      GET /api/v1/messages?start=T/2&limit=50    | GET /api/email/summary?skip=T/2&limit=50
  search_rare    GET /api/v1/search?query=quokka&limit=50   | GET /api/email/summary?search=quokka&limit=50
  search_common  GET /api/v1/search?query=invoice&limit=50  | GET /api/email/summary?search=invoice&limit=50
  message        GET /api/v1/message/{ID}                   | GET /api/email/{id}
T is the server's total; {ID} is the 26th message of the first page.
"""
import argparse
import http.client
import json
import math
import re
import statistics
import sys
import time
import urllib.parse

RARE, COMMON = "quokka", "invoice"
CALLS = ["first_page", "deep_page", "search_rare", "search_common", "message"]


def proc_mem(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key = line.split(":", 1)[0]
            if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem"):
                out[key] = int(line.split()[1])
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    out["Pss"] = int(line.split()[1])
                    break
    except OSError:
        pass
    return out


class Server:
    def __init__(self, kind, url, pid):
        if kind not in ("postern", "maildev"):
            raise SystemExit(f"unknown server kind {kind}")
        self.kind, self.pid = kind, int(pid)
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port
        self.conn = None

    def get(self, path, timeout=120):
        """(status, body bytes, seconds) over the kept-alive connection; reconnects once."""
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
            try:
                t0 = time.perf_counter()
                self.conn.request("GET", path, headers={"Accept": "application/json"})
                r = self.conn.getresponse()
                body = r.read()
                t1 = time.perf_counter()
                if r.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return r.status, body, t1 - t0
            except (http.client.HTTPException, OSError):
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def get_json(self, path):
        status, body, _ = self.get(path)
        if status != 200:
            raise RuntimeError(f"{self.kind} GET {path}: {status} {body[:200]!r}")
        return json.loads(body)

    # ---- what each API calls things

    def count(self):
        if self.kind == "postern":
            info = self.get_json("/api/v1/info")
            return info["Messages"]
        return self.get_json("/api/email/summary?limit=1")["storeTotal"]

    def backlog(self):
        if self.kind != "postern":
            return 0
        status, body, _ = self.get("/metrics")
        m = re.search(rb"^postern_index_backlog (\d+)", body, re.M)
        return int(m.group(1)) if m else -1

    def page_path(self, start):
        if self.kind == "postern":
            return f"/api/v1/messages?start={start}&limit=50"
        return f"/api/email/summary?skip={start}&limit=50"

    def search_path(self, word):
        if self.kind == "postern":
            return f"/api/v1/search?query={word}&limit=50"
        return f"/api/email/summary?search={word}&limit=50"

    def message_path(self, ident):
        if self.kind == "postern":
            return f"/api/v1/message/{urllib.parse.quote(ident, safe='')}"
        return f"/api/email/{urllib.parse.quote(ident, safe='')}"

    def page_items(self, doc):
        return doc["messages"] if self.kind == "postern" else doc["items"]

    def matches(self, doc):
        """(matches or total, items on this page) of a list or search answer."""
        if self.kind == "postern":
            return doc["messages_count"], len(doc["messages"])
        return doc["total"], len(doc["items"])

    def item_id(self, item):
        return item["ID"] if self.kind == "postern" else item["id"]

    def calls(self):
        total = self.count()
        first = self.get_json(self.page_path(0))
        items = self.page_items(first)
        ident = self.item_id(items[min(25, len(items) - 1)])
        return total, {
            "first_page": self.page_path(0),
            "deep_page": self.page_path(total // 2),
            "search_rare": self.search_path(RARE),
            "search_common": self.search_path(COMMON),
            "message": self.message_path(ident),
        }


def nearest_rank(sorted_values, p):
    return sorted_values[max(0, math.ceil(p * len(sorted_values)) - 1)]


def cmd_wait(a):
    s = Server(*a.server[0])
    t0 = time.monotonic()
    first_backlog = None
    last = None
    while True:
        try:
            n = s.count()
            b = s.backlog()
            if first_backlog is None:
                first_backlog = b
            last = (n, b)
            if n >= a.expect and b == 0:
                break
        except (OSError, http.client.HTTPException, RuntimeError, ValueError, KeyError):
            pass
        if time.monotonic() - t0 > a.timeout:
            print(json.dumps({"ok": False, "seconds": round(time.monotonic() - t0, 2), "count": last and last[0],
                              "backlog": last and last[1], "expect": a.expect}))
            return 1
        time.sleep(0.2)
    print(json.dumps({"ok": True, "seconds": round(time.monotonic() - t0, 2), "count": last[0],
                      "backlog_at_start": first_backlog, "expect": a.expect}))
    return 0


def cmd_mem(a):
    s = Server(*a.server[0])
    print(json.dumps(proc_mem(s.pid)))
    return 0


def cmd_time(a):
    servers = [Server(*x) for x in a.server]
    plan = {}
    totals = {}
    for s in servers:
        totals[s.kind], plan[s.kind] = s.calls()
    samples = {s.kind: {c: [] for c in CALLS} for s in servers}
    first = {s.kind: {} for s in servers}
    info = {s.kind: {} for s in servers}
    for rnd in range(a.warmup + a.reps):
        order = servers if rnd % 2 == 0 else list(reversed(servers))
        for call in CALLS:
            for s in order:
                path = plan[s.kind][call]
                status, body, secs = s.get(path)
                if status != 200:
                    raise SystemExit(f"{s.kind} GET {path}: status {status}: {body[:200]!r}")
                if rnd == 0:
                    first[s.kind][call] = secs
                    doc = json.loads(body)
                    entry = {"path": path, "bytes": len(body)}
                    if call != "message":
                        entry["matches"], entry["items"] = s.matches(doc)
                    info[s.kind][call] = entry
                elif rnd >= a.warmup:
                    samples[s.kind][call].append(secs)
    out = {"stage": a.stage, "reps": a.reps, "servers": {}}
    for s in servers:
        res = {"total": totals[s.kind], "pid": s.pid, "calls": {}}
        for call in CALLS:
            v = sorted(samples[s.kind][call])
            res["calls"][call] = dict(info[s.kind][call],
                                      median_ms=round(1000 * statistics.median(v), 3),
                                      p95_ms=round(1000 * nearest_rank(v, 0.95), 3),
                                      min_ms=round(1000 * v[0], 3), max_ms=round(1000 * v[-1], 3),
                                      first_ms=round(1000 * first[s.kind][call], 3))
        res["mem_kib"] = proc_mem(s.pid)
        out["servers"][s.kind] = res
    print(json.dumps(out))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["wait", "mem", "time"])
    ap.add_argument("--server", nargs=3, action="append", metavar=("KIND", "URL", "PID"), required=True)
    ap.add_argument("--expect", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--reps", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--stage", default="")
    a = ap.parse_args()
    return {"wait": cmd_wait, "mem": cmd_mem, "time": cmd_time}[a.what](a)


if __name__ == "__main__":
    sys.exit(main())
