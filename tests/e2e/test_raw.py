# SPDX-License-Identifier: MIT
"""Raw-socket tests: BDAT, pipelining, SMTP smuggling, limits, timeouts and error replies."""
from __future__ import annotations

import socket
import time

import pytest

from conftest import RawClient, body_of, file_for_id, queued_id, reverse_path_of

ALL_OCTETS = bytes(range(256))


def session(server, helo: str = "raw.client.example") -> RawClient:
    c = RawClient(server.address)
    c.greet(helo)
    return c


def envelope(c: RawClient, sender="sender@raw.example", rcpts=("rcpt@rcpt.example",), mail_params=""):
    r = c.cmd(f"MAIL FROM:<{sender}>{mail_params}")
    assert r.code == 250 and r.esc and r.esc.startswith("2."), r
    for rcpt in rcpts:
        r = c.cmd(f"RCPT TO:<{rcpt}>")
        assert r.code == 250 and r.esc and r.esc.startswith("2."), r


def pending(c: RawClient, wait: float = 0.5) -> bytes:
    """Bytes the server sent beyond what was read (it must not answer what it never got)."""
    c.sock.settimeout(wait)
    try:
        chunk = c.sock.recv(65536)
    except (socket.timeout, TimeoutError):
        chunk = b""
    finally:
        c.sock.settimeout(10)
    return c.buf + chunk


def expect(r, code: int, esc_prefix: str | None = None):
    assert r.code == code, r
    if esc_prefix is not None:
        assert r.esc is not None and r.esc.startswith(esc_prefix), r
    elif code not in (220, 354):
        assert r.esc is not None and r.esc[0] == str(code)[0], r  # ENHANCEDSTATUSCODES


def stored_body(server, reply) -> bytes:
    return body_of(file_for_id(server, queued_id(reply.text)).read_bytes())


# ---- BDAT (RFC 3030) ----------------------------------------------------------------------------

def test_bdat_chunks_stored_literally(server):
    chunks = [b"Subject: bdat\r\n\r\n",
              b"a line\r\n.\r\nnot the end: BDAT has no dot terminator\r\n..two dots stay two\r\n",
              b"", b"last line\r\n"]
    with session(server) as c:
        envelope(c)
        for chunk in chunks[:-1]:
            c.send(b"BDAT %d\r\n" % len(chunk) + chunk)
            expect(c.reply(), 250)
        c.send(b"BDAT %d LAST\r\n" % len(chunks[-1]) + chunks[-1])
        r = c.reply()
        expect(r, 250, "2.0.0")
        assert stored_body(server, r) == b"".join(chunks)
        expect(c.cmd("QUIT"), 221)


def test_bdat_zero_length_last(server):
    data = b"Subject: zero last\r\n\r\nbody\r\n.\r\n"
    with session(server) as c:
        envelope(c)
        c.send(b"BDAT %d\r\n" % len(data) + data)
        expect(c.reply(), 250)
        r = c.cmd("BDAT 0 LAST")
        expect(r, 250, "2.0.0")
        assert stored_body(server, r) == data


def test_bdat_binarymime(server):
    data = b"Subject: binary\r\nContent-Type: application/octet-stream\r\n\r\n" + ALL_OCTETS * 40 + \
        b"\n.\n\r.\r\r\n.\r\n\x00\r\n"
    with session(server) as c:
        envelope(c, mail_params=" BODY=BINARYMIME")
        split = [data[:1000], data[1000:1001], data[1001:7777], data[7777:]]
        for chunk in split:
            c.send(b"BDAT %d\r\n" % len(chunk) + chunk)
            expect(c.reply(), 250)
        r = c.cmd("BDAT 0 LAST")
        expect(r, 250, "2.0.0")
        assert stored_body(server, r) == data


def test_bdat_pipelined_in_one_send(server):
    data1 = b"Subject: one\r\n\r\nfirst\r\n"
    data2 = b"Subject: two\r\n\r\nsecond\r\n.\r\n"
    with session(server) as c:
        c.send(b"MAIL FROM:<p1@raw.example>\r\nRCPT TO:<a@rcpt.example>\r\n"
               b"BDAT %d LAST\r\n" % len(data1) + data1 +
               b"MAIL FROM:<p2@raw.example> BODY=BINARYMIME\r\nRCPT TO:<b@rcpt.example>\r\n"
               b"BDAT 5\r\n" + data2[:5] + b"BDAT %d LAST\r\n" % (len(data2) - 5) + data2[5:] +
               b"QUIT\r\n")
        codes = [c.reply() for _ in range(7)]
        assert [r.code for r in codes] == [250, 250, 250, 250, 250, 250, 250], codes
        expect(c.reply(), 221)
        assert stored_body(server, codes[2]) == data1
        assert stored_body(server, codes[6]) == data2


def test_bdat_sequence_errors(server):
    with session(server) as c:
        c.send(b"BDAT 3\r\nabc")  # no transaction: the 3 octets are still consumed
        expect(c.reply(), 503, "5.5.1")
        expect(c.cmd("NOOP"), 250)
        envelope(c)
        c.send(b"BDAT 4\r\nabcd")
        expect(c.reply(), 250)
        r = c.cmd("DATA")  # DATA may not follow BDAT in one transaction
        expect(r, 503, "5.5.1")
        expect(c.cmd("RSET"), 250)
        r = c.cmd("BDAT x")
        assert r.code == 501 and r.esc and r.esc.startswith("5.5."), r
        expect(c.cmd("NOOP"), 250)


# ---- pipelining (RFC 2920) ----------------------------------------------------------------------

def test_pipelined_transaction_groups(server):
    data = b"Subject: pipelined\r\n\r\nbody\r\n"
    with session(server) as c:
        c.send(b"RSET\r\nMAIL FROM:<pipe@raw.example>\r\nRCPT TO:<a@rcpt.example>\r\n"
               b"RCPT TO:<bad address@@>\r\nRCPT TO:<b@rcpt.example>\r\nDATA\r\n")
        replies = [c.reply() for _ in range(6)]
        assert [r.code for r in replies[:3]] == [250, 250, 250], replies
        assert replies[3].code in (501, 553) and replies[3].esc.startswith("5."), replies
        assert [r.code for r in replies[4:]] == [250, 354], replies
        c.send(data + b".\r\nMAIL FROM:<pipe2@raw.example>\r\nRCPT TO:<c@rcpt.example>\r\nDATA\r\n")
        r1 = c.reply()
        expect(r1, 250, "2.0.0")
        assert [c.reply().code for _ in range(3)] == [250, 250, 354]
        c.send(b"second\r\n.\r\nNOOP\r\nQUIT\r\n")
        r2 = c.reply()
        expect(r2, 250, "2.0.0")
        expect(c.reply(), 250)
        expect(c.reply(), 221)
        assert c.closed()
    assert stored_body(server, r1) == data
    assert stored_body(server, r2) == b"second\r\n"


def test_everything_in_one_send(server):
    data = b"Subject: all at once\r\n\r\n.leading dot\r\nend\r\n"
    with RawClient(server.address) as c:
        expect(c.reply(), 220)
        c.send(b"EHLO burst.example\r\nMAIL FROM:<burst@raw.example>\r\nRCPT TO:<a@rcpt.example>\r\n"
               b"DATA\r\n" + data.replace(b"\r\n.", b"\r\n..") + b".\r\nQUIT\r\n")
        assert c.reply().code == 250  # EHLO
        assert [c.reply().code for _ in range(3)] == [250, 250, 354]
        r = c.reply()
        expect(r, 250, "2.0.0")
        expect(c.reply(), 221)
    assert stored_body(server, r) == data


def test_no_valid_recipients_then_data(server):
    with session(server) as c:
        c.send(b"MAIL FROM:<x@raw.example>\r\nRCPT TO:<not an address>\r\nDATA\r\n")
        assert c.reply().code == 250
        r = c.reply()
        assert r.code in (501, 553), r
        r = c.reply()
        assert r.code in (503, 554) and r.esc == "5.5.1", r
        expect(c.cmd("NOOP"), 250)


# ---- SMTP smuggling -----------------------------------------------------------------------------

SMUGGLING = [b"\n.\n", b"\n.\r\n", b"\r.\r\n", b"\r\n.\n", b"\r\n.\r", b"\r.\r"]
SMUGGLED = b"MAIL FROM:<evil@smuggler.example>\r\nRCPT TO:<victim@rcpt.example>\r\nDATA\r\nSubject: smuggled\r\n"


def smuggle(c: RawClient, bad: bytes):
    envelope(c, sender="honest@raw.example")
    expect(c.cmd("DATA"), 354)
    c.send(b"Subject: smuggle\r\n\r\nbefore" + bad + SMUGGLED + b"after\r\n.\r\n")
    r = c.reply()
    extra = pending(c)
    assert extra == b"", f"data ended early at {bad!r}: first reply {r}, then {extra!r}"
    return r


def check_smuggled_one_message(server, r):
    files = server.new_files()
    assert len(files) == 1, [p.name for p in files]
    raw = files[0].read_bytes()
    assert files[0].name.startswith(queued_id(r.text) + ".")
    assert reverse_path_of(raw) == "honest@raw.example"
    body = body_of(raw)
    assert body.startswith(b"Subject: smuggle\r\n\r\nbefore"), body
    assert b"MAIL FROM:<evil@smuggler.example>" in body and b"Subject: smuggled" in body, body
    assert body.endswith(b"\r\nafter\r\n"), body
    return body


@pytest.mark.parametrize("bad", SMUGGLING, ids=[repr(b)[2:-1] for b in SMUGGLING])
def test_smuggling_default_policy(server, bad):
    with session(server) as c:
        r = smuggle(c, bad)
        if r.code == 250:
            check_smuggled_one_message(server, r)
        else:
            assert r.code // 100 == 5 and r.esc and r.esc.startswith("5."), r
            assert server.new_files() == []
        expect(c.cmd("NOOP"), 250)


@pytest.mark.parametrize("bad", SMUGGLING, ids=[repr(b)[2:-1] for b in SMUGGLING])
def test_smuggling_normalize(make_server, bad):
    server = make_server('[smtp]\nbare_line_ending = "normalize"\n')
    with session(server) as c:
        r = smuggle(c, bad)
        expect(r, 250, "2.0.0")
        body = check_smuggled_one_message(server, r)
        assert b"\n" not in body.replace(b"\r\n", b""), body  # bare LF is stored as CRLF
        expect(c.cmd("NOOP"), 250)


@pytest.mark.parametrize("bad", SMUGGLING, ids=[repr(b)[2:-1] for b in SMUGGLING])
def test_smuggling_reject(make_server, bad):
    server = make_server('[smtp]\nbare_line_ending = "reject"\n')
    with session(server) as c:
        r = smuggle(c, bad)
        assert r.code // 100 == 5 and r.esc and r.esc.startswith("5."), r
        assert server.new_files() == []
        try:
            noop = c.cmd("NOOP")
        except (EOFError, ConnectionError):
            assert r.code == 521, f"closed after {r}"  # RFC 7504 521 is the only reply that may close
        else:
            expect(noop, 250)
    assert server.new_files() == []


def test_clean_data_accepted_under_reject(make_server):
    server = make_server('[smtp]\nbare_line_ending = "reject"\n')
    data = b"Subject: clean\r\n\r\n.dot\r\nok\r\n"
    with session(server) as c:
        envelope(c)
        expect(c.cmd("DATA"), 354)
        c.send(data.replace(b"\r\n.", b"\r\n..") + b".\r\n")
        r = c.reply()
        expect(r, 250, "2.0.0")
    assert stored_body(server, r) == data


# ---- size and line limits -----------------------------------------------------------------------

SMALL = '[smtp]\nmax_message_size = 10000\n'


def test_size_declared_too_big(make_server):
    server = make_server(SMALL)
    with session(server) as c:
        ehlo = c.cmd("EHLO again.example")
        assert "SIZE 10000" in ehlo.lines, ehlo
        expect(c.cmd("MAIL FROM:<big@raw.example> SIZE=20000"), 552, "5.3.4")
        expect(c.cmd("NOOP"), 250)
        envelope(c, mail_params=" SIZE=9000")


def test_size_exceeded_in_data(make_server):
    server = make_server(SMALL)
    with session(server) as c:
        envelope(c)
        expect(c.cmd("DATA"), 354)
        c.send(b"Subject: too big\r\n\r\n" + (b"x" * 98 + b"\r\n") * 300 + b".\r\n")
        expect(c.reply(), 552, "5.3.4")
        expect(c.cmd("NOOP"), 250)
        envelope(c)  # a new transaction works
        expect(c.cmd("DATA"), 354)
        c.send(b"Subject: small\r\n\r\nok\r\n.\r\n")
        r = c.reply()
        expect(r, 250, "2.0.0")
    assert len(server.new_files()) == 1
    assert stored_body(server, r) == b"Subject: small\r\n\r\nok\r\n"


def test_size_exceeded_in_bdat(make_server):
    server = make_server(SMALL)
    with session(server) as c:
        envelope(c)
        data = b"y" * 20000
        c.send(b"BDAT %d LAST\r\n" % len(data) + data)
        expect(c.reply(), 552, "5.3.4")
        expect(c.cmd("NOOP"), 250)
    assert server.new_files() == []


def test_long_command_line(server):
    with session(server) as c:
        r = c.cmd("NOOP " + "a" * 600)
        assert r.code == 500 and r.esc and r.esc.startswith("5.5."), r
        expect(c.cmd("NOOP"), 250)


def test_one_mebibyte_command_line(server):
    with session(server) as c:
        c.send(b"A" * (1 << 20))
        c.send(b"\r\n")
        r = c.reply()
        assert r.code == 500 and r.esc and r.esc.startswith("5.5."), r
        expect(c.cmd("NOOP"), 250)
        expect(c.cmd("QUIT"), 221)


def test_one_mebibyte_data_line(server):
    line = bytes((ord("a") + i % 26) for i in range(1 << 20))
    with session(server) as c:
        envelope(c)
        expect(c.cmd("DATA"), 354)
        c.send(b"Subject: long line\r\n\r\n" + line + b"\r\nshort\r\n.\r\n")
        r = c.reply()
        if r.code == 250:
            assert stored_body(server, r) == b"Subject: long line\r\n\r\n" + line + b"\r\nshort\r\n"
        else:
            assert r.code // 100 == 5 and r.esc and r.esc.startswith("5."), r
            assert server.new_files() == []
        expect(c.cmd("NOOP"), 250)
        expect(c.cmd("QUIT"), 221)


def test_recipient_limit(make_server):
    server = make_server('[smtp]\nmax_recipients = 100\n')
    with session(server) as c:
        expect(c.cmd("MAIL FROM:<many@raw.example>"), 250)
        c.send(b"".join(b"RCPT TO:<r%d@rcpt.example>\r\n" % i for i in range(101)))
        replies = [c.reply() for _ in range(101)]
        assert all(r.code == 250 for r in replies[:100]), [r for r in replies if r.code != 250][:3]
        expect(replies[100], 452, "4.5.3")
        expect(c.cmd("DATA"), 354)
        c.send(b"Subject: hundred\r\n\r\nx\r\n.\r\n")
        expect(c.reply(), 250, "2.0.0")
    assert len(server.new_files()) == 1


# ---- timeouts and connection limits -------------------------------------------------------------

def test_idle_timeout(make_server):
    server = make_server('[smtp]\nidle_timeout = 2\n')
    with session(server) as c:
        start = time.monotonic()
        c.sock.settimeout(15)
        r = c.reply()
        elapsed = time.monotonic() - start
        expect(r, 421, "4.4.2")
        assert 1.5 <= elapsed <= 10, elapsed
        assert c.closed()


def test_idle_timeout_during_data(make_server):
    server = make_server('[smtp]\nidle_timeout = 2\n')
    with session(server) as c:
        envelope(c)
        expect(c.cmd("DATA"), 354)
        c.send(b"Subject: stalled\r\n\r\npartial")
        c.sock.settimeout(15)
        expect(c.reply(), 421, "4.4.2")
        assert c.closed()
    time.sleep(0.2)
    assert server.new_files() == []


def test_activity_resets_idle_timer(make_server):
    server = make_server('[smtp]\nidle_timeout = 2\n')
    with session(server) as c:
        for _ in range(4):
            time.sleep(1)
            expect(c.cmd("NOOP"), 250)


def test_connections_per_ip(make_server):
    server = make_server('[smtp]\nmax_connections_per_ip = 2\n')
    a = RawClient(server.address)
    b = RawClient(server.address)
    try:
        expect(a.reply(), 220)
        expect(b.reply(), 220)
        with RawClient(server.address) as third:
            expect(third.reply(), 421, "4.7.0")
            assert third.closed()
        a.cmd("QUIT")
        a.close()
        deadline = time.monotonic() + 5
        while True:
            with RawClient(server.address) as again:
                r = again.reply()
                if r.code == 220 or time.monotonic() > deadline:
                    break
            time.sleep(0.1)
        expect(r, 220)
        expect(b.cmd("NOOP"), 250)
    finally:
        a.close()
        b.close()


# ---- error replies (RFC 5321 §4.2, §4.3.2, RFC 3463) --------------------------------------------

ERRORS = [
    # (commands before, command, expected code, enhanced code prefix)
    ([], "MAIL FROM:<a@raw.example>", 503, "5.5.1"),          # before EHLO
    (["EHLO x.example"], "RCPT TO:<b@rcpt.example>", 503, "5.5.1"),
    (["EHLO x.example"], "DATA", 503, "5.5.1"),
    (["EHLO x.example", "MAIL FROM:<a@raw.example>"], "MAIL FROM:<c@raw.example>", 503, "5.5.1"),
    (["EHLO x.example"], "FROBNICATE now", 500, "5.5.1"),
    (["EHLO x.example"], "NOOP " + "z" * 520, 500, "5.5."),
    (["EHLO x.example"], "MAIL FROM:<a@raw.example> FOO=BAR", 555, "5.5.4"),
    (["EHLO x.example", "MAIL FROM:<a@raw.example>"], "RCPT TO:<b@rcpt.example> FOO=BAR", 555, "5.5.4"),
    (["EHLO x.example"], "EHLO", 501, "5.5."),
    (["EHLO x.example"], "MAIL FROM:<a@raw.example", 501, "5."),
    (["EHLO x.example"], "MAIL FROM:<a b@raw.example>", 501, "5."),
    (["EHLO x.example"], "MAIL FROM:<@>", 501, "5."),
    (["EHLO x.example"], "MAIL FROM:<a@raw..example>", 501, "5."),
    (["EHLO x.example"], "MAIL FROM:<a@raw.example> BODY=WHATEVER", (501, 555), "5.5."),
]


@pytest.mark.parametrize("before,command,code,esc", ERRORS, ids=[e[1][:30] for e in ERRORS])
def test_error_replies(server, before, command, code, esc):
    with RawClient(server.address) as c:
        expect(c.reply(), 220)
        for line in before:
            assert c.cmd(line).code == 250, line
        r = c.cmd(command)
        allowed = code if isinstance(code, tuple) else (code,)
        if 501 in allowed:
            allowed += (553,)  # RFC 5321 allows 553 for a bad mailbox syntax
        assert r.code in allowed, (command, r)
        assert r.esc is not None and r.esc.startswith(esc), (command, r)
        expect(c.cmd("NOOP"), 250)  # the session survives


def test_helo_help_vrfy_quit(server):
    with RawClient(server.address) as c:
        greeting = c.reply()
        expect(greeting, 220)
        assert c.cmd("HELO old.example").code == 250
        help_reply = c.cmd("HELP")
        expect(help_reply, 214)
        assert "DATA" in help_reply.text.upper()
        r = c.cmd("HELP MAIL")
        expect(r, 214)
        assert "FROM:" in r.text.upper()
        r = c.cmd("VRFY somebody")
        expect(r, 252)
        r = c.cmd("RSET")
        expect(r, 250)
        r = c.cmd("QUIT")
        expect(r, 221)
        assert c.closed()


def test_ehlo_resets_transaction(server):
    with session(server) as c:
        envelope(c)
        assert c.cmd("EHLO again.example").code == 250
        expect(c.cmd("DATA"), 503, "5.5.1")
        expect(c.cmd("MAIL FROM:<new@raw.example>"), 250)
