# SPDX-License-Identifier: MIT
"""`postern mx` against a real dnsmasq (dnsmasq.py): preference order and the shuffle of equal
preferences, addresses, the implicit MX, the null MX, NXDOMAIN, a DNS server that never answers,
IDN domains as A-labels, human and --json output, exit statuses."""
from __future__ import annotations

import json
import socket
import subprocess
import time

import pytest

from conftest import postern_bin
from dnsmasq import dns_zone, make_dnsmasq  # noqa: F401  (fixtures)

EXIT_FOUND, EXIT_NONE, EXIT_USAGE, EXIT_DNS_ERROR = 0, 1, 2, 3


def run_mx(*args, timeout: float = 30):
    """Runs `postern mx ARGS`; returns (exit status, stdout, stderr, seconds taken)."""
    start = time.monotonic()
    proc = subprocess.run([postern_bin(), "mx", *args], stdin=subprocess.DEVNULL, capture_output=True,
                          timeout=timeout)
    return (proc.returncode, proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8", "replace"),
            time.monotonic() - start)


def mx_json(dns, domain: str, *extra):
    code, out, err, _ = run_mx(domain, "--dns", dns.address, "--json", *extra)
    assert out.endswith("\n") and out.count("\n") == 1, (out, err)
    return code, json.loads(out)


# ---- found ------------------------------------------------------------------------------------

def test_human_output_by_preference_with_addresses(dns_zone):
    code, out, err, _ = run_mx("example.test", "--dns", dns_zone.address)
    assert code == EXIT_FOUND, err
    lines = out.splitlines()
    assert lines[0] == "example.test: 4 MX"
    assert lines[1] == "  10 mx1.example.test  192.0.2.1, 2001:db8::1"   # IPv4 first, then IPv6
    assert sorted(lines[2:4]) == ["  20 mx2.example.test  192.0.2.2", "  20 mx3.example.test  2001:db8::3"]
    assert lines[4] == "  30 mx4.example.test  (no address: no such domain (NXDOMAIN))"
    assert len(lines) == 5
    assert err == ""


def test_json_output(dns_zone):
    code, doc = mx_json(dns_zone, "example.test")
    assert code == EXIT_FOUND
    assert list(doc) == ["domain", "null_mx", "implicit", "mx"]  # no "error" when found
    assert doc["domain"] == "example.test"
    assert doc["null_mx"] is False and doc["implicit"] is False
    assert [m["preference"] for m in doc["mx"]] == [10, 20, 20, 30]
    first = doc["mx"][0]
    assert first == {"preference": 10, "host": "mx1.example.test", "addresses": ["192.0.2.1", "2001:db8::1"]}
    by_host = {m["host"]: m for m in doc["mx"]}
    assert by_host["mx2.example.test"]["addresses"] == ["192.0.2.2"]
    assert by_host["mx3.example.test"]["addresses"] == ["2001:db8::3"]
    assert by_host["mx4.example.test"] == {"preference": 30, "host": "mx4.example.test", "addresses": [],
                                           "error": "nxdomain"}


def test_json_layout_matches_the_documented_form(make_dnsmasq):
    dns = make_dnsmasq([("MX", "one.test", 10, "mx1.one.test"), ("A", "mx1.one.test", "192.0.2.1"),
                        ("AAAA", "mx1.one.test", "2001:db8::1")])
    code, out, _, _ = run_mx("one.test", "--dns", dns.address, "--json")
    assert code == EXIT_FOUND
    assert out == ('{"domain": "one.test", "null_mx": false, "implicit": false, "mx": [{"preference": 10, '
                   '"host": "mx1.one.test", "addresses": ["192.0.2.1", "2001:db8::1"]}]}\n')


def test_equal_preferences_are_shuffled_across_runs(dns_zone):
    orders = set()
    for _ in range(40):  # both orders have probability 1/2 each: 40 runs miss one with p = 2^-39
        code, doc = mx_json(dns_zone, "example.test")
        assert code == EXIT_FOUND
        hosts = [m["host"] for m in doc["mx"]]
        assert hosts[0] == "mx1.example.test" and hosts[3] == "mx4.example.test"
        orders.add(tuple(hosts[1:3]))
        if len(orders) == 2:
            break
    assert orders == {("mx2.example.test", "mx3.example.test"), ("mx3.example.test", "mx2.example.test")}


# ---- implicit MX, null MX, nothing ------------------------------------------------------------

def test_implicit_mx_is_the_domain_itself(dns_zone):
    code, out, err, _ = run_mx("plain.test", "--dns", dns_zone.address)
    assert code == EXIT_FOUND, err
    assert out.splitlines()[1:] == ["  0 plain.test  192.0.2.7, 2001:db8::7"]
    assert "implicit MX" in out.splitlines()[0]
    code, doc = mx_json(dns_zone, "plain.test")
    assert code == EXIT_FOUND
    assert doc == {"domain": "plain.test", "null_mx": False, "implicit": True,
                   "mx": [{"preference": 0, "host": "plain.test", "addresses": ["192.0.2.7", "2001:db8::7"]}]}


def test_null_mx_accepts_no_mail(dns_zone):
    # nomail.test also has an A record: a null MX must win over the implicit MX (RFC 7505 §3).
    code, out, _, _ = run_mx("nomail.test", "--dns", dns_zone.address)
    assert code == EXIT_NONE
    assert out == "nomail.test: null MX (RFC 7505): this domain accepts no mail\n"
    code, doc = mx_json(dns_zone, "nomail.test")
    assert code == EXIT_NONE
    assert doc == {"domain": "nomail.test", "null_mx": True, "implicit": False, "mx": [], "error": "null_mx"}


def test_nxdomain_is_none(dns_zone):
    code, out, _, _ = run_mx("gone.test", "--dns", dns_zone.address)
    assert code == EXIT_NONE
    assert out == "gone.test: no such domain (NXDOMAIN)\n"
    code, doc = mx_json(dns_zone, "gone.test")
    assert code == EXIT_NONE
    assert doc["error"] == "nxdomain" and doc["mx"] == []


def test_no_mx_and_no_address_is_none(dns_zone):
    code, out, _, _ = run_mx("bare.test", "--dns", dns_zone.address)
    assert code == EXIT_NONE
    assert "no mail servers" in out
    assert mx_json(dns_zone, "bare.test")[1]["error"] == "no_records"


def test_mx_hosts_without_any_address_are_none(make_dnsmasq):
    dns = make_dnsmasq([("MX", "lame.test", 10, "nowhere.test")])
    code, doc = mx_json(dns, "lame.test")
    assert code == EXIT_NONE
    assert doc["error"] == "no_address"
    assert doc["mx"] == [{"preference": 10, "host": "nowhere.test", "addresses": [], "error": "nxdomain"}]


# ---- IDN --------------------------------------------------------------------------------------

def test_idn_domain_is_shown_as_its_a_label(dns_zone):
    code, out, err, _ = run_mx("Bücher.test", "--dns", dns_zone.address)
    assert code == EXIT_FOUND, err
    assert out.splitlines() == ["xn--bcher-kva.test: 1 MX", "  10 mx.xn--bcher-kva.test  192.0.2.10"]
    code, doc = mx_json(dns_zone, "xn--bcher-kva.test")
    assert code == EXIT_FOUND
    assert doc["domain"] == "xn--bcher-kva.test"
    assert doc["mx"][0]["host"] == "mx.xn--bcher-kva.test"


# ---- DNS errors -------------------------------------------------------------------------------

def test_a_server_that_never_answers_is_exit_3_within_the_timeout():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))  # bound, never read: queries vanish
        address = "127.0.0.1:%d" % silent.getsockname()[1]
        code, out, err, took = run_mx("example.test", "--dns", address, "--timeout", "2")
        assert code == EXIT_DNS_ERROR, (out, err)
        assert out == ""
        assert "postern mx: example.test: DNS error: no answer (timeout)" in err
        assert 1.5 <= took < 4.5, took
        code, out, _, took = run_mx("example.test", "--dns", address, "--timeout", "1", "--json")
        assert code == EXIT_DNS_ERROR
        assert json.loads(out)["error"] == "timeout"
        assert took < 3.5, took


def test_a_closed_port_is_a_dns_error_at_once():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, out, err, took = run_mx("example.test", "--dns", f"127.0.0.1:{port}", "--json", "--timeout", "5")
    assert code == EXIT_DNS_ERROR, (out, err)
    doc = json.loads(out)
    assert doc["error"] == "error" and doc["detail"] == "Could not contact DNS servers"
    assert took < 4, took
    code, _, err, _ = run_mx("example.test", "--dns", f"127.0.0.1:{port}")
    assert code == EXIT_DNS_ERROR
    assert err == "postern mx: example.test: DNS error: Could not contact DNS servers\n"


def test_several_servers_the_next_is_asked(dns_zone):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    code, out, err, _ = run_mx("plain.test", "--dns", f"127.0.0.1:{dead},{dns_zone.address}")
    assert code == EXIT_FOUND, (out, err)
    assert "192.0.2.7" in out


# ---- usage ------------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [
    ["not a domain"],
    ["a..b.test"],
    ["example.test", "--dns", "dns.example:53"],
    ["example.test", "--dns", "127.0.0.1:99999"],
    ["example.test", "--timeout", "0"],
    ["example.test", "--timeout", "soon"],
    [],
])
def test_usage_errors_are_exit_2(args):
    code, out, err, _ = run_mx(*args)
    assert code == EXIT_USAGE, (out, err)
    assert err != ""


def test_help_names_the_flags():
    proc = subprocess.run([postern_bin(), "mx", "--help"], capture_output=True, timeout=10)
    assert proc.returncode == 0
    for flag in (b"--dns", b"--json", b"--timeout", b"DOMAIN"):
        assert flag in proc.stdout


# ---- the fixture itself (others reuse it) -----------------------------------------------------

def test_the_zone_serves_what_it_says(dns_zone):
    rcode, answers = dns_zone.query("example.test", "TXT")
    assert rcode == "NOERROR"
    assert sorted(rdata for _, rdata in answers) == sorted([b"\x1cv=spf1 ip4:192.0.2.0/24 -all",
                                                            b"\x0apart one, \x08part two"])
    assert dns_zone.query("_25._tcp.mx1.example.test", "TLSA") == ("NOERROR", [(52, bytes.fromhex("0301018f00c0ffee"))])
    assert dns_zone.query("nomail.test", "MX") == ("NOERROR", [(15, b"\x00\x00\x00")])
    assert dns_zone.query("plain.test", "MX") == ("NOERROR", [])  # NODATA, not NXDOMAIN
    assert dns_zone.query("gone.test", "A")[0] == "NXDOMAIN"
    assert dns_zone.query("xn--bcher-kva.test", "MX")[0] == "NOERROR"


def test_servers_are_independent(make_dnsmasq):
    one = make_dnsmasq([("A", "h.test", "192.0.2.1")])
    two = make_dnsmasq([("A", "h.test", "192.0.2.2")])
    assert one.port != two.port
    assert one.query("h.test", "A")[1] == [(1, bytes([192, 0, 2, 1]))]
    assert two.query("h.test", "A")[1] == [(1, bytes([192, 0, 2, 2]))]
    one.stop()
    assert two.query("h.test", "A")[0] == "NOERROR"
