# SPDX-License-Identifier: MIT
"""TLS end to end: STARTTLS (RFC 3207) and implicit TLS (RFC 8314) with real clients (Python's
ssl/smtplib, swaks, openssl s_client), the self-signed certificate made on first start, SIGHUP
reload, and the STARTTLS injection case (CVE-2011-0411) over a raw socket."""
from __future__ import annotations

import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import time
from pathlib import Path

import pytest

from conftest import Server

SUBMISSION_ARGS = ["--smtps", "127.0.0.1:0", "--submission", "127.0.0.1:0", "--hostname", "mx.test.example"]


def client_context(cafile: Path | None = None) -> ssl.SSLContext:
    if cafile is None:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    return ssl.create_default_context(cafile=str(cafile))


def peer_cert(sock: ssl.SSLSocket) -> bytes:
    return sock.getpeercert(binary_form=True)


def make_cert(directory: Path, name: str, host: str = "mx.test.example") -> tuple[Path, Path]:
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "30", "-subj", f"/CN={host}",
                    "-addext", f"subjectAltName=DNS:{host}"], check=True, capture_output=True)
    return cert, key


@pytest.fixture
def tls_server(make_server) -> Server:
    return make_server(extra_args=SUBMISSION_ARGS)


def test_starttls_then_mail_is_stored_and_verifies_against_the_generated_cert(tls_server: Server):
    cafile = tls_server.data_dir / "tls" / "cert.pem"
    assert cafile.exists() and (tls_server.data_dir / "tls" / "key.pem").stat().st_mode & 0o077 == 0
    with smtplib.SMTP(*tls_server.address, local_hostname="client.example") as s:
        code, caps = s.ehlo()
        assert b"STARTTLS" in caps and b"REQUIRETLS" not in caps
        ctx = client_context(cafile)
        ctx.check_hostname = True
        s._host = "mx.test.example"  # the name the certificate is checked against
        assert s.starttls(context=ctx)[0] == 220
        assert s.sock.version() in ("TLSv1.2", "TLSv1.3")
        code, caps = s.ehlo()
        assert b"STARTTLS" not in caps and b"REQUIRETLS" in caps
        s.sendmail("a@b.example", ["c@d.example"], b"Subject: over TLS\r\n\r\nsecret body\r\n")
    raw = tls_server.wait_for_files(1)[0].read_bytes()
    assert b"secret body" in raw
    assert b"with ESMTPS" in raw, raw[:300]
    assert tls_server.wait_for_log("smtp.tls version=TLSv1."), tls_server.log_text()


def test_implicit_tls_port_greets_inside_tls_and_requires_auth(tls_server: Server):
    host, port = tls_server.listeners["submissions"]
    with smtplib.SMTP_SSL(host, port, context=client_context()) as s:
        code, caps = s.ehlo()
        assert code == 250 and b"STARTTLS" not in caps and b"REQUIRETLS" in caps
        code, text = s.docmd("MAIL FROM:<a@b.example>")
        assert (code, text[:5]) == (530, b"5.7.0")


def test_submission_port_requires_auth_before_mail(tls_server: Server):
    host, port = tls_server.listeners["submission"]
    with smtplib.SMTP(host, port) as s:
        s.ehlo()
        s.starttls(context=client_context())
        s.ehlo()
        code, text = s.docmd("MAIL FROM:<a@b.example>")
        assert (code, text[:5]) == (530, b"5.7.0")


def test_starttls_with_argument_is_501_and_second_starttls_is_503(tls_server: Server):
    with smtplib.SMTP(*tls_server.address) as s:
        s.ehlo()
        code, text = s.docmd("STARTTLS now")
        assert (code, text[:5]) == (501, b"5.5.4")
        s.starttls(context=client_context())
        s.ehlo()
        assert s.docmd("STARTTLS")[0] == 503


def test_old_protocols_and_weak_ciphers_are_refused(tls_server: Server):
    host, port = tls_server.listeners["submissions"]
    for args in (["-tls1_1"], ["-tls1_2", "-cipher", "AES128-SHA"]):
        r = subprocess.run(["openssl", "s_client", "-connect", f"{host}:{port}", *args],
                           input=b"", capture_output=True, timeout=20)
        assert b"Cipher is (NONE)" in r.stdout or r.returncode != 0, (args, r.stdout[-400:])
    r = subprocess.run(["openssl", "s_client", "-starttls", "smtp", "-connect", "%s:%d" % tls_server.address,
                        "-tls1_2", "-brief"], input=b"QUIT\r\n", capture_output=True, timeout=20)
    assert b"Protocol version: TLSv1.2" in r.stderr + r.stdout


def test_pipelined_commands_after_starttls_are_discarded(tls_server: Server):
    """CVE-2011-0411: a man in the middle appends commands to the clear-text STARTTLS; they
    must not run inside the TLS session."""
    sock = socket.create_connection(tls_server.address, timeout=10)
    f = sock.makefile("rb")
    assert f.readline().startswith(b"220")
    sock.sendall(b"EHLO client.example\r\n")
    while not f.readline().startswith(b"250 "):
        pass
    injected = b"EHLO evil.example\r\nMAIL FROM:<evil@attacker.example>\r\n"
    sock.sendall(b"STARTTLS\r\n" + injected)
    assert f.readline().startswith(b"220 2.0.0")
    tls = client_context().wrap_socket(sock, server_hostname="mx.test.example")
    tf = tls.makefile("rb")
    # Had the injected EHLO and MAIL run inside TLS, this RCPT would get 250.
    tls.sendall(b"RCPT TO:<victim@d.example>\r\n")
    assert tf.readline().startswith(b"503"), "no EHLO or MAIL ran inside TLS"
    tls.sendall(b"QUIT\r\n")
    assert tf.readline().startswith(b"221")
    tls.close()
    deadline = time.monotonic() + 5
    while "smtp.tls_discard" not in tls_server.log_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "smtp.tls_discard octets=%d" % len(injected) in tls_server.log_text()


def test_self_signed_certificate_is_kept_across_restarts(make_server, tmp_path: Path):
    data = tmp_path / "keep"
    data.mkdir()
    first = make_server(data_dir=data, extra_args=SUBMISSION_ARGS)
    cert = (data / "tls" / "cert.pem").read_bytes()
    first.stop()
    second = make_server(data_dir=data, extra_args=SUBMISSION_ARGS)
    assert (data / "tls" / "cert.pem").read_bytes() == cert
    host, port = second.listeners["submissions"]
    with socket.create_connection((host, port), timeout=10) as raw:
        with client_context().wrap_socket(raw) as tls:
            assert ssl.DER_cert_to_PEM_cert(peer_cert(tls)).strip() == cert.decode().strip()


def test_sighup_reloads_the_certificate_without_dropping_sessions(make_server, tmp_path: Path):
    cert, key = make_cert(tmp_path, "live")
    old_cert = cert.read_bytes()
    srv = make_server(extra_args=SUBMISSION_ARGS + ["--tls-cert", str(cert), "--tls-key", str(key)])
    host, port = srv.listeners["submissions"]
    # A session that started before the reload goes on afterwards.
    s = smtplib.SMTP(*srv.address)
    s.ehlo()
    s.starttls(context=client_context())
    s.ehlo()
    new_cert, new_key = make_cert(tmp_path, "next")
    shutil.copyfile(new_cert, cert)
    shutil.copyfile(new_key, key)
    srv.signal(signal.SIGHUP)
    deadline = time.monotonic() + 5
    while "tls.reload" not in srv.log_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "tls.reload result=ok" in srv.log_text()
    s.sendmail("a@b.example", ["c@d.example"], b"Subject: across reload\r\n\r\nbody\r\n")
    s.quit()
    with socket.create_connection((host, port), timeout=10) as raw:
        with client_context().wrap_socket(raw) as tls:
            seen = ssl.DER_cert_to_PEM_cert(peer_cert(tls)).strip()
    assert seen == new_cert.read_text().strip() and seen != old_cert.decode().strip()


def test_swaks_tls_and_tls_on_connect(tls_server: Server):
    host, port = tls_server.address
    r = subprocess.run(["swaks", "--server", host, "--port", str(port), "--tls", "--from", "a@b.example",
                        "--to", "c@d.example", "--body", "via swaks tls"], capture_output=True, timeout=60)
    assert r.returncode == 0, r.stdout.decode()[-2000:]
    shost, sport = tls_server.listeners["submissions"]
    r = subprocess.run(["swaks", "--server", shost, "--port", str(sport), "--tls-on-connect", "--quit-after", "EHLO"],
                       capture_output=True, timeout=60)
    assert r.returncode == 0 and b"TLS started" in r.stdout, r.stdout.decode()[-2000:]
    assert tls_server.wait_for_files(1)


def test_user_command_reads_the_password_from_stdin(tmp_path: Path):
    from conftest import postern_bin
    data = tmp_path / "users"
    run = lambda *args, stdin=b"": subprocess.run([postern_bin(), "user", *args, "--data", str(data)],
                                                  input=stdin, capture_output=True, timeout=30)
    assert run("add", "me@example.org", stdin=b"s3cret\n").returncode == 0
    assert run("add", "me@example.org", stdin=b"other\n").returncode == 1
    assert run("add", "empty@example.org", stdin=b"\n").returncode != 0
    line = (data / "users").read_text()
    assert line.startswith("me@example.org:{ARGON2ID}$argon2id$") and "s3cret" not in line
    assert (data / "users").stat().st_mode & 0o077 == 0
    assert run("passwd", "me@example.org", stdin=b"n3w\r\n").returncode == 0
    listed = run("list", "--json")
    assert listed.returncode == 0 and b'"me@example.org"' in listed.stdout
    assert run("del", "me@example.org").returncode == 0
    assert run("del", "me@example.org").returncode == 1
