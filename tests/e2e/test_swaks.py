# SPDX-License-Identifier: MIT
"""swaks (plain and --pipeline) against the built server; stored bytes checked exactly."""
from __future__ import annotations

import email
import email.policy
import re
import shutil
import subprocess

import pytest

from conftest import body_of, file_for_id, reverse_path_of

SWAKS = shutil.which("swaks") or "/usr/bin/swaks"



@pytest.fixture(autouse=True)
def _need_swaks():
    if not shutil.which("swaks"):
        pytest.fail("swaks is not installed: run scripts/install-deps.sh --tests")


def run_swaks(server, *args, timeout=60) -> str:
    argv = [SWAKS, "--server", f"{server.host}:{server.port}", "--helo", "client.example",
            "--timeout", "30", *args]
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    out = proc.stdout.decode("utf-8", "replace") + proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 0, f"swaks exit {proc.returncode}\n{out}"
    return out


def queued_ids(transcript: str) -> list[str]:
    """Ids from the "<-  250 2.0.0 Ok: queued as ID" lines of a swaks transcript."""
    return re.findall(r"<-\s+250 2\.0\.0 .*?queued as (\S+)", transcript)


def swaks_wire_data(file_bytes: bytes) -> bytes:
    """What swaks stores for a --data file written with CRLF line ends and no final line end:
    it dot-stuffs, appends "\\r\\n.\\r\\n"; we unstuff, so the stored data is the file plus CRLF."""
    assert b"%" not in file_bytes and b"\\n" not in file_bytes  # no swaks tokens
    assert not file_bytes.endswith(b"\n") and not file_bytes.startswith(b"From ")
    assert not file_bytes.startswith(b".")  # swaks does not stuff a dot on the very first line
    return file_bytes + b"\r\n"


DATA_FILE = ("From: Swaks Sender <sender@swaks.example>\r\n"
             "To: rcpt@rcpt.example\r\n"
             "Subject: swaks data file\r\n"
             "Message-Id: <swaks-1@swaks.example>\r\n"
             "MIME-Version: 1.0\r\n"
             "Content-Type: text/plain; charset=utf-8\r\n"
             "Content-Transfer-Encoding: 8bit\r\n"
             "\r\n"
             "first line\r\n"
             ".a line with a leading dot\r\n"
             "..two dots\r\n"
             ".\r\n"
             "Grüße, 你好 — 8-bit body text\r\n"
             "\r\n"
             "last line").encode("utf-8")


@pytest.mark.parametrize("pipeline", [False, True], ids=["plain", "pipeline"])
def test_data_file(server, tmp_path, pipeline):
    path = tmp_path / "message.eml"
    path.write_bytes(DATA_FILE)
    args = ["--to", "rcpt@rcpt.example", "--from", "sender@swaks.example", "--data", f"@{path}"]
    if pipeline:
        args.append("--pipeline")
    out = run_swaks(server, *args)
    if pipeline:
        assert "does not support" not in out.lower(), out
    ids = queued_ids(out)
    assert len(ids) == 1, out
    raw = file_for_id(server, ids[0]).read_bytes()
    assert reverse_path_of(raw) == "sender@swaks.example"
    assert body_of(raw) == swaks_wire_data(DATA_FILE)
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == "swaks data file"
    text = parsed.get_content()
    assert ".a line with a leading dot\n..two dots\n.\nGrüße, 你好" in text.replace("\r\n", "\n")
    assert len(server.new_files()) == 1


@pytest.mark.parametrize("pipeline", [False, True], ids=["plain", "pipeline"])
def test_body_option_several_recipients(server, pipeline):
    rcpts = ["one@rcpt.example", "two@rcpt.example", "three@elsewhere.example"]
    args = ["--to", ",".join(rcpts), "--from", "body@swaks.example",
            "--header", "Subject: swaks body option",
            "--body", "hello from swaks\n.dotted line\nbye"]
    if pipeline:
        args.append("--pipeline")
    out = run_swaks(server, *args)
    assert "<**" not in out, out
    # MAIL, three RCPT and the end of data: five 250 replies with an enhanced code
    assert len(re.findall(r"<-\s+250 2\.\d{1,3}\.\d{1,3} ", out)) == 5, out
    ids = queued_ids(out)
    assert len(ids) == 1, out
    raw = file_for_id(server, ids[0]).read_bytes()
    assert reverse_path_of(raw) == "body@swaks.example"
    body = body_of(raw)
    # swaks puts blank lines after --body; what matters is the unstuffed body between them
    assert b"\r\n\r\nhello from swaks\r\n.dotted line\r\nbye\r\n" in body, body
    assert body.endswith(b"bye\r\n\r\n\r\n") or body.endswith(b"bye\r\n"), body
    assert b"\r\nTo: " + ",".join(rcpts).encode() + b"\r\n" in b"\r\n" + body
    assert b"\r\nSubject: swaks body option\r\n" in b"\r\n" + body
    # every line of what swaks composed ends in CRLF: no bare LF or CR was introduced or kept
    assert b"\n" not in body.replace(b"\r\n", b"") and b"\r" not in body.replace(b"\r\n", b"")
    assert len(server.new_files()) == 1


def test_pipeline_several_messages(server, tmp_path):
    ids = []
    for i in range(3):
        path = tmp_path / f"m{i}.eml"
        data = f"Subject: pipelined {i}\r\n\r\nmessage number {i}".encode()
        path.write_bytes(data)
        out = run_swaks(server, "--to", f"r{i}@rcpt.example", "--from", f"s{i}@swaks.example",
                        "--data", f"@{path}", "--pipeline")
        got = queued_ids(out)
        assert len(got) == 1, out
        ids.append((got[0], data, f"s{i}@swaks.example"))
    assert len({i for i, _, _ in ids}) == 3
    for msg_id, data, sender in ids:
        raw = file_for_id(server, msg_id).read_bytes()
        assert body_of(raw) == swaks_wire_data(data)
        assert reverse_path_of(raw) == sender


def test_replies_carry_enhanced_codes(server):
    out = run_swaks(server, "--to", "r@rcpt.example", "--from", "s@swaks.example", "--body", "x")
    # every 2xx/4xx/5xx reply except the greeting, the EHLO reply and 354 carries an enhanced code
    last_cmd = None
    checked = 0
    for line in out.splitlines():
        m = re.match(r"\s*(->|<-|<\*\*)\s+(.*)$", line)
        if not m:
            continue
        if m.group(1) == "->":
            last_cmd = m.group(2).split(" ")[0].upper()
            continue
        code, text = m.group(2)[:3], m.group(2)[4:]
        if last_cmd is None or last_cmd in ("EHLO", "HELO") or code == "354":
            continue
        assert re.match(rf"{code[0]}\.\d{{1,3}}\.\d{{1,3}}\b", text), (code, text, out)
        checked += 1
    assert checked >= 4, out  # MAIL, RCPT, end of data, QUIT at least
