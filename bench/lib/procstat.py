#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""CPU time and memory of a process tree, read from /proc.

  procstat.py cpu  PID   -> CPU seconds (utime+stime+cutime+cstime) summed over PID and its descendants
  procstat.py rss  PID   -> VmRSS in KiB summed over PID and its descendants
  procstat.py pss  PID   -> Pss in KiB (smaps_rollup) summed over PID and its descendants
  procstat.py tree PID   -> the pids and names of the tree, one a line
  procstat.py count PID  -> how many processes the tree holds

cutime/cstime count children that have exited and been waited for (Postfix's master reaps its
smtpd, cleanup... processes when they retire), so the sum over the live tree plus the reaped
children is the whole CPU the server spent; a before/after difference is the cost of a run.
"""
import os
import sys

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        data = f.read()
    # The name (field 2) is in parentheses and may hold spaces: split after the last ')'.
    name = data[data.index("(") + 1:data.rindex(")")]
    rest = data[data.rindex(")") + 2:].split()
    # rest[0] is field 3 (state); field N is rest[N - 3].
    return name, int(rest[1]), [int(rest[i]) for i in (11, 12, 13, 14)]  # ppid, utime stime cutime cstime


def tree(root):
    """Pids of root and all its descendants (root first)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            _, ppid, _ = _stat(entry)
        except (OSError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [int(root)]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def cpu_seconds(root):
    total = 0
    for pid in tree(root):
        try:
            total += sum(_stat(pid)[2])
        except (OSError, ValueError):
            pass
    return total / CLK_TCK


def _status_kib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def rss_kib(root):
    total = 0
    for pid in tree(root):
        try:
            total += _status_kib(pid, "VmRSS")
        except OSError:
            pass
    return total


def pss_kib(root):
    total = 0
    for pid in tree(root):
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    what, root = argv[1], argv[2]
    if what == "cpu":
        print(f"{cpu_seconds(root):.2f}")
    elif what == "rss":
        print(rss_kib(root))
    elif what == "pss":
        print(pss_kib(root))
    elif what == "count":
        print(len(tree(root)))
    elif what == "tree":
        for pid in tree(root):
            try:
                print(pid, _stat(pid)[0])
            except OSError:
                pass
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
