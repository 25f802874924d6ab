# SPDX-License-Identifier: MIT
"""The web inbox's HTTP API (docs/web.md) end to end: `postern serve --http 127.0.0.1:0`, mail sent
with smtplib, the API read with http.client and raw sockets (standard library only).

Covered: the Mailpit list and message shapes, postern's SPF/DKIM/DMARC fields ("Auth",
"Authentication") with `[mailauth]` checking mail against a dnsmasq, and after a rebuild, paging, the parsed message, /raw, /part, /headers,
the sandboxed /view/ page, search (filters, phrases, accents, junk), marking read, deleting (API,
search, retention; files gone from disk), Server-Sent Events, /metrics, errors and limits, basic
auth, the index rebuilt from the Maildir, `--http off` and a port in use.

Messages are indexed after the 250 reply, on the inbox's own thread: tests poll the API with a
deadline (wait_until) instead of sleeping.
"""
from __future__ import annotations

import base64
import calendar
import concurrent.futures
import email.policy
import http.client
import json
import re
import smtplib
import socket
import subprocess
import time
import urllib.parse
from email.message import EmailMessage
from pathlib import Path
from typing import NamedTuple

import pytest

from conftest import Server, body_of, file_for_id, postern_bin, queued_id
from dnsmasq import make_dnsmasq  # noqa: F401  (fixture)

DEADLINE = 10.0

# A 1x1 transparent PNG.
PIXEL = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                      "1f15c4890000000d49444154789c6360000002000105dd1d4a2e0000000049454e44ae426082")
# Every octet value, a few times over: a part must come back byte for byte.
BINARY = bytes(range(256)) * 3

LIST_KEYS = {"total", "unread", "count", "messages_count", "messages_unread", "start", "tags", "messages"}
SUMMARY_KEYS = {"ID", "MessageID", "Read", "From", "To", "Cc", "Bcc", "ReplyTo", "Subject", "Created", "Username",
                "Tags", "Size", "Attachments", "Snippet", "Auth"}
MESSAGE_KEYS = {"ID", "MessageID", "From", "To", "Cc", "Bcc", "ReplyTo", "ReturnPath", "Subject", "Date", "Text",
                "HTML", "Size", "Inline", "Attachments", "Headers", "Auth", "Authentication"}
ATTACHMENT_KEYS = {"PartID", "FileName", "ContentType", "ContentID", "Size"}
RFC3339_Z = re.compile(r"\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\Z")
ID_RE = re.compile(r"\A[A-Za-z0-9._-]+\Z")


# ---- HTTP ---------------------------------------------------------------------------------------

class Response(NamedTuple):
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def json(self):
        ctype = self.headers.get("Content-Type", "")
        assert ctype.startswith("application/json"), (self.status, ctype, self.body[:300])
        return json.loads(self.body.decode("utf-8"))


def request(server: Server, method: str, path: str, body: bytes | str | None = None, headers: dict | None = None,
            timeout: float = 30.0) -> Response:
    """One request on a fresh connection; the path is sent exactly as given."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    conn = http.client.HTTPConnection(*server.http, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return Response(r.status, r.headers, r.read())
    finally:
        conn.close()


def get_json(server: Server, path: str, status: int = 200):
    r = request(server, "GET", path)
    assert r.status == status, (path, r.status, r.body[:500])
    return r.json()


def assert_error(r: Response, status: int, what: str = "") -> None:
    """Every error is JSON {"Error": "..."} with the given status."""
    assert r.status == status, (what, r.status, r.body[:500])
    j = r.json()
    assert set(j) == {"Error"} and isinstance(j["Error"], str) and j["Error"], (what, j)


def raw_http(server: Server, data: bytes, timeout: float = 10.0) -> bytes:
    """Sends `data` on a raw socket and returns every octet the server sends before it closes."""
    with socket.create_connection(server.http, timeout=timeout) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        out = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
        except ConnectionResetError:
            pass
        return out


def status_of(raw: bytes) -> int:
    m = re.match(rb"HTTP/1\.[01] (\d{3}) ", raw)
    assert m, raw[:300]
    return int(m.group(1))


def body_json_of(raw: bytes):
    head, _, body = raw.partition(b"\r\n\r\n")
    assert re.search(rb"(?im)^content-type: application/json\r?$", head), head
    return json.loads(body.decode("utf-8"))


def search_path(query: str, **params) -> str:
    return "/api/v1/search?" + urllib.parse.urlencode({"query": query, **params})


def messages(server: Server, path: str = "/api/v1/messages?limit=1000") -> list[dict]:
    return get_json(server, path)["messages"]


def subjects(page: dict) -> list[str]:
    return [m["Subject"] for m in page["messages"]]


def wait_until(check, timeout: float = DEADLINE, what: str = "condition"):
    """Calls check() until it returns something truthy; returns that. Fails after `timeout`."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = check()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not true within {timeout} s (last: {last!r})")
        time.sleep(0.05)


def wait_listed(server: Server, ids, timeout: float = DEADLINE) -> list[dict]:
    """Waits until every id in `ids` is in the list; returns the list."""
    want = set(ids)

    def check():
        listed = messages(server)
        return listed if want <= {m["ID"] for m in listed} else None

    return wait_until(check, timeout, f"messages {sorted(want)} listed")


# ---- SMTP ---------------------------------------------------------------------------------------

def to_bytes(msg: EmailMessage | bytes) -> bytes:
    if isinstance(msg, bytes):
        return msg
    return msg.as_bytes(policy=email.policy.SMTP)


def send(server: Server, *msgs, sender: str = "bounce@shop.example", rcpts=("bob@example.com",)) -> list[str]:
    """Sends each message in its own transaction on one connection; returns their API IDs (the
    Maildir file names), in sending order."""
    ids = []
    with smtplib.SMTP(*server.address, local_hostname="client.example", timeout=30) as s:
        s.ehlo()
        for msg in msgs:
            code, text = s.mail(sender)
            assert code == 250, text
            for r in rcpts:
                code, text = s.rcpt(r)
                assert code == 250, (r, text)
            code, text = s.data(to_bytes(msg))
            assert code == 250, text
            ids.append(file_for_id(server, queued_id(text.decode())).name)
    return ids


def simple(subject: str, body: str = "hello", sender: str = "Ann <ann@shop.example>",
           to: str = "bob@example.com", **fields) -> bytes:
    head = f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n"
    for name, value in fields.items():
        head += f"{name.replace('_', '-')}: {value}\r\n"
    return (head + "\r\n" + body + "\r\n").encode("utf-8")


def rich_message() -> EmailMessage:
    """Text and HTML alternatives, an inline cid image, a binary and an HTML attachment."""
    m = EmailMessage()
    m["From"] = "Ann Lée <ann@shop.example>"
    m["To"] = "Bob <bob@example.com>, carol@example.com"
    m["Cc"] = "Dan <dan@example.com>"
    m["Bcc"] = "secret@example.com"
    m["Reply-To"] = "replies@shop.example"
    m["Subject"] = "Grüße aus Zürich"
    m["Message-ID"] = "<rich-1@shop.example>"
    m["Date"] = "Mon, 02 Nov 2026 10:00:00 +0100"
    m["X-Test"] = "one"
    m["X-Test"] = "two"
    m.set_content("Hello Bob,\nthe quarterly report is attached.\n")
    m.add_alternative('<p>Hello <b>Bob</b></p><img src="cid:logo@shop.example" alt="logo">'
                      '<img src="https://tracker.example/pixel.png"><script>alert(1)</script>', subtype="html")
    m.get_payload()[1].add_related(PIXEL, maintype="image", subtype="png", cid="<logo@shop.example>")
    m.add_attachment(BINARY, maintype="application", subtype="octet-stream", filename="data.bin")
    m.add_attachment("<script>alert(document.cookie)</script>", subtype="html", filename="evil.html")
    return m


def stored_path(server: Server, msg_id: str) -> Path:
    return server.folder() / "new" / msg_id


# ---- the list -----------------------------------------------------------------------------------

SHAPE_MESSAGE = (
    b"Date: Mon, 02 Nov 2026 10:00:00 +0100\r\n"
    b"From: =?UTF-8?Q?Ann_L=C3=A9e?= <ann@shop.example>\r\n"
    b"To: Bob <bob@example.com>, carol@example.com\r\n"
    b"Cc: \"Dan D.\" <dan@example.com>\r\n"
    b"Subject: =?ISO-8859-1?Q?Gr=FC=DFe_aus_Z=FCrich?= =?UTF-8?B?4pyT?=\r\n"
    b"Message-ID: <shape-1@shop.example>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
    b"\r\n"
    b"--b1\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"\r\n"
    b"The quarterly figures are attached.\r\n"
    b"--b1\r\n"
    b"Content-Type: application/pdf; name=\"q3.pdf\"\r\n"
    b"Content-Disposition: attachment; filename=\"q3.pdf\"\r\n"
    b"Content-Transfer-Encoding: base64\r\n"
    b"\r\n"
    b"JVBERi0xLjQK\r\n"
    b"--b1--\r\n")


def test_list_shape_and_fields(server):
    before = time.time()
    [msg_id] = send(server, SHAPE_MESSAGE, rcpts=("bob@example.com", "carol@example.com"))
    wait_listed(server, [msg_id])
    page = get_json(server, "/api/v1/messages")
    assert set(page) == LIST_KEYS, page.keys()
    assert (page["total"], page["unread"], page["count"], page["messages_count"], page["messages_unread"],
            page["start"], page["tags"]) == (1, 1, 1, 1, 1, 0, [])
    [m] = page["messages"]
    assert set(m) == SUMMARY_KEYS, m.keys()
    assert m["ID"] == msg_id and ID_RE.match(m["ID"]), m["ID"]
    assert m["MessageID"] == "shape-1@shop.example"
    assert m["Read"] is False
    assert m["From"] == {"Name": "Ann Lée", "Address": "ann@shop.example"}
    assert m["To"] == [{"Name": "Bob", "Address": "bob@example.com"}, {"Name": "", "Address": "carol@example.com"}]
    assert m["Cc"] == [{"Name": "Dan D.", "Address": "dan@example.com"}]
    assert m["Bcc"] == [] and isinstance(m["ReplyTo"], list)
    assert m["Subject"] == "Grüße aus Zürich✓"
    assert RFC3339_Z.match(m["Created"]), m["Created"]
    created = calendar.timegm(time.strptime(m["Created"], "%Y-%m-%dT%H:%M:%SZ"))
    assert before - 2 <= created <= time.time() + 2, (m["Created"], before)  # arrival, not the Date field
    assert m["Tags"] == [] and m["Username"] == ""
    raw = request(server, "GET", f"/api/v1/message/{msg_id}/raw").body
    assert m["Size"] == stored_path(server, msg_id).stat().st_size == len(raw)
    assert m["Attachments"] == 1
    assert m["Snippet"].startswith("The quarterly figures are attached"), m["Snippet"]
    assert m["Auth"] is None  # 127.0.0.1 is in the default ignore_hosts: no verdict


def test_from_without_address_is_null(server):
    [msg_id] = send(server, b"To: bob@example.com\r\nSubject: anonymous\r\n\r\nno From field\r\n")
    [m] = wait_listed(server, [msg_id])
    assert m["From"] is None and m["Subject"] == "anonymous"


def test_summary_reply_to_is_filled_as_in_mailpit(server):
    """Mailpit's summary carries the Reply-To addresses (its Metadata.ReplyTo)."""
    [msg_id] = send(server, simple("with reply-to", Reply_To="Replies <replies@shop.example>"))
    [m] = wait_listed(server, [msg_id])
    assert m["ReplyTo"] == [{"Name": "Replies", "Address": "replies@shop.example"}], m


def test_inline_image_is_not_an_attachment(server):
    """An HTML body with one cid: image and no attachment: the summary's Attachments (Mailpit:
    len(env.Attachments), inline parts apart) is 0, like the message's Attachments list, and
    has:attachment does not find it."""
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = "ann@shop.example", "bob@example.com", "only an inline logo"
    m.set_content("text")
    m.add_alternative('<p><img src="cid:logo@shop.example"></p>', subtype="html")
    m.get_payload()[1].add_related(PIXEL, maintype="image", subtype="png", cid="<logo@shop.example>")
    [msg_id] = send(server, m)
    [summary] = wait_listed(server, [msg_id])
    full = get_json(server, f"/api/v1/message/{msg_id}")
    assert full["Attachments"] == [] and len(full["Inline"]) == 1, full
    assert summary["Attachments"] == len(full["Attachments"]) == 0, summary
    assert get_json(server, search_path("has:attachment"))["messages_count"] == 0


def test_newest_first_and_paging(server):
    ids = send(server, *[simple(f"m{i}", "paging test") for i in range(7)])
    wait_listed(server, ids)
    page = get_json(server, "/api/v1/messages")
    assert subjects(page) == [f"m{i}" for i in range(6, -1, -1)]
    assert [m["ID"] for m in page["messages"]] == ids[::-1]
    page = get_json(server, "/api/v1/messages?limit=3&start=3")
    assert subjects(page) == ["m3", "m2", "m1"]
    assert (page["count"], page["messages_count"], page["total"], page["start"]) == (3, 7, 7, 3)
    page = get_json(server, "/api/v1/messages?start=6&limit=3")
    assert subjects(page) == ["m0"] and page["count"] == 1 and page["start"] == 6
    page = get_json(server, "/api/v1/messages?start=50")
    assert page["messages"] == [] and page["count"] == 0 and page["messages_count"] == 7
    page = get_json(server, "/api/v1/messages?limit=2")
    assert subjects(page) == ["m6", "m5"]
    # The same paging over a search.
    page = get_json(server, search_path("paging", start=2, limit=2))
    assert subjects(page) == ["m4", "m3"] and page["messages_count"] == 7 and page["start"] == 2


@pytest.mark.parametrize("params", ["start=abc", "limit=abc", "start=-1", "limit=-1", "limit=1.5", "start=1e3",
                                    "start=99999999999999999999999", "limit=%2B5", "start=3x"])
def test_bad_start_or_limit_is_400(server, params):
    assert_error(request(server, "GET", f"/api/v1/messages?{params}"), 400, params)
    assert_error(request(server, "GET", f"/api/v1/search?query=x&{params}"), 400, params)


# ---- one message --------------------------------------------------------------------------------

def test_message_detail(server):
    [msg_id] = send(server, rich_message(), sender="bounce@shop.example")
    wait_listed(server, [msg_id])
    m = get_json(server, f"/api/v1/message/{msg_id}")
    assert MESSAGE_KEYS <= set(m), set(m) ^ MESSAGE_KEYS
    assert m["ID"] == msg_id and m["MessageID"] == "rich-1@shop.example"
    assert m["From"] == {"Name": "Ann Lée", "Address": "ann@shop.example"}
    assert m["To"] == [{"Name": "Bob", "Address": "bob@example.com"}, {"Name": "", "Address": "carol@example.com"}]
    assert m["Cc"] == [{"Name": "Dan", "Address": "dan@example.com"}]
    assert m["Bcc"] == [{"Name": "", "Address": "secret@example.com"}]
    assert m["ReplyTo"] == [{"Name": "", "Address": "replies@shop.example"}]
    assert m["ReturnPath"] == "bounce@shop.example"
    assert m["Subject"] == "Grüße aus Zürich"
    assert m["Date"] == "2026-11-02T09:00:00Z"
    assert m["Text"].replace("\r\n", "\n") == "Hello Bob,\nthe quarterly report is attached.\n"
    assert '<img src="cid:logo@shop.example"' in m["HTML"] and "<b>Bob</b>" in m["HTML"]
    assert m["Size"] == stored_path(server, msg_id).stat().st_size
    for a in m["Attachments"] + m["Inline"]:
        assert set(a) == ATTACHMENT_KEYS, a
    by_name = {a["FileName"]: a for a in m["Attachments"]}
    assert set(by_name) == {"data.bin", "evil.html"}, m["Attachments"]
    assert by_name["data.bin"]["ContentType"] == "application/octet-stream"
    assert by_name["data.bin"]["Size"] == len(BINARY)
    assert by_name["evil.html"]["ContentType"] == "text/html"
    [logo] = m["Inline"]
    assert logo["ContentID"] == "logo@shop.example" and logo["ContentType"] == "image/png"
    assert logo["Size"] == len(PIXEL)
    assert len({a["PartID"] for a in m["Attachments"] + m["Inline"]}) == 3
    h = m["Headers"]
    assert h["Subject"] == ["Grüße aus Zürich"]
    assert h["X-Test"] == ["one", "two"]
    assert h["Return-Path"] == ["<bounce@shop.example>"]
    assert h["Message-ID"] == ["<rich-1@shop.example>"]


def test_opening_a_message_marks_it_read(server):
    ids = send(server, simple("first"), simple("second"))
    wait_listed(server, ids)
    page = get_json(server, "/api/v1/messages")
    assert page["unread"] == 2 and [m["Read"] for m in page["messages"]] == [False, False]
    # Headers, raw and parts do not read the message; opening it does.
    assert request(server, "GET", f"/api/v1/message/{ids[0]}/headers").status == 200
    assert request(server, "GET", f"/api/v1/message/{ids[0]}/raw").status == 200
    assert get_json(server, "/api/v1/messages")["unread"] == 2
    assert get_json(server, f"/api/v1/message/{ids[0]}")["ID"] == ids[0]
    page = get_json(server, "/api/v1/messages")
    assert page["unread"] == 1 and page["messages_unread"] == 1
    assert {m["ID"]: m["Read"] for m in page["messages"]} == {ids[0]: True, ids[1]: False}
    info = get_json(server, "/api/v1/info")
    assert set(info) >= {"Version", "Messages", "Unread", "Size"}
    assert (info["Messages"], info["Unread"]) == (2, 1)
    assert info["Size"] == sum(stored_path(server, i).stat().st_size for i in ids)
    # "latest" is the newest message, and reads it too.
    latest = get_json(server, "/api/v1/message/latest")
    assert latest["ID"] == ids[1] and latest["Subject"] == "second"
    assert get_json(server, "/api/v1/messages")["unread"] == 0


def test_latest_with_no_messages_is_404(server):
    assert_error(request(server, "GET", "/api/v1/message/latest"), 404)
    assert_error(request(server, "GET", "/api/v1/message/latest/raw"), 404)


def test_unknown_and_hostile_ids_are_404(server, tmp_path):
    secret = tmp_path / "outside.txt"
    secret.write_text("TOPSECRET outside the data folder\n")
    [msg_id] = send(server, simple("the only message"))
    wait_listed(server, [msg_id])
    # The message file is DATA/mail/inbox/new/ID; DATA is tmp_path/dataN.
    ids = [
        "nope", "0", "..", ".", "%2e%2e", "%2E%2E", "...",
        "../../../../outside.txt", "..%2f..%2f..%2f..%2foutside.txt",
        "%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2foutside.txt", "..%5c..%5c..%5c..%5coutside.txt",
        "%2fetc%2fpasswd", "%2Fetc%2Fpasswd", "..%2f..%2f..%2findex.sqlite", "..%2f..%2f..%2ftls%2fkey.pem",
        "..%2f..%2f..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd", "....%2f%2f....%2f%2fetc%2fpasswd",
        f"{msg_id}%00", f"{msg_id}%00.txt", "%00", f"%00{msg_id}", f"{msg_id}%2f..%2f{msg_id}",
        f"..%2fnew%2f{msg_id}", f"{msg_id}%0a", "a" * 300, "a" * 4000, "%ff%fe",
    ]
    suffixes = ["", "/raw", "/raw?dl=1", "/headers", "/part/1", "/part/2"]
    for i in ids:
        for suffix in suffixes:
            path = f"/api/v1/message/{i}{suffix}"
            r = request(server, "GET", path)
            assert_error(r, 404, path)
        path = f"/view/{i}.html"
        assert_error(request(server, "GET", path), 404, path)
    # Traversal after a real ID: a part never names a file.
    for rest in ["/part/../../../../outside.txt", "/part/..%2f..%2f..%2f..%2foutside.txt", "/part/%2e%2e",
                 "/part/..", "/part/", "/part/99", "/part/1.1.1.1.1", "/../../../../outside.txt",
                 "/raw/../../../../outside.txt", "/headers/x", "/nope"]:
        path = f"/api/v1/message/{msg_id}{rest}"
        assert_error(request(server, "GET", path), 404, path)
    # A raw NUL octet in the request line: 400 (not HTTP) or 404, never the file.
    for target in (f"/api/v1/message/{msg_id}\x00/raw", "/api/v1/message/..\x00/raw"):
        out = raw_http(server, f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode("latin-1"))
        assert status_of(out) in (400, 404), out[:300]
        assert b"Return-Path" not in out
    # Still the one message, and the server answers.
    assert [m["ID"] for m in messages(server)] == [msg_id]
    assert server.running()


def test_hostile_ids_never_return_a_file(server, tmp_path):
    """Whatever the status, no answer carries the bytes of a file outside the message store."""
    (tmp_path / "outside.txt").write_text("TOPSECRET\n")
    send(server, simple("x"))
    for target in ["/api/v1/message/..%2f..%2f..%2f..%2foutside.txt/raw", "/api/v1/message/../../../../outside.txt",
                   "/view/..%2f..%2f..%2f..%2foutside.txt.html", "/assets/../../../../outside.txt",
                   "/assets/..%2f..%2f..%2f..%2foutside.txt", "/../../../../outside.txt", "/assets/%2e%2e%2fapp.js",
                   "/api/v1/message/..%2f..%2f..%2findex.sqlite/raw",
                   "/api/v1/message/..%2f..%2f..%2ftls%2fkey.pem/raw"]:
        r = request(server, "GET", target)
        assert r.status == 404, (target, r.status)
        assert b"TOPSECRET" not in r.body and b"SQLite format" not in r.body and b"PRIVATE KEY" not in r.body


def test_raw_is_the_stored_file(server):
    sent = to_bytes(rich_message())
    [msg_id] = send(server, sent)
    wait_listed(server, [msg_id])
    stored = stored_path(server, msg_id).read_bytes()
    assert body_of(stored) == sent
    r = request(server, "GET", f"/api/v1/message/{msg_id}/raw")
    assert r.status == 200
    assert r.body == stored
    assert r.header("Content-Type") == "text/plain; charset=utf-8"
    assert r.header("Content-Disposition") is None
    assert r.header("X-Content-Type-Options") == "nosniff"
    r = request(server, "GET", f"/api/v1/message/{msg_id}/raw?dl=1")
    assert r.status == 200 and r.body == stored
    disposition = r.header("Content-Disposition")
    assert disposition.startswith(f'attachment; filename="{msg_id}.eml"'), disposition
    r = request(server, "GET", "/api/v1/message/latest/raw")
    assert r.status == 200 and r.body == stored


def test_part_is_the_decoded_attachment(server):
    [msg_id] = send(server, rich_message())
    wait_listed(server, [msg_id])
    m = get_json(server, f"/api/v1/message/{msg_id}")
    by_name = {a["FileName"]: a for a in m["Attachments"]}

    r = request(server, "GET", f"/api/v1/message/{msg_id}/part/{by_name['data.bin']['PartID']}")
    assert r.status == 200
    assert r.body == BINARY
    assert r.header("Content-Type") == "application/octet-stream"
    disposition = r.header("Content-Disposition")
    assert disposition.startswith("attachment") and 'filename="data.bin"' in disposition, disposition
    assert r.header("X-Content-Type-Options") == "nosniff"
    assert "sandbox" in r.header("Content-Security-Policy")

    # An HTML attachment opened on its own must not run script on this origin.
    r = request(server, "GET", f"/api/v1/message/{msg_id}/part/{by_name['evil.html']['PartID']}")
    assert r.status == 200 and r.body.rstrip(b"\r\n") == b"<script>alert(document.cookie)</script>"
    assert r.header("Content-Type").startswith("text/html")
    assert r.header("Content-Disposition").startswith("attachment")
    csp = policy(r.header("Content-Security-Policy"))
    assert "sandbox" in csp and "allow-scripts" not in csp["sandbox"], csp
    assert r.header("X-Content-Type-Options") == "nosniff"

    [logo] = m["Inline"]
    r = request(server, "GET", f"/api/v1/message/{msg_id}/part/{logo['PartID']}")
    assert r.status == 200 and r.body == PIXEL and r.header("Content-Type") == "image/png"
    assert "sandbox" in r.header("Content-Security-Policy")


def test_headers_endpoint(server):
    [msg_id] = send(server, rich_message(), sender="bounce@shop.example")
    wait_listed(server, [msg_id])
    h = get_json(server, f"/api/v1/message/{msg_id}/headers")
    assert isinstance(h, dict)
    for name, values in h.items():
        assert isinstance(name, str) and isinstance(values, list) and values, (name, values)
        assert all(isinstance(v, str) for v in values), (name, values)
    assert h["Subject"] == ["Grüße aus Zürich"]
    assert h["From"] == ["Ann Lée <ann@shop.example>"]
    assert h["X-Test"] == ["one", "two"]
    assert h["Return-Path"] == ["<bounce@shop.example>"]
    assert len(h["Received"]) == 1 and "bob@example.com" in h["Received"][0]
    assert h["Message-ID"] == ["<rich-1@shop.example>"]
    # Reading the headers does not mark the message read; opening it gives the same headers.
    assert messages(server)[0]["Read"] is False
    assert h == get_json(server, f"/api/v1/message/{msg_id}")["Headers"]


# ---- the HTML view ------------------------------------------------------------------------------

def policy(header: str | None) -> dict[str, list[str]]:
    """A Content-Security-Policy as {directive: [sources]}."""
    assert header, "no Content-Security-Policy"
    out = {}
    for item in header.split(";"):
        words = item.split()
        if words:
            out[words[0].lower()] = words[1:]
    return out


def test_html_view_policy_and_cid_links(server):
    [msg_id] = send(server, rich_message())
    wait_listed(server, [msg_id])
    m = get_json(server, f"/api/v1/message/{msg_id}")
    [logo] = m["Inline"]
    r = request(server, "GET", f"/view/{msg_id}.html")
    assert r.status == 200 and r.header("Content-Type").startswith("text/html")
    csp = policy(r.header("Content-Security-Policy"))
    assert csp["script-src"] == ["'none'"], csp
    assert "sandbox" in csp and "allow-scripts" not in csp["sandbox"] and "allow-same-origin" not in csp["sandbox"]
    assert csp["default-src"] == ["'none'"], csp
    for remote in ("http:", "https:", "*", "https://tracker.example"):
        assert remote not in csp.get("img-src", []), csp
        assert remote not in csp.get("default-src", []), csp
    assert r.header("X-Content-Type-Options") == "nosniff"
    html = r.body.decode("utf-8")
    assert f'src="/api/v1/message/{msg_id}/part/{logo["PartID"]}"' in html, html
    assert "cid:" not in html
    assert "<b>Bob</b>" in html

    r = request(server, "GET", f"/view/{msg_id}.html?remote=1")
    assert r.status == 200
    csp = policy(r.header("Content-Security-Policy"))
    assert "https:" in csp["img-src"], csp
    assert csp["script-src"] == ["'none'"] and "sandbox" in csp and "allow-scripts" not in csp["sandbox"], csp
    # The inline image is served at the rewritten address.
    r = request(server, "GET", f"/api/v1/message/{msg_id}/part/{logo['PartID']}")
    assert r.status == 200 and r.body == PIXEL

    assert_error(request(server, "GET", "/view/nope.html"), 404)
    assert_error(request(server, "POST", f"/view/{msg_id}.html"), 405)


# ---- search -------------------------------------------------------------------------------------

def search_message(sender, to, subject, body, cc=None, attachment=False) -> EmailMessage:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = sender, to, subject
    if cc:
        m["Cc"] = cc
    m.set_content(body)
    if attachment:
        m.add_attachment(b"%PDF-1.4\n", maintype="application", subtype="pdf", filename="report.pdf")
    return m


@pytest.fixture
def corpus(server):
    """Three messages A, B, C; returns (server, {"A": id, "B": id, "C": id})."""
    a = search_message("Ann Lée <ann@shop.example>", "bob@example.com", "Invoice from Zürich",
                       "The quarterly report is attached.", attachment=True)
    b = search_message("Carl <carl@news.example>", "dora@example.com", "Weekly newsletter",
                       "Fresh news about the weather. Invoice questions? Reply.")
    c = search_message("eve@corp.example", "frank@example.com", "Lunch on Friday",
                       "Shall we meet at the café near the station?", cc="Bob <bob@example.com>")
    [ia] = send(server, a, rcpts=("bob@example.com",))
    [ib] = send(server, b, rcpts=("dora@example.com", "hidden@bcc.example"))
    [ic] = send(server, c, rcpts=("frank@example.com", "bob@example.com"))
    ids = {"A": ia, "B": ib, "C": ic}
    wait_listed(server, ids.values())
    return server, ids


def found(server: Server, query: str, ids: dict) -> set[str]:
    page = get_json(server, search_path(query))
    assert set(page) == LIST_KEYS, page.keys()
    assert page["count"] == len(page["messages"]) == page["messages_count"], (query, page)
    names = {v: k for k, v in ids.items()}
    return {names[m["ID"]] for m in page["messages"]}


@pytest.mark.parametrize("query, expected", [
    ("invoice", {"A", "B"}),
    ("INVOICE", {"A", "B"}),
    ("quarterly report", {"A"}),
    ("report quarterly", {"A"}),
    ('"quarterly report"', {"A"}),
    ('"report quarterly"', set()),
    ("quart", {"A"}),
    ("zurich", {"A"}),
    ("ZÜRICH", {"A"}),
    ("Zürich", {"A"}),
    ("cafe", {"C"}),
    ("CAFÉ", {"C"}),
    ("from:ann@shop.example", {"A"}),
    ("from:carl", {"B"}),
    ("from:news.example", {"B"}),
    ("FROM:Carl", {"B"}),
    ("from:dora@example.com", set()),
    ("to:dora@example.com", {"B"}),
    ("to:bob@example.com", {"A", "C"}),
    ("to:hidden@bcc.example", {"B"}),
    ("subject:invoice", {"A"}),
    ("subject:newsletter", {"B"}),
    ('subject:"on friday"', {"C"}),
    ("has:attachment", {"A"}),
    ("from:ann has:attachment", {"A"}),
    ("from:carl has:attachment", set()),
    ("invoice weather", {"B"}),
    ("nothingmatchesthis", set()),
])
def test_search(corpus, query, expected):
    server, ids = corpus
    assert found(server, query, ids) == expected, query


def test_search_read_filters_and_counts(corpus):
    server, ids = corpus
    assert found(server, "is:unread", ids) == {"A", "B", "C"}
    assert found(server, "is:read", ids) == set()
    get_json(server, f"/api/v1/message/{ids['B']}")  # opening it reads it
    assert found(server, "is:read", ids) == {"B"}
    assert found(server, "is:unread", ids) == {"A", "C"}
    assert found(server, "invoice is:unread", ids) == {"A"}
    page = get_json(server, search_path("invoice"))
    assert (page["total"], page["unread"], page["messages_count"], page["messages_unread"]) == (3, 2, 2, 1)
    # Newest first in search results too.
    assert [m["ID"] for m in page["messages"]] == [ids["B"], ids["A"]]


JUNK = ['NEAR(a b', '"', '""', '" "', '*', 'a*', '*a', 'subject:', 'from:', 'to:', 'is:', 'has:', ':', ':::',
        'AND OR', 'a AND', 'OR', 'NOT', 'NOT a', 'a NOT', '(', ')', '(a OR b', '{subject}: x', '{subject',
        'subject:"', 'from:"x', 'col:"', "'", "''", '\\', '^a', '-a', '+a', 'a"b', '"a" "b', 'NEAR("a" "b", 2)',
        'x:y:z', 'subject:subject:', '%', '\x01\x02', '\t', 'é' * 200, 'a' * 5000, '\ufffd', '"\x00"', 'a\x00b',
        'is:read OR 1=1', "'; DROP TABLE messages; --", 'messages_fts:a', 'rank:1', 'rowid:1', '*:*', '"*"']


def test_search_junk_is_never_a_500(corpus):
    server, ids = corpus
    for q in JUNK:
        r = request(server, "GET", search_path(q))
        assert r.status in (200, 400), (q, r.status, r.body[:300])
        j = r.json()
        if r.status == 400:
            assert set(j) == {"Error"}, (q, j)
        else:
            assert set(j) == LIST_KEYS, (q, j)
    # Octets that are not UTF-8.
    for raw in ("%ff%fe", "%c3", "%ed%a0%80", "%00"):
        r = request(server, "GET", f"/api/v1/search?query={raw}")
        assert r.status in (200, 400), (raw, r.status, r.body[:300])
        r.json()
    assert server.running()
    assert len(messages(server)) == 3
    assert found(server, "zurich", ids) == {"A"}


@pytest.mark.parametrize("target", ["/api/v1/search", "/api/v1/search?query=", "/api/v1/search?query=%20%20",
                                    "/api/v1/search?query=+", "/api/v1/search?q=invoice"])
def test_empty_search_is_400(corpus, target):
    server, _ = corpus
    assert_error(request(server, "GET", target), 400, target)
    assert_error(request(server, "DELETE", target), 400, target)
    assert len(messages(server)) == 3


def test_delete_search_deletes_only_the_matches(server):
    ids = send(server, simple("obsolete build 1"), simple("keep me", "the good one"),
               simple("Obsolete build 2"))
    wait_listed(server, ids)
    r = request(server, "DELETE", search_path("obsolete"))
    assert r.status == 200, r
    assert [m["ID"] for m in messages(server)] == [ids[1]]
    assert [p.name for p in server.new_files()] == [ids[1]]
    for gone in (ids[0], ids[2]):
        assert not stored_path(server, gone).exists()
        assert_error(request(server, "GET", f"/api/v1/message/{gone}"), 404)
    # A search that matches nothing deletes nothing.
    assert request(server, "DELETE", search_path("nomatchatall")).status == 200
    assert [m["ID"] for m in messages(server)] == [ids[1]]
    assert stored_path(server, ids[1]).exists()
    assert request(server, "POST", search_path("keep")).status == 405


# ---- marking read, deleting ---------------------------------------------------------------------

def read_flags(server: Server) -> dict[str, bool]:
    return {m["ID"]: m["Read"] for m in messages(server)}


def test_put_read_flags(server):
    ids = send(server, simple("r1"), simple("r2"), simple("r3"))
    wait_listed(server, ids)

    def put(body) -> Response:
        return request(server, "PUT", "/api/v1/messages", json.dumps(body), {"Content-Type": "application/json"})

    r = put({"IDs": [ids[0]], "Read": True})
    assert r.status == 200, r
    assert read_flags(server) == {ids[0]: True, ids[1]: False, ids[2]: False}
    assert get_json(server, "/api/v1/messages")["unread"] == 2
    assert put({"Read": True}).status == 200  # no IDs: every message
    assert read_flags(server) == dict.fromkeys(ids, True)
    assert get_json(server, "/api/v1/messages")["unread"] == 0
    assert put({"IDs": [ids[1]], "Read": False}).status == 200
    assert read_flags(server) == {ids[0]: True, ids[1]: False, ids[2]: True}
    assert put({"IDs": [], "Read": False}).status == 200
    assert read_flags(server) == dict.fromkeys(ids, False)
    assert put({"IDs": [ids[0], ids[2]], "Read": True}).status == 200
    assert read_flags(server) == {ids[0]: True, ids[1]: False, ids[2]: True}
    # Unknown IDs change nothing.
    assert put({"IDs": ["no-such-id"], "Read": False}).status == 200
    assert read_flags(server) == {ids[0]: True, ids[1]: False, ids[2]: True}


@pytest.mark.parametrize("body", [b"", b"{", b"{bad json", b"[]", b"null", b"42", b'"IDs"',
                                  b'{"IDs": "x", "Read": true}', b'{"IDs": {"a": 1}, "Read": true}',
                                  b'{"IDs": [1, 2], "Read": true}', b'{"IDs": [null], "Read": true}',
                                  b'{"IDs": [["x"]], "Read": true}'])
def test_put_bad_body_is_400(server, body):
    ids = send(server, simple("stays unread"))
    wait_listed(server, ids)
    assert_error(request(server, "PUT", "/api/v1/messages", body), 400, body)
    assert read_flags(server) == {ids[0]: False}


@pytest.mark.parametrize("body", [b'{"Read": "yes"}', b'{"Read": 1}', b'{"IDs": [], "Read": null}',
                                  b'{"IDs": [], "Read": [true]}'])
def test_put_read_must_be_a_boolean(server, body):
    """docs/web.md: a bad parameter is a 400 (not a 500), and nothing changes."""
    ids = send(server, simple("stays unread"))
    wait_listed(server, ids)
    assert_error(request(server, "PUT", "/api/v1/messages", body), 400, body)
    assert read_flags(server) == {ids[0]: False}


def test_delete_messages(server):
    ids = send(server, simple("d1"), simple("d2"), simple("d3"))
    wait_listed(server, ids)
    r = request(server, "DELETE", "/api/v1/messages", json.dumps({"IDs": [ids[1]]}))
    assert r.status == 200, r
    assert [m["ID"] for m in messages(server)] == [ids[2], ids[0]]
    assert not stored_path(server, ids[1]).exists()
    assert sorted(p.name for p in server.new_files()) == sorted([ids[0], ids[2]])
    assert_error(request(server, "GET", f"/api/v1/message/{ids[1]}"), 404)
    assert_error(request(server, "GET", f"/api/v1/message/{ids[1]}/raw"), 404)
    # Unknown IDs: nothing happens.
    assert request(server, "DELETE", "/api/v1/messages", b'{"IDs": ["no-such-id", "..%2f.."]}').status == 200
    assert len(messages(server)) == 2 and len(server.new_files()) == 2
    # No body: every message.
    r = request(server, "DELETE", "/api/v1/messages")
    assert r.status == 200, r
    page = get_json(server, "/api/v1/messages")
    assert (page["total"], page["messages"]) == (0, [])
    assert server.new_files() == []


@pytest.mark.parametrize("body", [b"{", b'{"IDs": ', b"{bad json", b"[]", b"null", b"42", b" ", b'"x"',
                                  b'{"IDs": "x"}', b'{"IDs": 7}', b'{"IDs": {"a": 1}}', b'{"IDs": [1]}',
                                  b'{"IDs": [null]}'])
def test_delete_with_bad_body_deletes_nothing(server, body):
    ids = send(server, simple("k1"), simple("k2"))
    wait_listed(server, ids)
    assert_error(request(server, "DELETE", "/api/v1/messages", body), 400, body)
    assert len(messages(server)) == 2
    assert sorted(p.name for p in server.new_files()) == sorted(ids)


def test_delete_empty_ids_or_object_deletes_all(server):
    """As in Mailpit: no IDs (or an empty list) means every message."""
    ids = send(server, simple("e1"), simple("e2"))
    wait_listed(server, ids)
    assert request(server, "DELETE", "/api/v1/messages", b'{"IDs": []}').status == 200
    assert messages(server) == [] and server.new_files() == []
    ids = send(server, simple("e3"))
    wait_listed(server, ids)
    assert request(server, "DELETE", "/api/v1/messages", b"{}").status == 200
    assert messages(server) == [] and server.new_files() == []


def test_undecodable_octets_stay_valid_json(server):
    """Raw 8-bit header and body octets that are not UTF-8: every view is still valid UTF-8 JSON."""
    raw = (b"From: J\xf6rg \xff <jorg@example.com>\r\nTo: bob@example.com\r\nSubject: caf\xe9 \xc3\x28 ok\r\n"
           b"X-Bin: a\x01b\x7fc\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nbody \xe9\xff\xfe text\r\n")
    [msg_id] = send(server, raw)
    [m] = wait_listed(server, [msg_id])
    assert m["From"]["Address"] == "jorg@example.com" and "ok" in m["Subject"]
    for path in (f"/api/v1/message/{msg_id}", f"/api/v1/message/{msg_id}/headers", search_path("jorg")):
        r = request(server, "GET", path)
        assert r.status == 200, (path, r.status)
        r.body.decode("utf-8")  # strict
        r.json()
    r = request(server, "GET", f"/view/{msg_id}.html")
    assert r.status == 200
    assert request(server, "GET", f"/api/v1/message/{msg_id}/raw").body == stored_path(server, msg_id).read_bytes()


# ---- live events --------------------------------------------------------------------------------

class EventStream:
    """GET /api/events on a raw socket; the stream is read as it comes, with deadlines."""

    def __init__(self, server: Server, authorization: str | None = None):
        self.sock = socket.create_connection(server.http, timeout=DEADLINE)
        req = "GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
        if authorization:
            req += f"Authorization: {authorization}\r\n"
        self.sock.sendall((req + "\r\n").encode("ascii"))
        self.buf = b""
        self.events: list[dict] = []
        head = self._read_until(b"\r\n\r\n", time.monotonic() + DEADLINE)
        assert head is not None, "no response head"
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()

    def close(self) -> None:
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _read_until(self, sep: bytes, deadline: float) -> bytes | None:
        while sep not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except (socket.timeout, TimeoutError):
                return None
            if not chunk:
                raise EOFError(f"the event stream closed; events so far: {self.events}")
            self.buf += chunk
        item, self.buf = self.buf.split(sep, 1)
        return item

    def block(self, timeout: float = DEADLINE) -> str | None:
        """The next block of lines (up to a blank line), or None after `timeout`."""
        b = self._read_until(b"\n\n", time.monotonic() + timeout)
        return None if b is None else b.decode("utf-8")

    def next_event(self, match=lambda e: True, timeout: float = DEADLINE) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            b = self._read_until(b"\n\n", deadline)
            if b is None:
                raise AssertionError(f"no matching event within {timeout} s; seen: {self.events}")
            for line in b.decode("utf-8").split("\n"):
                if line.startswith("data: "):
                    event = json.loads(line[6:])
                    assert set(event) == {"Type", "Data"}, event
                    self.events.append(event)
                    if match(event):
                        return event


def of_type(kind: str, **data):
    def match(e):
        return e["Type"] == kind and all(e["Data"].get(k) == v for k, v in data.items())
    return match


def test_live_events(server):
    with EventStream(server) as events:
        assert events.status == 200
        assert events.headers["content-type"].startswith("text/event-stream")
        assert events.block().startswith("retry:")  # subscribed from here on
        metrics_text = request(server, "GET", "/metrics").body.decode()
        assert "postern_http_event_clients 1\n" in metrics_text

        [msg_id] = send(server, simple("Live one", "arrives while the page listens"))
        new = events.next_event(of_type("new"))
        d = new["Data"]
        assert set(d) == SUMMARY_KEYS, d.keys()
        assert (d["ID"], d["Subject"], d["Read"]) == (msg_id, "Live one", False)
        assert d["From"] == {"Name": "Ann", "Address": "ann@shop.example"}
        assert d["Size"] == stored_path(server, msg_id).stat().st_size
        assert events.next_event(of_type("stats"))["Data"] == {"Total": 1, "Unread": 1}

        get_json(server, f"/api/v1/message/{msg_id}")  # reading it is an update
        upd = events.next_event(of_type("update"))
        assert upd["Data"] == {"IDs": [msg_id], "Read": True}
        assert events.next_event(of_type("stats"))["Data"] == {"Total": 1, "Unread": 0}

        assert request(server, "PUT", "/api/v1/messages", b'{"Read": false}').status == 200
        assert events.next_event(of_type("update"))["Data"] == {"IDs": [], "Read": False}
        assert events.next_event(of_type("stats"))["Data"] == {"Total": 1, "Unread": 1}

        r = request(server, "DELETE", "/api/v1/messages", json.dumps({"IDs": [msg_id]}))
        assert r.status == 200
        assert events.next_event(of_type("delete"))["Data"] == {"IDs": [msg_id]}
        assert events.next_event(of_type("stats"))["Data"] == {"Total": 0, "Unread": 0}

        ids = send(server, simple("two"), simple("three"))
        for i in ids:
            events.next_event(lambda e, i=i: e["Type"] == "new" and e["Data"]["ID"] == i)
        assert request(server, "DELETE", "/api/v1/messages").status == 200
        t = events.next_event(lambda e: e["Type"] == "truncate")
        assert t["Data"] is None
        assert events.next_event(of_type("stats"))["Data"] == {"Total": 0, "Unread": 0}


def test_events_reach_every_listener(server):
    with EventStream(server) as a, EventStream(server) as b:
        assert a.block().startswith("retry:") and b.block().startswith("retry:")
        [msg_id] = send(server, simple("For both"))
        for s in (a, b):
            assert s.next_event(of_type("new"))["Data"]["ID"] == msg_id


# ---- metrics ------------------------------------------------------------------------------------

SAMPLE_RE = re.compile(r'\A([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)\Z')
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\.)*)"')


def parse_metrics(text: str) -> dict[tuple, float]:
    """Checks the Prometheus text format; returns {(name, frozenset(labels)): value}."""
    assert text.endswith("\n")
    helps, types, samples = {}, {}, {}
    for line in text.split("\n")[:-1]:
        assert line == line.strip() and line, repr(line)
        if line.startswith("# HELP "):
            name, _, doc = line[7:].partition(" ")
            assert name not in helps and doc, line
            helps[name] = doc
        elif line.startswith("# TYPE "):
            name, _, kind = line[7:].partition(" ")
            assert name not in types and kind in ("counter", "gauge", "histogram", "summary", "untyped"), line
            types[name] = kind
        elif line.startswith("#"):
            continue
        else:
            m = SAMPLE_RE.match(line)
            assert m, f"not a sample line: {line!r}"
            name, labels, value = m.groups()
            assert name in types, f"sample before its TYPE: {line!r}"
            labels = labels or ""
            pairs = LABEL_RE.findall(labels)
            assert ",".join(f'{k}="{v}"' for k, v in pairs) == labels, f"bad labels: {line!r}"
            key = (name, frozenset(pairs))
            assert key not in samples, f"duplicate sample {line!r}"
            samples[key] = float(value)
            if types[name] == "counter":
                assert samples[key] >= 0, line
    assert set(helps) == set(types), set(helps) ^ set(types)
    return samples


def metric(samples: dict, name: str, **labels) -> float:
    key = (name, frozenset(labels.items()))
    assert key in samples, (key, sorted(k[0] for k in samples))
    return samples[key]


def test_metrics(make_server):
    server = make_server(extra_args=["--local-domain", "example.org"])
    raws = [simple("metric one", "x" * 100, to="x@example.org"), simple("metric two", "y" * 300, to="z@example.org")]
    ids = []
    with smtplib.SMTP(*server.address, timeout=30) as s:
        s.ehlo()
        assert s.mail("a@far.example")[0] == 250
        assert s.rcpt("x@example.org")[0] == 250
        code, text = s.rcpt("y@other.example")
        assert (code, text[:5]) == (554, b"5.7.1"), (code, text)
        code, text = s.data(raws[0])
        assert code == 250
        ids.append(queued_id(text.decode()))
        assert s.mail("a@far.example")[0] == 250 and s.rcpt("z@example.org")[0] == 250
        code, text = s.data(raws[1])
        assert code == 250
        ids.append(queued_id(text.decode()))
    files = [file_for_id(server, i) for i in ids]
    wait_listed(server, [f.name for f in files])
    r = request(server, "GET", "/metrics")
    assert r.status == 200
    assert r.header("Content-Type").startswith("text/plain; version=0.0.4")
    samples = parse_metrics(r.body.decode("utf-8"))
    assert metric(samples, "postern_smtp_messages_accepted_total") == 2
    assert metric(samples, "postern_smtp_rejections_total", stage="rcpt", code="554", enhanced="5.7.1") == 1
    assert metric(samples, "postern_smtp_received_bytes_total") == sum(len(body_of(f.read_bytes())) for f in files)
    assert metric(samples, "postern_smtp_connections_total") == 1
    assert metric(samples, "postern_store_messages") == 2
    assert metric(samples, "postern_store_unread_messages") == 2
    assert metric(samples, "postern_store_bytes") == sum(f.stat().st_size for f in files)
    assert metric(samples, "postern_index_backlog") == 0
    assert metric(samples, "postern_http_requests_total") >= 1
    # Reading one changes the store gauges.
    get_json(server, f"/api/v1/message/{files[0].name}")
    samples = parse_metrics(request(server, "GET", "/metrics").body.decode("utf-8"))
    assert metric(samples, "postern_store_unread_messages") == 1


# ---- errors, limits, keep-alive -----------------------------------------------------------------

def test_unknown_paths_are_404_json(server):
    for path in ["/nope", "/api", "/api/v1", "/api/v1/", "/api/v1/nope", "/api/v2/messages", "/api/v1/messages/x",
                 "/api/v1/message", "/api/v1/message/", "/view/", "/view/.html", "/assets/", "/assets/nope.js",
                 "/metrics/x", "/api/events/x", "/index.htm", "/%2e%2e/%2e%2e/etc/passwd", "/view/x"]:
        assert_error(request(server, "GET", path), 404, path)


def test_wrong_methods_are_405_json(server):
    [msg_id] = send(server, simple("m"))
    wait_listed(server, [msg_id])
    for method, path in [("POST", "/api/v1/messages"), ("PATCH", "/api/v1/messages"),
                         ("POST", "/api/v1/search?query=m"), ("PUT", "/api/v1/search?query=m"),
                         ("POST", f"/api/v1/message/{msg_id}"), ("DELETE", f"/api/v1/message/{msg_id}"),
                         ("PUT", f"/api/v1/message/{msg_id}/raw"), ("POST", "/api/v1/message/latest"),
                         ("POST", f"/view/{msg_id}.html"), ("POST", "/"), ("DELETE", "/assets/app.js")]:
        assert_error(request(server, method, path, b"{}"), 405, f"{method} {path}")
    assert len(messages(server)) == 1


def test_wrong_methods_on_info_metrics_events_are_405(server):
    """docs/web.md: a wrong method is a 405 on every path the server has, not a 404."""
    for method, path in [("POST", "/api/v1/info"), ("DELETE", "/api/v1/info"), ("POST", "/metrics"),
                         ("PUT", "/metrics"), ("POST", "/api/events"), ("DELETE", "/api/events")]:
        assert_error(request(server, method, path, b"{}"), 405, f"{method} {path}")


def test_request_limits(server):
    [msg_id] = send(server, simple("survivor"))
    wait_listed(server, [msg_id])
    # A header section over 16 KiB.
    out = raw_http(server, b"GET /api/v1/messages HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (16 * 1024 + 512) + b"\r\n\r\n")
    assert status_of(out) == 431, out[:300]
    assert "Error" in body_json_of(out)
    # A body over 1 MiB, by its Content-Length: refused before it is read; nothing deleted.
    out = raw_http(server, b"DELETE /api/v1/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                           b"Content-Length: 1048577\r\n\r\n{\"IDs\": [")
    assert status_of(out) == 413, out[:300]
    assert "Error" in body_json_of(out)
    # The same, sent in full through http.client (a client that sends before it reads).
    try:
        r = request(server, "DELETE", "/api/v1/messages", b'{"IDs": []' + b" " * (1024 * 1024) + b"}")
        assert_error(r, 413)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server answered and closed while the body was still being sent: allowed
    # Exactly 1 MiB is allowed.
    body = b'{"Read": true, "IDs": [], "pad": "'
    body += b"p" * (1024 * 1024 - len(body) - 2) + b'"}'
    assert len(body) == 1024 * 1024
    r = request(server, "PUT", "/api/v1/messages", body)
    assert r.status == 200, (r.status, r.body[:200])
    # Garbage instead of a request line.
    for garbage in (b"GARBAGE\r\n\r\n", b"GET\r\n\r\n", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
                    b"GET / HTTP/9.9 extra\r\n\r\n", b"GET /api/v1/info HTTP/1.1\r\nNo colon here\r\n\r\n"):
        out = raw_http(server, garbage)
        assert status_of(out) == 400, (garbage, out[:300])
        assert "Error" in body_json_of(out)
    # The server still answers, and the message is still there.
    assert server.running()
    assert [m["ID"] for m in messages(server)] == [msg_id]
    assert stored_path(server, msg_id).exists()


def test_keep_alive(server):
    conn = http.client.HTTPConnection(*server.http, timeout=10)
    try:
        conn.request("GET", "/api/v1/messages")
        r1 = conn.getresponse()
        assert r1.status == 200 and json.loads(r1.read())["total"] == 0
        assert not r1.will_close
        sock = conn.sock
        assert sock is not None
        conn.request("GET", "/api/v1/info")
        r2 = conn.getresponse()
        assert r2.status == 200 and json.loads(r2.read())["Messages"] == 0
        assert conn.sock is sock  # the same connection, not a new one
        conn.request("GET", "/api/v1/nope")  # an error keeps the connection too
        r3 = conn.getresponse()
        assert r3.status == 404 and json.loads(r3.read())["Error"]
        conn.request("GET", "/metrics")
        r4 = conn.getresponse()
        assert r4.status == 200 and r4.read().startswith(b"# HELP")
        assert conn.sock is sock
    finally:
        conn.close()
    # Two pipelined requests in one write: two answers, in order.
    out = raw_http(server, b"GET /api/v1/info HTTP/1.1\r\nHost: x\r\n\r\n"
                           b"GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert re.findall(rb"HTTP/1\.1 (\d{3}) ", out) == [b"200", b"404"], out


# ---- basic auth ---------------------------------------------------------------------------------

def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def guarded(make_server, tmp_path):
    passwd = tmp_path / "web.passwd"
    passwd.write_text("# the web inbox's users\nadmin:{PLAIN}s3cret pass\nother:{PLAIN}x\n")
    return make_server(config_text=f'[web]\nauth_file = "{passwd}"\n')


def get_with(server: Server, path: str, authorization: str | None) -> Response:
    headers = {"Authorization": authorization} if authorization is not None else {}
    return request(server, "GET", path, headers=headers)


AUTH_PATHS = ["/api/v1/messages", "/", "/metrics", "/api/v1/message/latest", "/assets/app.js", "/api/v1/info"]


def test_basic_auth(guarded):
    server = guarded
    wrong = [None, basic("admin", "wrong"), basic("admin", "s3cret"), basic("nobody", "s3cret pass"),
             basic("other", "s3cret pass"), "Basic !!!notbase64", "Basic " + base64.b64encode(b"nocolon").decode(),
             "Bearer s3cret", basic("admin", "s3cret pass").lower(), "Basic"]
    jobs = [(p, a) for p in AUTH_PATHS for a in wrong]
    # Each refusal is delayed about a second: ask all at once.
    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda job: get_with(server, *job), jobs))
    for (path, auth), r in zip(jobs, results):
        assert_error(r, 401, f"{path} {auth}")
        challenge = r.header("WWW-Authenticate") or ""
        assert challenge.startswith('Basic realm="postern"'), (path, challenge)
    good = basic("admin", "s3cret pass")
    assert get_with(server, "/api/v1/messages", good).json()["total"] == 0
    r = get_with(server, "/", good)
    assert r.status == 200 and r.header("Content-Type").startswith("text/html")
    r = get_with(server, "/metrics", good)
    assert r.status == 200 and r.body.startswith(b"# HELP")
    [msg_id] = send(server, simple("behind auth"))
    wait_until(lambda: get_with(server, "/api/v1/messages", good).json()["total"] == 1, what="indexed")
    r = get_with(server, f"/api/v1/message/{msg_id}/raw", good)
    assert r.status == 200 and r.body == stored_path(server, msg_id).read_bytes()
    assert get_with(server, f"/api/v1/message/{msg_id}/raw", None).status == 401
    # Refusals are counted.
    samples = parse_metrics(get_with(server, "/metrics", good).body.decode())
    assert metric(samples, "postern_http_auth_failures_total") >= len(jobs) + 1


def test_basic_auth_on_events(guarded):
    server = guarded
    for auth in (None, basic("admin", "nope")):
        with EventStream(server, auth) as s:
            assert s.status == 401, s.headers
            assert s.headers.get("www-authenticate", "").startswith('Basic realm="postern"')
    with EventStream(server, basic("admin", "s3cret pass")) as s:
        assert s.status == 200 and s.headers["content-type"].startswith("text/event-stream")
        assert s.block().startswith("retry:")
        [msg_id] = send(server, simple("seen through auth"))
        assert s.next_event(of_type("new"))["Data"]["ID"] == msg_id


def test_changed_password_takes_effect(guarded, tmp_path):
    """The auth file is re-read when it changes: credentials it no longer holds are refused, also
    on a client that was let in before, once its verification (cached 5 s, docs/web.md) expires."""
    server = guarded
    old, new = basic("admin", "s3cret pass"), basic("admin", "changed")
    assert get_with(server, "/api/v1/messages", old).status == 200
    (tmp_path / "web.passwd").write_text("admin:{PLAIN}changed\n")
    assert get_with(server, "/api/v1/messages", new).status == 200
    time.sleep(5.5)
    r = get_with(server, "/api/v1/messages", old)
    assert_error(r, 401, "the old password")


# ---- retention, the index, the command line -----------------------------------------------------

def test_retention_keeps_the_newest(make_server):
    server = make_server(config_text="[web]\nmax_messages = 3\n")
    ids = send(server, *[simple(f"keep{i}") for i in range(5)])

    def settled():
        page = get_json(server, "/api/v1/messages")
        return page if subjects(page) == ["keep4", "keep3", "keep2"] else None

    page = wait_until(settled, what="the 3 newest listed")
    assert (page["total"], page["messages_count"]) == (3, 3)
    assert [m["ID"] for m in page["messages"]] == ids[:1:-1]
    assert sorted(p.name for p in server.new_files()) == sorted(ids[2:])
    for gone in ids[:2]:
        assert not stored_path(server, gone).exists()
        assert_error(request(server, "GET", f"/api/v1/message/{gone}"), 404)
    # A sixth pushes out the oldest of the three.
    [six] = send(server, simple("keep5"))
    wait_until(lambda: subjects(get_json(server, "/api/v1/messages")) == ["keep5", "keep4", "keep3"],
               what="keep5 in, keep2 out")
    assert sorted(p.name for p in server.new_files()) == sorted(ids[3:] + [six])


def test_retention_deletes_are_events(make_server):
    server = make_server(config_text="[web]\nmax_messages = 1\n")
    [first] = send(server, simple("old"))
    wait_listed(server, [first])
    with EventStream(server) as events:
        assert events.block().startswith("retry:")
        [second] = send(server, simple("new"))
        assert events.next_event(of_type("new"))["Data"]["ID"] == second
        assert events.next_event(of_type("delete"))["Data"] == {"IDs": [first]}
    assert [m["ID"] for m in messages(server)] == [second]


@pytest.mark.parametrize("how", ["sigterm", "kill9"])
def test_index_rebuilt_when_missing(make_server, how):
    server = make_server()
    ids = send(server, simple("before one", "alpha"), simple("before two", "beta"), simple("before three", "gamma"))
    before = wait_listed(server, ids)
    if how == "sigterm":
        assert server.stop() == 0, server.log_text()
    else:
        server.kill9()
    index = server.data_dir / "index.sqlite"
    assert index.exists()
    index.unlink()  # the -wal and -shm files, if any, stay
    again = make_server(data_dir=server.data_dir)
    assert re.search(r"index\.rebuild\b.*\bmessages=3\b", again.log_text()), again.log_text()
    after = messages(again)
    assert sorted(m["ID"] for m in after) == sorted(ids)
    strip = ("Read",)
    assert ({m["ID"]: {k: v for k, v in m.items() if k not in strip} for m in after}
            == {m["ID"]: {k: v for k, v in m.items() if k not in strip} for m in before})
    assert {m["Subject"] for m in get_json(again, search_path("beta"))["messages"]} == {"before two"}
    # New mail is indexed as before.
    [new] = send(again, simple("after"))
    wait_listed(again, [new])
    assert messages(again)[0]["ID"] == new


def test_rebuilt_index_keeps_newest_first(make_server):
    """Messages that arrived within the same second keep their order through a rebuild (the list,
    "latest" and retention all rely on it)."""
    server = make_server()
    ids = send(server, *[simple(f"order{i}") for i in range(12)])
    assert [m["ID"] for m in wait_listed(server, ids)] == ids[::-1]
    assert server.stop() == 0, server.log_text()
    (server.data_dir / "index.sqlite").unlink()
    again = make_server(data_dir=server.data_dir)
    assert [m["Subject"] for m in messages(again)] == [f"order{i}" for i in range(11, -1, -1)]
    assert get_json(again, "/api/v1/message/latest")["ID"] == ids[-1]


def test_http_off(make_server):
    server = make_server(extra_args=["--http", "off"])
    assert server.http is None
    assert "http.listen" not in server.log_text()
    [msg_id] = send(server, simple("no web"))
    assert stored_path(server, msg_id).read_bytes().startswith(b"Return-Path: <bounce@shop.example>\r\n")


def test_http_port_in_use(tmp_path):
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    port = blocker.getsockname()[1]
    try:
        proc = subprocess.run([postern_bin(), "serve", "--data", str(tmp_path / "d"), "--smtp", "127.0.0.1:0",
                               "--http", f"127.0.0.1:{port}"], stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=30)
    finally:
        blocker.close()
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 1, (proc.returncode, err)
    about = [ln for ln in err.splitlines() if str(port) in ln]
    assert len(about) == 1, err
    assert "in use" in about[0].lower(), err
    assert "server.start" not in err


# ---- SPF, DKIM and DMARC results ------------------------------------------------------------------

AUTH_CONFIG = """
hostname = "mx.postern.test"
[mailauth]
ignore_hosts = []
dmarc = "tag"
timeout = 10
"""

# pass.test: SPF passes from 127.0.0.1, DMARC p=reject; other.test: SPF passes, no DMARC record;
# bank.test: DMARC p=reject; client.example: the HELO name, SPF passes.
AUTH_ZONE = [
    ("TXT", "pass.test", "v=spf1 ip4:127.0.0.1 -all"), ("TXT", "_dmarc.pass.test", "v=DMARC1; p=reject"),
    ("TXT", "other.test", "v=spf1 ip4:127.0.0.1 -all"),
    ("TXT", "bank.test", "v=spf1 -all"), ("TXT", "_dmarc.bank.test", "v=DMARC1; p=reject"),
    ("TXT", "client.example", "v=spf1 ip4:127.0.0.1 -all"),
]

GOOD_AUTH = {"SPF": "pass", "DKIM": "none", "DMARC": "pass", "Aligned": True}
SPOOF_AUTH = {"SPF": "pass", "DKIM": "none", "DMARC": "fail", "Aligned": False}


def found_ids(server: Server, query: str) -> set[str]:
    return {m["ID"] for m in get_json(server, search_path(query, limit=100))["messages"]}


def test_auth_results_in_the_api_and_after_a_rebuild(make_dnsmasq, make_server):
    dns = make_dnsmasq(AUTH_ZONE)
    server = make_server(AUTH_CONFIG, extra_args=["--dns", dns.address])
    [good] = send(server, simple("spf passes", sender="Ann <ann@pass.test>"), sender="a@pass.test")
    # RFC 7489 §3.1: SPF passes for other.test, which is not the From domain: DMARC fails.
    [spoof] = send(server, simple("dmarc fails", sender="Bank <alerts@bank.test>"), sender="a@other.test")
    listed = {m["ID"]: m for m in wait_listed(server, [good, spoof])}
    assert listed[good]["Auth"] == GOOD_AUTH, listed[good]
    assert listed[spoof]["Auth"] == SPOOF_AUTH, listed[spoof]

    full = get_json(server, f"/api/v1/message/{spoof}")
    assert full["Auth"] == SPOOF_AUTH
    verdict = full["Authentication"]
    assert set(verdict) >= {"spf", "helo_spf", "dkim", "dmarc", "aligned", "summary", "summary_case"}, verdict
    assert verdict["spf"]["result"] == "pass" and verdict["spf"]["domain"] == "other.test"
    assert verdict["helo_spf"]["result"] == "pass"
    assert verdict["dkim"] == []
    assert (verdict["dmarc"]["result"], verdict["dmarc"]["from_domain"], verdict["dmarc"]["policy"]) == \
        ("fail", "bank.test", "reject")
    assert verdict["aligned"] is False
    assert "bank.test" in verdict["summary"] and "other.test" in verdict["summary"], verdict["summary"]
    good_verdict = get_json(server, f"/api/v1/message/{good}")["Authentication"]
    assert good_verdict["dmarc"]["result"] == "pass" and good_verdict["aligned"] is True

    # The search filters (docs/web.md).
    assert found_ids(server, "dmarc:fail") == {spoof}
    assert found_ids(server, "DMARC:PASS") == {good}
    assert found_ids(server, "spf:pass") == {good, spoof}
    assert found_ids(server, "dkim:none") == {good, spoof}
    assert found_ids(server, "spf:fail") == set()
    assert found_ids(server, "is:aligned") == {good}
    assert found_ids(server, "is:unaligned") == {spoof}
    assert found_ids(server, "has:auth dmarc:fail subject:dmarc") == {spoof}
    assert get_json(server, search_path("dmarc:fail"))["messages_count"] == 1

    # The index made again from the Maildir reads our Authentication-Results field back: the
    # same badges, the verdict without its summary sentence.
    assert server.stop() == 0, server.log_text()
    (server.data_dir / "index.sqlite").unlink()
    again = make_server(AUTH_CONFIG, data_dir=server.data_dir, extra_args=["--dns", dns.address])
    rebuilt = {m["ID"]: m["Auth"] for m in messages(again)}
    assert rebuilt == {good: GOOD_AUTH, spoof: SPOOF_AUTH}
    back = get_json(again, f"/api/v1/message/{spoof}")["Authentication"]
    assert back["rebuilt"] is True and back["summary"] == ""
    assert (back["dmarc"]["result"], back["dmarc"]["from_domain"], back["dmarc"]["policy"]) == ("fail", "bank.test", "reject")
    assert back["spf"]["domain"] == "other.test"
    assert found_ids(again, "is:unaligned") == {spoof}


def test_unchecked_mail_has_null_auth(make_server):
    """With [mailauth] check = false (or from an ignored host) no verdict is made: null, not a
    verdict of "none"."""
    server = make_server("[mailauth]\ncheck = false\nignore_hosts = []\n")
    [msg_id] = send(server, simple("unchecked"))
    [m] = wait_listed(server, [msg_id])
    assert m["Auth"] is None
    full = get_json(server, f"/api/v1/message/{msg_id}")
    assert full["Auth"] is None and full["Authentication"] is None
    assert found_ids(server, "has:auth") == set()
    assert found_ids(server, "spf:none") == set()
