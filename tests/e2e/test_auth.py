# SPDX-License-Identifier: MIT
"""AUTH (RFC 4954) and the relay policy end to end, over real TLS, with real clients: Python's
smtplib (starttls, SMTP_SSL, login), swaks (--auth PLAIN, LOGIN, CRAM-MD5) and nodemailer
(secure, requireTLS, auth); raw sockets for the per-IP failure limit."""
from __future__ import annotations

import base64
import json
import shutil
import smtplib
import ssl
import subprocess
import time
from pathlib import Path

import pytest

from conftest import E2E_DIR, RawClient, Server, body_of, postern_bin

HOST = "mx.test.example"
ARGS = ["--submission", "127.0.0.1:0", "--smtps", "127.0.0.1:0", "--hostname", HOST, "--local-domain", "example.org"]
CONFIG = """
[auth]
failure_delay = 0
[senders]
"alice@example.org" = ["sales@example.org", "@alice.example"]
"""


def add_user(data: Path, name: str, password: str) -> None:
    r = subprocess.run([postern_bin(), "user", "add", name, "--data", str(data)], input=password.encode(),
                       capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr


def context(server: Server) -> ssl.SSLContext:
    """Checks the server's (generated) certificate for HOST, as a careful client does."""
    return ssl.create_default_context(cafile=str(server.data_dir / "tls" / "cert.pem"))


def submission(server: Server) -> smtplib.SMTP:
    s = smtplib.SMTP(*server.listeners["submission"], local_hostname="client.example", timeout=30)
    s._host = HOST  # the name the certificate is checked against
    s.starttls(context=context(server))
    s.ehlo()
    return s


def message(sender: str, to: str = "friend@far.example") -> bytes:
    return f"From: {sender}\r\nTo: {to}\r\nSubject: auth test\r\n\r\nhello\r\n".encode()


@pytest.fixture
def msa(make_server, tmp_path: Path) -> Server:
    """A server with local domain example.org, user alice@example.org, submission ports."""
    data = tmp_path / "msa-data"
    add_user(data, "alice@example.org", "correct horse")
    return make_server(config_text=CONFIG, data_dir=data, extra_args=ARGS)


def test_smtplib_login_then_sender_and_from_must_be_the_users(msa: Server):
    with submission(msa) as s:
        assert "PLAIN" in s.esmtp_features["auth"] and "SCRAM-SHA-256" in s.esmtp_features["auth"]
        with pytest.raises(smtplib.SMTPAuthenticationError) as e:
            s.login("alice@example.org", "wrong")
        assert e.value.smtp_code == 535 and e.value.smtp_error.startswith(b"5.7.8")
        assert s.login("alice@example.org", "correct horse")[0] == 235
        assert s.mail("bob@example.org") == (553, b"5.7.1 Sender address <bob@example.org> not owned by user alice@example.org")
        s.rset()
        # Authenticated: any recipient, a forged From: refused after the data, nothing stored.
        assert s.mail("alice@example.org")[0] == 250 and s.rcpt("friend@far.example")[0] == 250
        code, text = s.data(message("The Bank <ceo@bank.example>"))
        assert (code, text[:5]) == (553, b"5.7.1")
        # The configured aliases: one address, and a whole domain.
        for sender in ("Sales <sales@example.org>", "anything@alice.example", "Alice <ALICE@Example.org>"):
            assert s.sendmail("alice@example.org", ["friend@far.example"], message(sender)) == {}
        # Two From fields could hide a second author: refused.
        assert s.mail("alice@example.org")[0] == 250 and s.rcpt("a@far.example")[0] == 250
        assert s.data(b"From: alice@example.org\r\nFrom: ceo@bank.example\r\n\r\nx\r\n")[0] == 553
    stored = msa.wait_for_files(3)
    assert len(stored) == 3
    time.sleep(0.2)
    assert len(msa.new_files()) == 3
    assert b"ceo@bank.example" not in b"".join(p.read_bytes() for p in stored)


def test_smtp_ssl_login_on_the_implicit_tls_port(msa: Server):
    ctx = context(msa)
    ctx.check_hostname = False  # SMTP_SSL checks the name it connects to (127.0.0.1); the chain is still verified
    with smtplib.SMTP_SSL(*msa.listeners["submissions"], local_hostname="client.example", context=ctx, timeout=30) as s:
        code, _ = s.ehlo()
        assert code == 250 and "STARTTLS" not in s.esmtp_features
        assert s.mail("alice@example.org")[0] == 530  # RFC 6409: AUTH first
        s.rset()
        assert s.login("alice@example.org", "correct horse")[0] == 235
        assert s.sendmail("alice@example.org", ["x@far.example"], message("alice@example.org")) == {}
    raw = msa.wait_for_files(1)[0].read_bytes()
    assert b"with ESMTPSA" in raw  # RFC 3848: TLS and AUTH


def test_relay_policy_without_auth(msa: Server):
    with RawClient(msa.address) as c:
        c.greet()
        assert c.cmd("MAIL FROM:<someone@elsewhere.example>").code == 250
        r = c.cmd("RCPT TO:<victim@far.example>")
        assert (r.code, r.esc) == (554, "5.7.1") and "Relay access denied" in r.text
        r = c.cmd("RCPT TO:<nobody@example.org>")
        assert (r.code, r.esc) == (550, "5.1.1")
        for ok in ("alice@example.org", "Alice@EXAMPLE.ORG", "postmaster@example.org", "Postmaster"):
            assert c.cmd(f"RCPT TO:<{ok}>").code == 250, ok
        assert msa.wait_for_log("smtp.relay_denied"), msa.log_text()


def test_auth_param_and_requiretls_kept_in_received(msa: Server):
    with submission(msa) as s:
        s.login("alice@example.org", "correct horse")
        assert s.docmd("MAIL FROM:<alice@example.org> AUTH=<>")[0] == 250
        assert s.docmd("RSET")[0] == 250
        assert s.docmd("MAIL FROM:<alice@example.org> AUTH=alice+40example.org")[0] == 250
        s.rset()
        assert "requiretls" in s.esmtp_features  # RFC 8689: offered once TLS is up
        assert s.sendmail("alice@example.org", ["x@far.example"], message("alice@example.org"),
                          mail_options=["REQUIRETLS"]) == {}
    raw = msa.wait_for_files(1)[0].read_bytes()
    received = raw.split(b"\r\n\r\n")[0]
    assert b"(using TLSv1.3 with cipher TLS_" in received and b"with ESMTPSA (REQUIRETLS)" in received


def swaks(server: Server, *args: str) -> subprocess.CompletedProcess:
    host, port = server.listeners["submission"]
    return subprocess.run(["swaks", "--server", host, "--port", str(port), "--tls", "--from", "carol@example.org",
                           "--to", "x@far.example", "--header", "From: carol@example.org", *args],
                          capture_output=True, timeout=60)


def test_swaks_plain_login_and_cram_md5_with_a_dovecot_passwd_file(make_server, tmp_path: Path):
    passwd = tmp_path / "passwd"
    passwd.write_text("carol@example.org:{PLAIN}s3cret pass\n")
    server = make_server(config_text=f'[auth]\npasswd_file = "{passwd}"\nfailure_delay = 0\n', extra_args=ARGS)
    for mech in ("PLAIN", "LOGIN", "CRAM-MD5"):
        r = swaks(server, "--auth", mech, "--auth-user", "carol@example.org", "--auth-password", "s3cret pass")
        assert r.returncode == 0, r.stdout.decode()[-2000:]
        assert f"AUTH {mech}".encode() in r.stdout and b"235 2.7.0" in r.stdout
        bad = swaks(server, "--auth", mech, "--auth-user", "carol@example.org", "--auth-password", "nope")
        assert bad.returncode != 0 and b"535 5.7.8" in bad.stdout, bad.stdout.decode()[-2000:]
    assert len(server.wait_for_files(3)) == 3


def test_dovecot_passwd_file_schemes(make_server, tmp_path: Path):
    """A passwd-file as Dovecot reads it: crypt hashes made by Python's crypt module (glibc's
    libxcrypt), and an argon2id line as `postern user add` writes it."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt
    add_user(tmp_path / "own", "dora@example.org", "argon pw")
    argon_line = (tmp_path / "own" / "users").read_text().splitlines()[0]
    passwd = tmp_path / "dovecot-users"
    passwd.write_text("# Dovecot passwd-file\n"
                      f"sam@example.org:{{SHA512-CRYPT}}{crypt.crypt('sha pw', crypt.mksalt(crypt.METHOD_SHA512))}\n"
                      f"bob@example.org:{{BLF-CRYPT}}{crypt.crypt('blf pw', crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << 5))}::::::\n"
                      f"{argon_line}\n")
    server = make_server(config_text=f'[auth]\npasswd_file = "{passwd}"\nfailure_delay = 0\n', extra_args=ARGS)
    for user, pw in (("sam@example.org", "sha pw"), ("bob@example.org", "blf pw"), ("dora@example.org", "argon pw")):
        with submission(server) as s:
            with pytest.raises(smtplib.SMTPAuthenticationError):
                s.login(user, pw + "x")
            assert s.login(user, pw)[0] == 235, user


def test_failed_logins_are_slowed_and_limited_per_ip(make_server, tmp_path: Path):
    data = tmp_path / "d"
    add_user(data, "alice@example.org", "right")
    server = make_server(config_text="[auth]\nfailure_delay = 0.3\nmax_failures_per_ip = 3\n", data_dir=data,
                         extra_args=ARGS)
    bad = "AUTH PLAIN " + base64.b64encode(b"\0alice@example.org\0wrong").decode()
    good = "AUTH PLAIN " + base64.b64encode(b"\0alice@example.org\0right").decode()
    with RawClient(server.listeners["submission"]) as c:
        c.greet()
        # Pretend TLS is not needed: AUTH before STARTTLS is refused, and does not count.
        r = c.cmd(bad)
        assert (r.code, r.esc) == (538, "5.7.11")
    with submission(server) as s:
        for attempt in (1, 2):
            t0 = time.monotonic()
            code, text = s.docmd(bad)
            assert (code, text[:5]) == (535, b"5.7.8")
            assert time.monotonic() - t0 >= 0.3  # each failure is answered late
        code, text = s.docmd(bad)
        assert (code, text[:5]) == (421, b"4.7.0")
        with pytest.raises(smtplib.SMTPServerDisconnected):
            s.noop()
    with submission(server) as s:  # a new connection from the same IP: refused even when right
        assert s.docmd(good)[0] == 421
    assert server.wait_for_log("limit_reached=true"), server.log_text()


def test_parallel_logins_cannot_exceed_the_per_ip_limit(make_server, tmp_path: Path):
    """Checks under way count against the limit: a burst of sessions gets no more guesses."""
    import threading
    data = tmp_path / "d"
    add_user(data, "alice@example.org", "right")
    server = make_server(config_text="[auth]\nfailure_delay = 0\nmax_failures_per_ip = 3\n", data_dir=data, extra_args=ARGS)
    sessions = [submission(server) for _ in range(12)]
    codes: list[int] = []
    lock = threading.Lock()

    def guess(s: smtplib.SMTP, n: int) -> None:
        code, _ = s.docmd("AUTH PLAIN " + base64.b64encode(f"\0alice@example.org\0wrong{n}".encode()).decode())
        with lock:
            codes.append(code)

    threads = [threading.Thread(target=guess, args=(s, n)) for n, s in enumerate(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(codes) == 12 and codes.count(535) <= 3, codes
    assert set(codes) <= {535, 421, 454}, codes  # 454: too many checks under way for this client
    wrong = codes.count(535)
    with submission(server) as s:  # spend what is left of the budget, one guess at a time
        while True:
            code, _ = s.docmd("AUTH PLAIN " + base64.b64encode(b"\0alice@example.org\0again").decode())
            if code != 535:
                break
            wrong += 1
        assert code == 421  # the guess that reaches the limit is answered 421 and the session ends
    assert wrong + 1 == 3  # three guesses checked in all, however they were spread
    with submission(server) as s:  # the budget is spent: the right password does not get in either
        assert s.docmd("AUTH PLAIN " + base64.b64encode(b"\0alice@example.org\0right").decode())[0] == 421
    for s in sessions:
        s.close()


@pytest.mark.parametrize("chunking", [False, True])
def test_a_bare_cr_cannot_hide_a_forged_from(msa: Server, chunking: bool):
    """Readers that end a line at a bare CR would see the bank's From; the message is refused."""
    forged = b"X-A: y\rFrom: ceo@bank.example\r\nFrom: alice@example.org\r\nSubject: s\r\n\r\nbody\r\n"
    with submission(msa) as s:
        s.login("alice@example.org", "correct horse")
        assert s.mail("alice@example.org")[0] == 250 and s.rcpt("x@far.example")[0] == 250
        if chunking:
            s.send(b"BDAT %d LAST\r\n" % len(forged) + forged)
            code, text = s.getreply()
        else:
            code, text = s.data(forged)
        assert (code, text[:5]) == (553, b"5.7.1"), (code, text)
    time.sleep(0.2)
    assert msa.new_files() == []


def test_accept_any_until_the_first_user(make_server, tmp_path: Path):
    server = make_server(config_text="[auth]\nfailure_delay = 0\n", extra_args=["--auth-accept-any", "--submission", "127.0.0.1:0",
                                                                                  "--hostname", HOST])
    with submission(server) as s:
        assert "PLAIN" in s.esmtp_features["auth"]
        assert s.login("any@one.example", "whatever")[0] == 235
        assert s.sendmail("other@person.example", ["x@y.example"], message("third@party.example")) == {}
    add_user(server.data_dir, "real@example.org", "pw")
    deadline = time.monotonic() + 5
    while True:  # the server follows the users file without a restart
        with submission(server) as s:
            try:
                s.login("any@one.example", "whatever")
            except smtplib.SMTPAuthenticationError:
                break
        assert time.monotonic() < deadline, "accept-any still on after a user was added"
        time.sleep(0.2)
    with submission(server) as s:
        assert s.login("real@example.org", "pw")[0] == 235
    # Accept-any on a server with local domains would be an open relay: refused at start.
    r = subprocess.run([postern_bin(), "serve", "--data", str(tmp_path / "x"), "--smtp", "127.0.0.1:0",
                        "--auth-accept-any", "--local-domain", "example.org"], capture_output=True, timeout=30)
    assert r.returncode == 2 and b"catch-all" in r.stderr


def test_no_auth_offered_without_users(make_server):
    server = make_server(extra_args=["--submission", "127.0.0.1:0", "--hostname", HOST])
    with submission(server) as s:
        assert "auth" not in s.esmtp_features
        assert s.mail("a@b.example")[0] == 530


def test_secrets_never_reach_the_log(make_server, tmp_path: Path):
    data = tmp_path / "d"
    add_user(data, "alice@example.org", "Tr0ub4dor&3")
    server = make_server(config_text=CONFIG, data_dir=data, extra_args=ARGS, verbose=True)
    with submission(server) as s:
        with pytest.raises(smtplib.SMTPAuthenticationError):
            s.login("alice@example.org", "Tr0ub4dor&4")
        s.login("alice@example.org", "Tr0ub4dor&3")
    deadline = time.monotonic() + 10  # the log is written by a background thread
    while "smtp.auth mechanism=" not in server.log_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    log = server.log_text()
    assert "smtp.auth mechanism=" in log and "user=alice@example.org" in log
    for secret in ("Tr0ub4dor&3", "Tr0ub4dor&4"):
        assert secret not in log
        assert base64.b64encode(f"\0alice@example.org\0{secret}".encode()).decode() not in log
        assert base64.b64encode(secret.encode()).decode() not in log


NODE = shutil.which("node")


def nodemailer(server: Server, **spec) -> subprocess.CompletedProcess:
    base = {"mail": {"from": "alice@example.org", "to": "friend@far.example", "subject": "node", "text": "hi"},
            "tls": {"caFile": str(server.data_dir / "tls" / "cert.pem"), "servername": HOST}}
    return subprocess.run([NODE, str(E2E_DIR / "nodemailer_send.mjs"), json.dumps({**base, **spec})], cwd=E2E_DIR,
                          capture_output=True, timeout=120)


def test_nodemailer_secure_requiretls_and_auth(msa: Server):
    if NODE is None or not (E2E_DIR / "node_modules" / "nodemailer").is_dir():
        pytest.fail("node or tests/e2e/node_modules/nodemailer missing: run scripts/install-deps.sh --tests")
    auth = {"user": "alice@example.org", "pass": "correct horse"}
    host, port = msa.listeners["submissions"]
    r = nodemailer(msa, host=host, port=port, secure=True, auth=auth)
    assert r.returncode == 0, r.stderr.decode()
    host, port = msa.listeners["submission"]
    for method in ("PLAIN", "LOGIN"):
        r = nodemailer(msa, host=host, port=port, requireTLS=True, auth={**auth, "method": method})
        assert r.returncode == 0, r.stderr.decode()
        assert json.loads(r.stdout.decode().splitlines()[-1])["response"].startswith("250 2.0.0")
    r = nodemailer(msa, host=host, port=port, requireTLS=True, auth={**auth, "pass": "wrong"})
    assert r.returncode == 1 and b"535" in r.stderr
    r = nodemailer(msa, host=host, port=port, requireTLS=True, auth=auth,
                   mail={"from": "ceo@bank.example", "to": "x@far.example", "subject": "s", "text": "t"},
                   envelope={"from": "alice@example.org", "to": ["x@far.example"]})
    assert r.returncode == 1 and b"553" in r.stderr
    stored = msa.wait_for_files(3)
    assert len(stored) == 3
    assert all(b"From: alice@example.org" in body_of(p.read_bytes()) for p in stored)
