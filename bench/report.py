#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Turns the output folder of bench/run.sh into the Markdown tables of docs/performance.md.

  /usr/bin/python3 bench/report.py OUT_DIR

Only arithmetic on what run.sh recorded (ratios, per-message figures): nothing is estimated.
"""
import csv
import json
import os
import sys

SERVERS = ["postern-syncfs", "postern-fsync", "postfix", "smtp-sink"]
LOAD_NAMES = {
    "1k-1s": "1 KiB, 1 session",
    "1k-20s": "1 KiB, 20 sessions",
    "1k-100s": "1 KiB, 100 sessions",
    "100k-20s": "100 KiB, 20 sessions",
    "1k-conn-per-msg-20s": "1 KiB, 20 sessions, one connection per message",
}


def load_json(path):
    try:
        with open(path) as f:
            return json.loads(f.read().strip().splitlines()[-1])
    except (OSError, ValueError, IndexError):
        return None


def fmt_int(v):
    return f"{v:,.0f}"


def ratio(a, b):
    return f"{a / b:.2f}x" if a and b else "-"


def main(out):
    rows = {}
    order = []
    with open(os.path.join(out, "throughput.tsv")) as f:
        for r in csv.DictReader(f, delimiter="\t"):
            rows[(r["server"], r["load"])] = r
            if r["load"] not in order:
                order.append(r["load"])
    present = [s for s in SERVERS if any(k[0] == s for k in rows)]

    def rate(s, load):
        r = rows.get((s, load))
        return float(r["msg_per_s"]) if r and r["status"] == "ok" else None

    p = print
    with open(os.path.join(out, "machine.txt")) as f:
        p("```")
        p(f.read().rstrip())
        p("```")
    p()
    p("### Throughput (msg/s = messages / wall time of smtp-source)")
    p()
    p("| load | " + " | ".join(present) + " | syncfs / Postfix | fsync / Postfix | syncfs / smtp-sink |")
    p("|---" * (len(present) + 4) + "|")
    for load in order:
        cells = []
        for s in present:
            v = rate(s, load)
            st = rows.get((s, load), {}).get("status", "not run")
            cells.append(fmt_int(v) if v is not None else st)
        sy, fs, pf, sk = (rate("postern-syncfs", load), rate("postern-fsync", load),
                          rate("postfix", load), rate("smtp-sink", load))
        p(f"| {LOAD_NAMES.get(load, load)} | " + " | ".join(cells) +
          f" | {ratio(sy, pf)} | {ratio(fs, pf)} | {ratio(sy, sk)} |")
    p()
    p("### Server CPU per message (ms; utime+stime of the server's processes, from /proc)")
    p()
    p("| load | " + " | ".join(present) + " | Postfix incl. delivery to the Maildir |")
    p("|---" * (len(present) + 2) + "|")
    for load in order:
        cells = [rows[(s, load)]["cpu_ms_per_msg"] if (s, load) in rows else "-" for s in present]
        pf = rows.get(("postfix", load), {}).get("cpu_ms_incl_delivery", "-")
        p(f"| {LOAD_NAMES.get(load, load)} | " + " | ".join(cells) + f" | {pf} |")
    p()
    p("### Each run in detail")
    p()
    p("| server | load | messages | seconds | msg/s | server CPU s | smtp-source CPU s | "
      "machine CPU % (of 200) | machine minus server and smtp-source (%) | status |")
    p("|---" * 10 + "|")
    for load in order:
        for s in present:
            r = rows.get((s, load))
            if not r:
                continue
            p(f"| {s} | {load} | {r['messages']} | {r['seconds']} | {r['msg_per_s']} | {r['server_cpu_s']} | "
              f"{r['client_cpu_s']} | {r['machine_cpu_pct']} | {r['other_cpu_pct']} | {r['status']} |")
    p()
    verify = os.path.join(out, "verify.tsv")
    if os.path.exists(verify):
        p("Messages found in the Maildir after the loads (expected = acknowledged by smtp-source):")
        p()
        p("| server | expected | found |")
        p("|---|---|---|")
        with open(verify) as f:
            for line in f:
                s, e, g = line.split()
                p(f"| {s} | {e} | {g} |")
        p()
    p("### Memory")
    p()
    p("| measure | server | connections held | RSS before (KiB) | RSS after (KiB) | per connection, RSS (KiB) | "
      "PSS before (KiB) | PSS after (KiB) | per connection, PSS (KiB) | processes after |")
    p("|---" * 10 + "|")
    for name in ("postern", "postfix"):
        d = load_json(os.path.join(out, f"idle-{name}.json"))
        if not d:
            continue
        p(f"| idle connections | {name} | {d['alive']} of {d['target']} | {d['rss_before_kib']} | {d['rss_after_kib']} | "
          f"{d['rss_per_conn_kib']} | {d['pss_before_kib']} | {d['pss_after_kib']} | {d['pss_per_conn_kib']} | "
          f"{d['procs_after']} |")
    p()
    d = load_json(os.path.join(out, "big-message-postern.json"))
    if d:
        p("| big message (postern) | bytes sent | seconds | RSS before (KiB) | highest RSS sampled (KiB) | samples | "
          "growth, sampled (MiB) | VmHWM before (KiB) | VmHWM after (KiB) | growth, VmHWM (MiB) |")
        p("|---" * 10 + "|")
        p(f"| | {d['bytes_sent']:,} | {d['seconds_total']} | {d['rss_before_kib']} | {d['rss_peak_sampled_kib']} | "
          f"{d['samples']} | {d['growth_sampled_mib']} | {d['hwm_before_kib']} | {d['hwm_after_kib']} | "
          f"{d['growth_hwm_mib']} |")
        p()
    p("### Commands")
    p()
    p("```")
    seen = set()
    for load in order:
        for s in present:
            r = rows.get((s, load))
            if r and r["command"] not in seen:
                seen.add(r["command"])
                p(f"# {s}")
                p(r["command"])
    p("```")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
