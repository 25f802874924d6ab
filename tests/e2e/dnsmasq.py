# SPDX-License-Identifier: MIT
"""A real DNS server for end-to-end tests: Debian's dnsmasq (package dnsmasq-base) on
127.0.0.1:<free port>, UDP and TCP, serving the records a test gives it and nothing else.

    from dnsmasq import make_dnsmasq, dns_zone   # noqa: F401  (pytest fixtures)

    def test_x(make_dnsmasq):
        dns = make_dnsmasq([("MX", "example.test", 10, "mx1.example.test"),
                            ("A", "mx1.example.test", "127.0.0.1")])
        run(["postern", "mx", "example.test", "--dns", dns.address])

Records are tuples:
    ("MX",    name, preference, host)        host "." is a null MX (RFC 7505)
    ("A",     name, "192.0.2.1")
    ("AAAA",  name, "2001:db8::1")
    ("TXT",   name, "text")  or  ("TXT", name, ["string 1", "string 2"])   one record per tuple
    ("TLSA",  name, usage, selector, matching_type, "hex data")
    ("CNAME", name, target)                  the target must be one of the records' names
    ("PTR",   "192.0.2.1", host)             the address (IPv4 or IPv6), not the arpa name
A TXT string longer than 255 octets is split into 255-octet strings (RFC 1035 §3.3.14 holds no
more in one; SPF and DKIM join them with nothing between, RFC 7208 §3.3, RFC 6376 §3.6.2.2).
Every A/AAAA name also gets the PTR of its addresses (dnsmasq's host-record), except for an
address that has PTR records of its own: then only those answer, in the order given.
Names may be Unicode; they are served as A-labels (Python's IDNA 2003 codec: keep to names on
which IDNA 2003 and 2008 agree, so no "ß" or "ς").

Every zone (the last label of each name: "test" for "mx1.example.test") is local: a name the
records do not hold is NXDOMAIN, a type they do not hold for a known name is NODATA, and nothing
is forwarded anywhere (`local=/test/`; without it dnsmasq answers REFUSED). With
`nxdomain_elsewhere=True` every other name is NXDOMAIN too (`local=/#/`), as on the Internet for
names nobody registered: checks that look up arbitrary names (SPF with other implementations)
then see a name error, not REFUSED. `dns_zone` is one
ready-made zone (ZONE below) covering the usual cases.

Each server is stopped by its pid at teardown (SIGTERM, then SIGKILL), and `query()` is a
minimal stub resolver for checking what the server answers.
"""
from __future__ import annotations

import ipaddress
import os
import random
import signal
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path

import pytest

DNSMASQ = "/usr/sbin/dnsmasq"

TYPES = {"A": 1, "CNAME": 5, "MX": 15, "TXT": 16, "AAAA": 28, "TLSA": 52}
RCODES = {0: "NOERROR", 2: "SERVFAIL", 3: "NXDOMAIN", 5: "REFUSED"}

# The standard test zone: several MX preferences (two equal ones, to see the shuffle), A and
# AAAA, TXT with one and with two strings, TLSA, a null MX, a domain with no MX but an address,
# a domain with neither, and an IDN domain.
ZONE = [
    ("MX", "example.test", 10, "mx1.example.test"),
    ("MX", "example.test", 20, "mx2.example.test"),
    ("MX", "example.test", 20, "mx3.example.test"),
    ("MX", "example.test", 30, "mx4.example.test"),
    ("A", "mx1.example.test", "192.0.2.1"),
    ("AAAA", "mx1.example.test", "2001:db8::1"),
    ("A", "mx2.example.test", "192.0.2.2"),
    ("AAAA", "mx3.example.test", "2001:db8::3"),
    ("TXT", "example.test", "v=spf1 ip4:192.0.2.0/24 -all"),
    ("TXT", "example.test", ["part one, ", "part two"]),
    ("TLSA", "_25._tcp.mx1.example.test", 3, 1, 1, "8f00c0ffee"),
    ("MX", "nomail.test", 0, "."),
    ("A", "nomail.test", "192.0.2.9"),
    ("A", "plain.test", "192.0.2.7"),
    ("AAAA", "plain.test", "2001:db8::7"),
    ("TXT", "bare.test", "no mail here"),
    ("MX", "bücher.test", 10, "mx.bücher.test"),
    ("A", "mx.bücher.test", "192.0.2.10"),
]


def a_label(name: str) -> str:
    """"Bücher.Test." -> "xn--bcher-kva.test" (label by label, so underscores survive)."""
    name = name.rstrip(".").lower()
    if name == "":
        return "."
    return ".".join(l if l.isascii() else l.encode("idna").decode("ascii") for l in name.split("."))


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _split_255(parts: list[str]) -> list[str]:
    """Strings of at most 255 octets (UTF-8), split at character boundaries."""
    out: list[str] = []
    for part in parts:
        piece = ""
        for ch in part:
            if len((piece + ch).encode("utf-8")) > 255:
                out.append(piece)
                piece = ""
            piece += ch
        out.append(piece)
    return out


def reverse_name(address: str) -> str:
    """"192.0.2.1" -> "1.2.0.192.in-addr.arpa"; IPv6 gives the ip6.arpa nibble name."""
    return ipaddress.ip_address(address).reverse_pointer


def config_lines(records) -> list[str]:
    """The dnsmasq configuration lines for `records` (see the module docstring)."""
    lines: list[str] = []
    addresses: dict[str, list[str]] = {}
    ptrs: dict[str, list[str]] = {}
    zones: set[str] = set()
    for rec in records:
        kind = rec[0].upper()
        name = reverse_name(rec[1]) if kind == "PTR" else a_label(rec[1])
        zones.add(name.rsplit(".", 1)[-1])
        if kind == "MX":
            lines.append(f"mx-host={name},{a_label(rec[3])},{int(rec[2])}")
        elif kind in ("A", "AAAA"):
            addresses.setdefault(name, []).append(rec[2])
        elif kind == "TXT":
            parts = _split_255([rec[2]] if isinstance(rec[2], str) else list(rec[2]))
            lines.append(f"txt-record={name}," + ",".join(_quote(p) for p in parts))
        elif kind == "TLSA":
            usage, selector, mtype, data = rec[2], rec[3], rec[4], rec[5]
            lines.append(f"dns-rr={name},52,{usage:02x}{selector:02x}{mtype:02x}{data}")
        elif kind == "CNAME":
            lines.append(f"cname={name},{a_label(rec[2])}")
        elif kind == "PTR":
            ptrs.setdefault(name, []).append(a_label(rec[2]))
        else:
            raise ValueError(f"unsupported record type {rec[0]!r}")
    # One host-record per name: dnsmasq serves every address on it (and the PTRs, harmlessly).
    lines += [f"host-record={name}," + ",".join(addrs) for name, addrs in addresses.items()]
    # dnsmasq answers the ptr-records of one name last given first: written in reverse, they
    # come back in the order of the records (RFC 7208 §4.6.4 takes "the first 10").
    for name, hosts in ptrs.items():
        lines += [f"ptr-record={name},{host}" for host in reversed(hosts)]
    lines += [f"local=/{zone}/" for zone in sorted(zones)]
    return lines


def free_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1 right now (dnsmasq binds both)."""
    for _ in range(50):
        port = random.randint(20000, 60000)
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u, \
                    socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                u.bind(("127.0.0.1", port))
                t.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
    raise RuntimeError("no free UDP+TCP port on 127.0.0.1")


# ---- a minimal stub resolver ------------------------------------------------------------------

def _encode_name(name: str) -> bytes:
    out = b""
    for label in a_label(name).split("."):
        if label:
            out += bytes([len(label)]) + label.encode("ascii")
    return out + b"\0"


def _skip_name(msg: bytes, pos: int) -> int:
    while True:
        length = msg[pos]
        if length == 0:
            return pos + 1
        if length & 0xC0 == 0xC0:
            return pos + 2
        pos += 1 + length


def query(address: tuple[str, int], name: str, qtype: str | int, timeout: float = 2.0):
    """Asks `address` once over UDP. Returns (rcode name, [(type number, rdata bytes), ...]);
    raises socket.timeout when nothing answers."""
    qt = TYPES[qtype] if isinstance(qtype, str) else qtype
    qid = random.randint(0, 0xFFFF)
    packet = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + _encode_name(name) + struct.pack(">HH", qt, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(packet, address)
        while True:
            msg, _ = s.recvfrom(65535)
            if len(msg) >= 12 and struct.unpack(">H", msg[:2])[0] == qid:
                break
    flags, qd, an = struct.unpack(">HHH", msg[2:8])
    pos = 12
    for _ in range(qd):
        pos = _skip_name(msg, pos) + 4
    answers = []
    for _ in range(an):
        pos = _skip_name(msg, pos)
        rtype, _cls, _ttl, rdlen = struct.unpack(">HHIH", msg[pos:pos + 10])
        pos += 10
        answers.append((rtype, msg[pos:pos + rdlen]))
        pos += rdlen
    return RCODES.get(flags & 0xF, str(flags & 0xF)), answers


# ---- the server -------------------------------------------------------------------------------

class DnsServer:
    """One dnsmasq process. start() returns once it answers queries."""

    def __init__(self, records, directory: Path, nxdomain_elsewhere: bool = False):
        self.records = list(records)
        self.nxdomain_elsewhere = nxdomain_elsewhere
        self.directory = Path(directory)
        self.host = "127.0.0.1"
        self.port = 0
        self.proc: subprocess.Popen | None = None
        self.log: list[str] = []
        self._reader: threading.Thread | None = None

    @property
    def address(self) -> str:
        """For --dns: "127.0.0.1:PORT"."""
        return f"{self.host}:{self.port}"

    def config_text(self) -> str:
        base = [f"port={self.port}", f"listen-address={self.host}", "bind-interfaces", "no-resolv", "no-hosts",
                "no-negcache", "log-queries", "log-facility=-", "pid-file="]
        rest = ["local=/#/"] if self.nxdomain_elsewhere else []
        return "\n".join(base + config_lines(self.records) + rest) + "\n"

    def start(self, timeout: float = 10.0) -> "DnsServer":
        for _attempt in range(5):  # the port can be taken between free_port() and the bind
            self.port = free_port()
            conf = self.directory / f"dnsmasq-{self.port}.conf"
            conf.write_text(self.config_text(), encoding="utf-8")
            argv = [DNSMASQ, "--keep-in-foreground", f"--conf-file={conf}"]
            if os.geteuid() == 0:
                argv.append("--user=root")  # dnsmasq-base has no "dnsmasq" user to change to
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.PIPE)
            self._reader = threading.Thread(target=self._drain, daemon=True)
            self._reader.start()
            if self._wait_ready(timeout):
                return self
            self.stop()
        raise AssertionError("dnsmasq did not start:\n" + "\n".join(self.log))

    def _drain(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        for raw in self.proc.stderr:
            self.log.append(raw.decode("utf-8", "replace").rstrip("\n"))

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                return False
            try:
                query((self.host, self.port), "ready.invalid", "A", timeout=0.2)
                return True
            except OSError:  # not bound yet (timeout or ICMP refused)
                time.sleep(0.05)
        return False

    def query(self, name: str, qtype: str | int, timeout: float = 2.0):
        return query((self.host, self.port), name, qtype, timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after `timeout`: the pid only."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        if self._reader is not None:
            self._reader.join(5)
        self.proc = None


@pytest.fixture
def make_dnsmasq(tmp_path: Path):
    """Factory: make_dnsmasq(records, nxdomain_elsewhere=False) -> a started DnsServer. Every
    one is stopped at teardown."""
    servers: list[DnsServer] = []

    def factory(records, nxdomain_elsewhere: bool = False) -> DnsServer:
        server = DnsServer(records, tmp_path, nxdomain_elsewhere)
        servers.append(server)
        return server.start()

    yield factory
    for server in servers:
        server.stop()


@pytest.fixture
def dns_zone(make_dnsmasq) -> DnsServer:
    """A dnsmasq serving ZONE."""
    return make_dnsmasq(ZONE)
