# SPDX-License-Identifier: MIT
"""Python's smtplib against the built server; every message is read back from disk byte for byte."""
from __future__ import annotations

import copy
import email
import email.generator
import email.policy
import io
import random
import smtplib
from email.message import EmailMessage

import pytest

from conftest import (body_of, file_for_id, queued_id, reverse_path_of, split_stored)

UTF8_SUBJECT = "Grüße aus Köln — 日本語のテスト ✓ ünïcödé"


class RecordingSMTP(smtplib.SMTP):
    """smtplib.SMTP that remembers what it handed to DATA and the reply that followed."""

    def __init__(self, *a, **kw):
        self.sent_data: list[bytes] = []
        self.data_replies: list[tuple[int, bytes]] = []
        self.mail_options_seen: list[tuple] = []
        super().__init__(*a, **kw)

    def mail(self, sender, options=()):
        self.mail_options_seen.append(tuple(options))
        return super().mail(sender, options)

    def data(self, msg):
        self.sent_data.append(msg if isinstance(msg, bytes) else msg.encode("ascii"))
        code, text = super().data(msg)
        self.data_replies.append((code, text))
        return code, text

    def last_id(self) -> str:
        code, text = self.data_replies[-1]
        assert code == 250, (code, text)
        assert text.startswith(b"2.0.0 "), text
        return queued_id(text.decode("utf-8"))


def flatten_like_smtplib(msg: EmailMessage, international: bool = False) -> bytes:
    """The bytes smtplib.send_message hands to DATA (before dot-stuffing), computed the way it does."""
    msg_copy = copy.copy(msg)
    del msg_copy["Bcc"]
    del msg_copy["Resent-Bcc"]
    with io.BytesIO() as out:
        if international:
            g = email.generator.BytesGenerator(out, policy=msg.policy.clone(utf8=True))
        else:
            g = email.generator.BytesGenerator(out)
        g.flatten(msg_copy, linesep="\r\n")
        flat = out.getvalue()
    # smtplib.SMTP.data() appends CRLF when the data does not end with one.
    return flat if flat.endswith(b"\r\n") else flat + b"\r\n"


def connect(server) -> RecordingSMTP:
    client = RecordingSMTP(server.host, server.port, local_hostname="client.example", timeout=30)
    code, _ = client.ehlo()
    assert code == 250
    return client


def attachment_bytes(n: int = 70000) -> bytes:
    rng = random.Random(20240601)
    # every octet value, CR/LF/NUL/dots in odd places, then noise
    return bytes(range(256)) + b"\r\n.\r\n\n.\n\r.\r\x00" + rng.randbytes(n)


def test_ehlo_advertises_extensions(server):
    with connect(server) as client:
        for ext in ["pipelining", "size", "8bitmime", "smtputf8", "enhancedstatuscodes",
                    "chunking", "binarymime", "dsn", "help"]:
            assert client.has_extn(ext), (ext, client.esmtp_features)
        size = client.esmtp_features["size"].strip()
        assert size.isdigit() and int(size) > 0, size


def test_attachment_and_utf8_subject(server):
    blob = attachment_bytes()
    msg = EmailMessage()
    msg["From"] = "Alice Sender <alice@sender.example>"
    msg["To"] = "Bob <bob@rcpt.example>"
    msg["Subject"] = UTF8_SUBJECT
    msg["Message-ID"] = "<attach-1@sender.example>"
    msg.set_content("Hello Bob,\n\nthe file is attached. Ünïcödé in the body too: ∑ ≠ ∞.\n"
                    ".a line that starts with a dot\n..and one with two\n.\n")
    msg.add_attachment(blob, maintype="application", subtype="octet-stream", filename="blob.bin")
    msg.set_boundary("=_postern-e2e-boundary-0001")
    expected = flatten_like_smtplib(msg)

    with connect(server) as client:
        refused = client.send_message(msg)
        assert refused == {}
        msg_id = client.last_id()
        assert client.sent_data == [expected] or client.sent_data[0] + b"\r\n" == expected
        assert not any("SMTPUTF8" in o.upper() for o in client.mail_options_seen[0])

    raw = file_for_id(server, msg_id).read_bytes()
    assert body_of(raw) == expected
    assert reverse_path_of(raw) == "alice@sender.example"
    assert raw.endswith(b"\r\n")

    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == UTF8_SUBJECT
    assert parsed["Return-Path"] == "<alice@sender.example>"
    assert parsed["Received"] is not None
    attachments = list(parsed.iter_attachments())
    assert len(attachments) == 1
    assert attachments[0].get_filename() == "blob.bin"
    assert attachments[0].get_content() == blob
    text = parsed.get_body(preferencelist=("plain",)).get_content()
    assert ".a line that starts with a dot\n..and one with two\n.\n" in text.replace("\r\n", "\n")


def test_received_header_is_folded_with_tabs(server):
    with connect(server) as client:
        client.sendmail("a@sender.example", ["b@rcpt.example"], b"Subject: x\r\n\r\nbody\r\n")
        msg_id = client.last_id()
    raw = file_for_id(server, msg_id).read_bytes()
    _, received, body = split_stored(raw)
    assert received.startswith(b"Received: from client.example")
    assert msg_id.encode() in received
    for line in received.split(b"\r\n")[1:-1]:
        assert line.startswith(b"\t"), received
        assert len(line) <= 998
    assert body == b"Subject: x\r\n\r\nbody\r\n"


def test_smtputf8_send_message(server):
    sender = "jörg.müller@bücher.example"
    rcpt = "用户@例子.example"
    msg = EmailMessage()
    msg["From"] = f"Jörg <{sender}>"
    msg["To"] = rcpt
    msg["Subject"] = UTF8_SUBJECT
    msg.set_content("Grüße, 你好, Привет.\n")
    expected = flatten_like_smtplib(msg, international=True)
    assert "Привет".encode() in expected and UTF8_SUBJECT.encode() in expected

    with connect(server) as client:
        assert client.has_extn("smtputf8")
        assert client.send_message(msg) == {}
        # smtplib adds SMTPUTF8 (and BODY=8BITMIME) itself for non-ASCII addresses
        assert "SMTPUTF8" in client.mail_options_seen[0]
        msg_id = client.last_id()
    raw = file_for_id(server, msg_id).read_bytes()
    assert reverse_path_of(raw) == sender
    assert body_of(raw) == expected
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == UTF8_SUBJECT


def test_smtputf8_sendmail_with_mail_option(server):
    sender = "δοκιμή@παράδειγμα.example"
    rcpts = ["пользователь@пример.example", "ascii@plain.example"]
    data = ("From: " + sender + "\r\nTo: " + ", ".join(rcpts) + "\r\n"
            "Subject: " + UTF8_SUBJECT + "\r\n\r\nΚαλημέρα κόσμε\r\n").encode("utf-8")
    with connect(server) as client:
        refused = client.sendmail(sender, rcpts, data, mail_options=["SMTPUTF8"])
        assert refused == {}
        msg_id = client.last_id()
    raw = file_for_id(server, msg_id).read_bytes()
    assert reverse_path_of(raw) == sender
    assert body_of(raw) == data
    assert len(server.new_files()) == 1  # catch-all: stored once whatever the recipient count


def test_utf8_address_without_smtputf8_is_refused(server):
    with connect(server) as client:
        client.command_encoding = "utf-8"  # raw UTF-8 on the wire, without the SMTPUTF8 parameter
        code, text = client.docmd("MAIL", "FROM:<jörg@bücher.example>")
        assert code in (501, 553, 550, 555), (code, text)
        assert text[:2] == b"5.", text
        code, _ = client.rset()
        assert code == 250


def test_multiple_recipients_stored_once(server):
    msg = EmailMessage()
    msg["From"] = "sender@sender.example"
    msg["To"] = "one@rcpt.example, two@rcpt.example"
    msg["Cc"] = "three@other.example"
    msg["Bcc"] = "hidden@secret.example"
    msg["Subject"] = "several recipients"
    msg.set_content("to everyone\n")
    expected = flatten_like_smtplib(msg)
    assert b"hidden@secret.example" not in expected

    with connect(server) as client:
        assert client.send_message(msg) == {}
        msg_id = client.last_id()
    files = server.new_files()
    assert len(files) == 1
    raw = file_for_id(server, msg_id).read_bytes()
    assert body_of(raw) == expected
    _, received, _ = split_stored(raw)
    # RFC 5321 §4.4: "for" only when there is exactly one recipient
    assert b"one@rcpt.example" not in received


def test_many_recipients_accepted(server):
    rcpts = [f"user{i}@rcpt{i % 7}.example" for i in range(100)]
    data = b"Subject: hundred\r\n\r\nhello\r\n"
    with connect(server) as client:
        assert client.sendmail("s@sender.example", rcpts, data) == {}
        msg_id = client.last_id()
    assert body_of(file_for_id(server, msg_id).read_bytes()) == data


def test_per_recipient_layout(make_server):
    server = make_server('[store]\nlayout = "per-recipient"\n')
    rcpts = ["alice@one.example", "bob@two.example", "carol@one.example"]
    data = b"From: s@sender.example\r\nSubject: per recipient\r\n\r\ncopy for each\r\n"
    with connect(server) as client:
        assert client.sendmail("s@sender.example", rcpts, data) == {}
        msg_id = client.last_id()
    for r in rcpts:
        files = server.new_files(r)
        assert len(files) == 1, (r, list((server.data_dir / "mail").iterdir()))
        assert files[0].name.startswith(msg_id + ".")
        raw = files[0].read_bytes()
        assert body_of(raw) == data
        assert reverse_path_of(raw) == "s@sender.example"
    assert server.new_files("inbox") == []


def test_leading_dots_survive_unstuffing(server):
    body_lines = [".", "..", "...", ".hidden line", "..double", "a . in the middle", " .space first",
                  ".", "end"]
    data = ("From: a@sender.example\r\nSubject: dots\r\n\r\n" + "\r\n".join(body_lines) + "\r\n").encode()
    sent_on_wire = []
    with connect(server) as client:
        orig_send = client.send

        def spy(s):
            sent_on_wire.append(s if isinstance(s, bytes) else s.encode())
            return orig_send(s)

        client.send = spy
        assert client.sendmail("a@sender.example", ["b@rcpt.example"], data) == {}
        client.send = orig_send
        msg_id = client.last_id()
    wire = b"".join(sent_on_wire)
    assert b"\r\n..hidden line\r\n" in wire  # smtplib stuffed it
    raw = file_for_id(server, msg_id).read_bytes()
    assert body_of(raw) == data


def test_data_without_final_crlf_gets_one(server):
    with connect(server) as client:
        assert client.sendmail("a@sender.example", ["b@rcpt.example"], b"Subject: t\r\n\r\nno newline") == {}
        msg_id = client.last_id()
    assert body_of(file_for_id(server, msg_id).read_bytes()) == b"Subject: t\r\n\r\nno newline\r\n"


def test_null_reverse_path(server):
    with connect(server) as client:
        assert client.sendmail("<>", ["postmaster@rcpt.example"], b"Subject: bounce\r\n\r\nx\r\n") == {}
        msg_id = client.last_id()
    raw = file_for_id(server, msg_id).read_bytes()
    assert raw.startswith(b"Return-Path: <>\r\n")


def test_five_mebibyte_message(server):
    rng = random.Random(5)
    lines = [b"From: big@sender.example", b"To: r@rcpt.example", b"Subject: five MiB", b""]
    alphabet = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:-"
    size = 0
    while size < 5 * 1024 * 1024:
        n = rng.randrange(0, 200)
        line = bytes(rng.choice(alphabet) for _ in range(n)) if n < 40 else (
            bytes([alphabet[(size + i) % len(alphabet)] for i in range(n)]))
        if rng.random() < 0.05:
            line = b"." + line
        lines.append(line)
        size += len(line) + 2
    data = b"\r\n".join(lines) + b"\r\n"
    assert len(data) >= 5 * 1024 * 1024

    with connect(server) as client:
        declared = int(client.esmtp_features["size"].strip())
        assert declared > len(data) + 100000, f"default SIZE {declared} is below a 5 MiB message"
        # smtplib declares SIZE=<len> itself when the server advertises SIZE
        assert client.sendmail("big@sender.example", ["r@rcpt.example"], data) == {}
        assert client.mail_options_seen == [(f"size={len(data)}",)]
        msg_id = client.last_id()
    raw = file_for_id(server, msg_id).read_bytes()
    stored = body_of(raw)
    assert len(stored) == len(data)
    assert stored == data


def test_several_messages_one_session(server):
    ids = []
    with connect(server) as client:
        for i in range(5):
            data = f"Subject: message {i}\r\n\r\nbody {i}\r\n".encode()
            assert client.sendmail(f"s{i}@sender.example", ["r@rcpt.example"], data) == {}
            ids.append(client.last_id())
            assert client.rset()[0] == 250
    assert len(set(ids)) == 5
    for i, msg_id in enumerate(ids):
        raw = file_for_id(server, msg_id).read_bytes()
        assert body_of(raw) == f"Subject: message {i}\r\n\r\nbody {i}\r\n".encode()
        assert reverse_path_of(raw) == f"s{i}@sender.example"


@pytest.mark.parametrize("command,code", [("NOOP", 250), ("RSET", 250), ("VRFY someone", 252)])
def test_simple_commands_have_enhanced_codes(server, command, code):
    with connect(server) as client:
        got, text = client.docmd(command)
        assert got == code, (got, text)
        assert text[:2] == b"2.", text
