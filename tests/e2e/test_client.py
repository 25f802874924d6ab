# SPDX-License-Identifier: MIT
"""The client side end to end: `postern probe` and `postern send` against `postern serve` and
against an independent server (aiosmtpd, with STARTTLS and AUTH), MX records from a real
dnsmasq, and every message `send` builds read back with Python's email package."""
from __future__ import annotations

import email
import email.policy
import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from conftest import E2E_DIR, Server, body_of, postern_bin
from dnsmasq import free_port, make_dnsmasq  # noqa: F401  (fixture)


def run(*args: str, stdin: bytes = b"", timeout: float = 90) -> subprocess.CompletedProcess:
    return subprocess.run([postern_bin(), *args], input=stdin, capture_output=True, timeout=timeout)


def add_user(data: Path, name: str, password: str) -> None:
    assert run("user", "add", name, "--data", str(data), stdin=password.encode()).returncode == 0


def make_cert(directory: Path, host: str) -> tuple[Path, Path]:
    cert, key = directory / f"{host}.pem", directory / f"{host}.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "30", "-subj", f"/CN={host}",
                    "-addext", f"subjectAltName=DNS:{host},IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


class Aiosmtpd:
    def __init__(self, tmp: Path, user: str = "", password: str = ""):
        self.out = tmp / "aiosmtpd-mail"
        self.out.mkdir()
        self.cert, self.key = make_cert(tmp, "aiosmtpd.test")
        self.port = free_port()
        args = ["/usr/bin/python3", str(E2E_DIR / "aiosmtpd_server.py"), "--port", str(self.port), "--cert", str(self.cert),
                "--key", str(self.key), "--out", str(self.out)]
        if user:
            args += ["--user", user, "--password", password]
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = self.proc.stdout.readline().decode()
        assert line.startswith("READY"), line + self.proc.stderr.read().decode()

    @property
    def server(self) -> str:
        return f"127.0.0.1:{self.port}"

    def messages(self) -> list[bytes]:
        return [p.read_bytes() for p in sorted(self.out.glob("*.eml"))]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@pytest.fixture
def aiosmtpd(tmp_path: Path):
    servers: list[Aiosmtpd] = []

    def factory(**kw) -> Aiosmtpd:
        d = tmp_path / f"a{len(servers)}"
        d.mkdir()
        s = Aiosmtpd(d, **kw)
        servers.append(s)
        return s

    yield factory
    for s in servers:
        s.stop()


@pytest.fixture
def mx(make_server, tmp_path: Path) -> Server:
    """postern with a local domain and a user: it knows which mailboxes exist."""
    data = tmp_path / "mx-data"
    add_user(data, "alice@example.test", "pw")
    return make_server(data_dir=data, extra_args=["--local-domain", "example.test", "--hostname", "localhost",
                                                  "--submission", "127.0.0.1:0"])


def probe(*args: str) -> tuple[int, dict]:
    r = run("probe", *args, "--json", "--timeout", "10")
    assert r.returncode in (0, 1, 3, 4), r.stderr.decode()
    return r.returncode, json.loads(r.stdout)


# ---- probe ------------------------------------------------------------------------------------

def test_probe_tells_existing_unknown_and_catch_all_apart(mx: Server, server: Server):
    code, rep = probe("alice@example.test", "--server", "%s:%d" % mx.address)
    assert (code, rep["verdict"], rep["catch_all"]) == (0, "deliverable", False), rep
    s = rep["servers"][0]
    assert s["connected"] and s["banner"].startswith("220") and "PIPELINING" in s["extensions"]
    assert s["rcpt"] == {"code": 250, "enhanced": "2.1.5", "text": s["rcpt"]["text"]}
    assert s["tls"]["version"] in ("TLSv1.2", "TLSv1.3") and s["tls"]["verified"] is False  # self-signed
    assert s["tls"]["subject"] == "CN=localhost" and s["tls"]["not_after"].endswith("Z")
    code, rep = probe("bob@example.test", "--server", "%s:%d" % mx.address)
    assert (code, rep["verdict"]) == (1, "undeliverable")
    assert rep["servers"][0]["rcpt"]["code"] == 550 and rep["servers"][0]["rcpt"]["enhanced"] == "5.1.1"
    code, rep = probe("anyone@example.org", "--server", "%s:%d" % server.address)  # the catch-all default
    assert (code, rep["verdict"], rep["catch_all"]) == (4, "risky", True)
    assert server.new_files() == []  # never DATA


def test_probe_walks_the_mx_hosts_in_order(mx: Server, make_dnsmasq):
    port = mx.address[1]
    dns = make_dnsmasq([("MX", "example.test", 10, "down.example.test"), ("A", "down.example.test", "127.0.0.2"),
                        ("MX", "example.test", 20, "up.example.test"), ("A", "up.example.test", "127.0.0.1"),
                        ("MX", "nomail.test", 0, ".")])
    code, rep = probe("alice@example.test", "--dns", dns.address, "--port", str(port))
    assert (code, rep["verdict"]) == (0, "deliverable"), rep
    assert [s["host"] for s in rep["servers"]] == ["down.example.test", "up.example.test"]
    assert rep["servers"][0]["connected"] is False and rep["servers"][1]["connected"] is True
    code, rep = probe("x@nomail.test", "--dns", dns.address)
    assert (code, rep["verdict"]) == (1, "undeliverable") and "null MX" in rep["reason"]
    code, rep = probe("x@nowhere.test", "--dns", dns.address)
    assert (code, rep["verdict"]) == (1, "undeliverable") and "no such domain" in rep["reason"]


def test_probe_against_aiosmtpd_refusals_and_greylisting(aiosmtpd):
    a = aiosmtpd()
    code, rep = probe("refuse-me@aiosmtpd.test", "--server", a.server)
    assert (code, rep["verdict"]) == (1, "undeliverable") and rep["servers"][0]["rcpt"]["code"] == 550
    code, rep = probe("grey-me@aiosmtpd.test", "--server", a.server)
    assert (code, rep["verdict"]) == (4, "risky") and "deferred" in rep["reason"]
    assert rep["servers"][0]["tls"]["version"].startswith("TLSv1")
    r = run("probe", "someone@aiosmtpd.test", "--server", a.server, "--transcript")
    out = r.stdout.decode()
    assert " -> STARTTLS" in out and "<-  220" in out and " -> DATA" not in out
    assert a.messages() == []


def test_probe_unreachable_server_is_unknown():
    code, rep = probe("a@b.test", "--server", "127.0.0.1:%d" % free_port())
    assert (code, rep["verdict"]) == (3, "unknown") and rep["servers"][0]["connected"] is False


# ---- send -------------------------------------------------------------------------------------

def parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def test_send_builds_mime_that_python_reads_back(server: Server, tmp_path: Path):
    blob = bytes(range(256)) * 40 + b"\r\n.\r\n"
    att = tmp_path / "Grüße report.pdf"
    att.write_bytes(blob)
    text = "Hello ✓\n.a dotted line\n" + "long " * 40 + "\n"
    html = "<p>Hello <b>✓</b></p>"
    r = run("send", "--server", "%s:%d" % server.address, "--tls", "none", "--from", "Zoë Sender <zoe@example.org>",
            "--to", "Bob <bob@example.com>", "--cc", "carol@example.com", "--bcc", "hidden@example.com",
            "--subject", "Grüße — ✓ test", "--text", text, "--html", html, "--attach", str(att),
            "--header", "X-Test: yes", "--json")
    assert r.returncode == 0, r.stdout.decode() + r.stderr.decode()
    out = json.loads(r.stdout)
    assert out["ok"] and [x["status"] for x in out["recipients"]] == ["sent"] * 3
    raw = body_of(server.wait_for_files(1)[0].read_bytes())
    m = parse(raw)
    assert m["Subject"] == "Grüße — ✓ test" and m["From"].addresses[0].display_name == "Zoë Sender"
    assert "hidden" not in raw.decode("ascii", "replace") and m["X-Test"] == "yes"
    assert m["Message-ID"].strip("<>") == out["message_id"]
    assert m.get_body(("plain",)).get_content().replace("\r\n", "\n") == text
    assert m.get_body(("html",)).get_content().strip() == html
    atts = list(m.iter_attachments())
    assert len(atts) == 1 and atts[0].get_filename() == "Grüße report.pdf"
    assert hashlib.sha256(atts[0].get_content()).hexdigest() == hashlib.sha256(blob).hexdigest()


SHAPES = {
    "text only": {"text": "plain ascii\n"},
    "html only": {"html": "<html><body>Ünïcödé ✓</body></html>"},
    "long lines and 8-bit": {"text": ("x" * 300 + " é\n") * 3, "subject": "A " + "very long subject " * 8 + "✓"},
    "two attachments": {"text": "see attached", "attach": {"a.txt": b"hello\r\nworld\n", "日本語 ファイル名.bin": bytes(range(256)) * 3}},
}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_send_shapes_read_back_with_python_email(server: Server, tmp_path: Path, shape: str):
    spec = SHAPES[shape]
    args = ["send", "--server", "%s:%d" % server.address, "--tls", "none", "--from", "Émile <emile@example.org>",
            "--to", "x@example.com", "--subject", spec.get("subject", shape)]
    if "text" in spec:
        args += ["--text", spec["text"]]
    if "html" in spec:
        args += ["--html", spec["html"]]
    for name, data in spec.get("attach", {}).items():
        (tmp_path / name).write_bytes(data)
        args += ["--attach", str(tmp_path / name)]
    r = run(*args)
    assert r.returncode == 0, r.stdout.decode() + r.stderr.decode()
    raw = body_of(server.wait_for_files(1)[0].read_bytes())
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    m = parse(raw)
    assert m["Subject"] == spec.get("subject", shape) and m["From"].addresses[0].display_name == "Émile"
    if "text" in spec:
        assert m.get_body(("plain",)).get_content().replace("\r\n", "\n") == spec["text"]
    if "html" in spec:
        assert m.get_body(("html",)).get_content().strip() == spec["html"]
    got = {a.get_filename(): a.get_payload(decode=True) for a in m.iter_attachments()}  # the bytes, as sent
    assert got == spec.get("attach", {})


def test_send_with_auth_and_certificate_checks(mx: Server, tmp_path: Path):
    sub = "%s:%d" % mx.listeners["submission"]
    ca = str(mx.data_dir / "tls" / "cert.pem")
    args = ["send", "--server", sub, "--from", "alice@example.test", "--to", "friend@far.test", "--subject", "hi",
            "--text", "body", "--user", "alice@example.test", "--password-stdin"]
    r = run(*args, stdin=b"pw\n")  # the self-signed certificate is not trusted by default
    assert r.returncode == 1 and b"certificate" in r.stdout + r.stderr
    r = run(*args, "--ca", ca, "--transcript", stdin=b"pw\n")
    assert r.returncode == 0, r.stdout.decode() + r.stderr.decode()
    assert b"AUTH PLAIN ****" in r.stdout and b"cHc" not in r.stdout  # masked
    r = run(*args, "--insecure", stdin=b"wrong\n")
    assert r.returncode == 1 and b"535" in r.stdout + r.stderr and b"--insecure" in r.stderr
    for method in ("LOGIN", "SCRAM-SHA-256"):
        r = run(*args, "--ca", ca, "--auth-method", method, stdin=b"pw\n")
        assert r.returncode == 0, method + r.stdout.decode() + r.stderr.decode()
    stored = mx.wait_for_files(3)
    assert len(stored) == 3 and all(b"with ESMTPSA" in p.read_bytes() for p in stored)


def test_send_to_aiosmtpd_with_starttls_auth_and_a_refused_recipient(aiosmtpd, tmp_path: Path):
    a = aiosmtpd(user="u", password="p")
    r = run("send", "--server", a.server, "--ca", str(a.cert), "--user", "u", "--password-stdin", "--from", "a@b.test",
            "--to", "ok@aiosmtpd.test", "--to", "refuse-x@aiosmtpd.test", "--to", "grey-y@aiosmtpd.test",
            "--subject", "s", "--text", "t", "--json", stdin=b"p\n")
    assert r.returncode == 1, r.stderr.decode()
    res = {x["address"]: x for x in json.loads(r.stdout)["recipients"]}
    assert res["ok@aiosmtpd.test"]["status"] == "sent"
    assert res["refuse-x@aiosmtpd.test"]["status"] == "refused" and res["refuse-x@aiosmtpd.test"]["reply"]["code"] == 550
    assert res["grey-y@aiosmtpd.test"]["status"] == "deferred" and res["grey-y@aiosmtpd.test"]["reply"]["code"] == 451
    msgs = a.messages()
    assert len(msgs) == 1 and parse(msgs[0])["Subject"] == "s"
    assert (a.out / "0001.envelope").read_text().splitlines()[2] == "auth"


def test_send_eml_straight_to_the_mx(server: Server, make_dnsmasq, tmp_path: Path):
    dns = make_dnsmasq([("MX", "dest.test", 10, "mx.dest.test"), ("A", "mx.dest.test", "127.0.0.1")])
    eml = tmp_path / "m.eml"
    eml.write_bytes(b"From: a@b.test\nTo: x@dest.test\nSubject: eml\n\n.leading dot\nbare LF lines\n")
    r = run("send", "--eml", str(eml), "--from", "a@b.test", "--to", "x@dest.test", "--dns", dns.address,
            "--port", str(server.address[1]), "--tls", "none")
    assert r.returncode == 0, r.stdout.decode() + r.stderr.decode()
    stored = body_of(server.wait_for_files(1)[0].read_bytes())
    assert b"\r\n.leading dot\r\nbare LF lines\r\n" in stored and b"Subject: eml\r\n" in stored  # CRLF on the wire
    r = run("send", "--eml", str(eml), "--from", "a@b.test", "--to", "x@nowhere.test", "--dns", dns.address)
    assert r.returncode == 1 and b"no such domain" in r.stdout


def test_send_passes_dsn_parameters_where_offered(server: Server):
    r = run("send", "--server", "%s:%d" % server.address, "--tls", "none", "--from", "a@b.test", "--to", "x@y.test",
            "--text", "t", "--notify", "SUCCESS,FAILURE", "--ret", "HDRS", "--envid", "id42", "--transcript")
    assert r.returncode == 0, r.stdout.decode() + r.stderr.decode()
    out = r.stdout.decode()
    assert " -> RCPT TO:<x@y.test> NOTIFY=SUCCESS,FAILURE" in out and "RET=HDRS ENVID=id42" in out
    assert " -> BDAT" in out  # postern offers CHUNKING
    assert run("send", "--from", "a@b.test", "--to", "x@y.test", "--notify", "SOMETIMES").returncode == 2


def test_send_utf8_addresses_use_smtputf8(server: Server):
    r = run("send", "--server", "%s:%d" % server.address, "--tls", "none", "--from", "Jörg <jörg@bücher.example>",
            "--to", "δοκιμή@παράδειγμα.example", "--subject", "utf-8 all the way", "--text", "γειά", "--transcript")
    assert r.returncode == 0, r.stdout.decode() + r.stderr.decode()
    assert " -> MAIL FROM:<jörg@bücher.example>" in r.stdout.decode() and "SMTPUTF8" in r.stdout.decode()
    raw = server.wait_for_files(1)[0].read_bytes()
    assert b"with UTF8SMTP" in raw
    # RFC 6532 headers are UTF-8: read them as text (message_from_bytes would leave surrogates).
    m = email.message_from_string(body_of(raw).decode("utf-8"), policy=email.policy.default)
    assert m["To"].addresses[0].addr_spec == "δοκιμή@παράδειγμα.example"


def test_send_usage_errors():
    assert run("send", "--to", "x@y.test").returncode == 2
    r = run("send", "--from", "a@b.test", "--to", "x@y.test", "--header", "Bad Header\r\nInjected: 1", "--server", "127.0.0.1:1")
    assert r.returncode == 2 and b"cannot build" in r.stderr
    r = run("send", "--from", "a@b.test", "--to", "x@y.test", "--server", "127.0.0.1:%d" % free_port(), "--tls", "none")
    assert r.returncode == 1 and b"127.0.0.1" in r.stdout
