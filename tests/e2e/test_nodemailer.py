# SPDX-License-Identifier: MIT
"""nodemailer (npm) against the built server: HTML + text + attachment, read back from disk."""
from __future__ import annotations

import base64
import email
import email.policy
import json
import random
import re
import shutil
import subprocess

import pytest

from conftest import E2E_DIR, body_of, file_for_id, queued_id, reverse_path_of

NODE = shutil.which("node")
SCRIPT = E2E_DIR / "nodemailer_send.mjs"



@pytest.fixture(autouse=True)
def _need_nodemailer():
    if NODE is None or not (E2E_DIR / "node_modules" / "nodemailer").is_dir():
        pytest.fail("node or tests/e2e/node_modules/nodemailer missing: run scripts/install-deps.sh --tests")

SUBJECT = "Grüße from nodemailer — ✓ 日本"
TEXT = "Hello from nodemailer.\n.a line with a leading dot\nÜnïcödé text part.\n"
HTML = "<html><body><h1>Hello</h1><p>From <b>nodemailer</b> — ✓</p></body></html>"


def blob() -> bytes:
    rng = random.Random(7)
    return bytes(range(256)) + b"\r\n.\r\n" + rng.randbytes(40000)


def send(server, spec: dict) -> dict:
    spec = {"host": server.host, "port": server.port, **spec}
    proc = subprocess.run([NODE, str(SCRIPT), json.dumps(spec)], cwd=E2E_DIR, capture_output=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    return json.loads(proc.stdout.decode("utf-8").strip().splitlines()[-1])


def as_sent(raw: bytes) -> bytes:
    """What nodemailer's data stream puts on the wire for `raw`, unstuffed again: every bare CR or
    LF becomes CRLF, and a CRLF is added at the end when missing."""
    out = re.sub(rb"\r\n|\r|\n", b"\r\n", raw)
    return out if out.endswith(b"\r\n") else out + b"\r\n"


def mail_spec(attachment: bytes) -> dict:
    return {
        "from": "Nodemailer Sender <header-from@node.example>",
        "to": ["First <first@rcpt.example>", "second@rcpt.example"],
        "cc": "third@other.example",
        "subject": SUBJECT,
        "text": TEXT,
        "html": HTML,
        "attachments": [
            {"filename": "data.bin", "contentBase64": base64.b64encode(attachment).decode(),
             "contentType": "application/octet-stream"},
            {"filename": "notes.txt", "content": "plain attachment\nsecond line\n"},
        ],
    }


def check_parsed(raw: bytes, attachment: bytes):
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == SUBJECT
    assert parsed["From"].addresses[0].addr_spec == "header-from@node.example"
    assert parsed.get_content_type() == "multipart/mixed"
    text = parsed.get_body(preferencelist=("plain",))
    html = parsed.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    assert text.get_content().replace("\r\n", "\n") == TEXT
    assert html.get_content().replace("\r\n", "\n").strip() == HTML
    files = {a.get_filename(): a for a in parsed.iter_attachments()}
    assert set(files) == {"data.bin", "notes.txt"}, list(files)
    assert files["data.bin"].get_content() == attachment
    assert files["notes.txt"].get_content().replace("\r\n", "\n") == "plain attachment\nsecond line\n"
    return parsed


def test_structured_message(server):
    attachment = blob()
    envelope = {"from": "bounces@node.example",
                "to": ["first@rcpt.example", "second@rcpt.example", "third@other.example"]}
    info = send(server, {"mode": "structured", "mail": mail_spec(attachment), "envelope": envelope})
    assert info["response"].startswith("250 2.0.0"), info
    assert sorted(info["accepted"]) == sorted(envelope["to"]) and info["rejected"] == []
    raw = file_for_id(server, queued_id(info["response"])).read_bytes()
    # the envelope sender, not the From header, is the Return-Path
    assert reverse_path_of(raw) == "bounces@node.example"
    parsed = check_parsed(raw, attachment)
    assert parsed["Message-ID"] == info["messageId"]
    assert len(server.new_files()) == 1


def test_raw_message_byte_for_byte(server):
    attachment = blob()
    envelope = {"from": "raw-sender@node.example", "to": ["only@rcpt.example"]}
    info = send(server, {"mode": "raw", "mail": mail_spec(attachment), "envelope": envelope})
    assert info["response"].startswith("250 2.0.0"), info
    built = base64.b64decode(info["rawBase64"])
    raw = file_for_id(server, queued_id(info["response"])).read_bytes()
    assert reverse_path_of(raw) == "raw-sender@node.example"
    assert body_of(raw) == as_sent(built)
    check_parsed(raw, attachment)


def test_envelope_defaults_to_headers(server):
    mail = {"from": "plain@node.example", "to": "dest@rcpt.example", "subject": "no envelope",
            "text": "short\n"}
    info = send(server, {"mode": "structured", "mail": mail})
    assert info["envelope"] == {"from": "plain@node.example", "to": ["dest@rcpt.example"]}
    raw = file_for_id(server, queued_id(info["response"])).read_bytes()
    assert reverse_path_of(raw) == "plain@node.example"
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == "no envelope"
    assert parsed.get_content().replace("\r\n", "\n") == "short\n"


def test_per_recipient_copies(make_server):
    server = make_server('[store]\nlayout = "per-recipient"\n')
    attachment = blob()
    envelope = {"from": "bounces@node.example", "to": ["first@rcpt.example", "third@other.example"]}
    info = send(server, {"mode": "structured", "mail": mail_spec(attachment), "envelope": envelope})
    msg_id = queued_id(info["response"])
    bodies = []
    for rcpt in envelope["to"]:
        raw = file_for_id(server, msg_id, rcpt).read_bytes()
        assert reverse_path_of(raw) == "bounces@node.example"
        check_parsed(raw, attachment)
        bodies.append(body_of(raw))
    assert bodies[0] == bodies[1]
