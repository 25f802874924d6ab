#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks an .eml file against a JSON description of what it should contain, reading the message
with Python's email package (email.policy.default), an independent MIME implementation. The
end-to-end tests of `postern send` use it to show that what postern writes is read back as meant.

    check_mime.py MESSAGE.eml EXPECTED.json     exit 0 when everything matches, 1 on a mismatch
    check_mime.py --self-test                   builds messages with Python and checks them

EXPECTED.json holds any of these keys; a key that is absent is not checked:

    "subject":      "decoded subject"
    "from":         "Name <a@b.example>"  (or "a@b.example", or {"name": ..., "address": ...})
    "to", "cc", "reply_to": a list of the same forms, in order
    "no_bcc":       true: the message must not carry a Bcc field
    "message_id":   "id@host" (without angle brackets)
    "headers":      {"X-Name": "decoded value", ...}
    "content_type": "multipart/mixed" (the top-level type)
    "text":         "text body" or null (there must be none); compared with line endings as LF
                    and trailing line breaks removed (a single-part body always ends with one)
    "html":         the same for the HTML body
    "attachments":  {"file name": "sha256 hex" or {"sha256": ..., "content_type": ..., "inline": bool}}
                    every leaf part that is not the text or HTML body must be listed, by its
                    decoded file name; message/rfc822 parts are hashed as Python re-serializes
                    the enclosed message with CRLF line endings
    "strict":       true: no parser defects anywhere (see IGNORED_DEFECTS)

Runs with the standard library only; Debian's /usr/bin/python3 is fine.
"""
from __future__ import annotations

import email
import email.header
import email.policy
import email.utils
import hashlib
import json
import os
import sys
import tempfile
from email.message import EmailMessage

# Python registers a defect when a parameter appears both as name*= (RFC 2231) and as a plain
# name= fallback, although it then uses the RFC 2231 value as RFC 2231 readers should. postern
# writes the fallback on purpose, for readers that know no RFC 2231.
IGNORED_DEFECTS = ("duplicate parameter name; duplicate ignored",)
# RFC 6532 allows UTF-8 in header fields (SMTPUTF8 mail); Python reads them but calls them defects.
UTF8_HEADER_DEFECTS = ("local-part contains non-ASCII characters)", "Non-ASCII characters found in header token")

CRLF_POLICY = email.policy.default.clone(linesep="\r\n")


def norm_text(s: str) -> str:
    return s.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n")


def norm_address(a) -> tuple[str, str]:
    if isinstance(a, dict):
        return (a.get("name", ""), a["address"])
    name, addr = email.utils.parseaddr(a)
    return (name, addr)


def fix_utf8(s: str) -> str:
    """Python reads header octets as ASCII with surrogate escapes; RFC 6532 headers are UTF-8."""
    return s.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def actual_addresses(msg, field: str) -> list[tuple[str, str]]:
    header = msg[field]
    if header is None:
        return []
    return [(fix_utf8(a.display_name), fix_utf8(a.addr_spec)) for a in header.addresses]


def compat32_addresses(legacy, field: str) -> list[tuple[str, str]]:
    """The same through the compat32 API: getaddresses() on the raw value, then decode_header()
    on each name. policy.default (Python 3.11) keeps the white space between two adjacent
    encoded-words in a display name, against RFC 2047 §6.2, so that even a long name Python
    itself wrote does not read back; the older decoder drops it as the RFC says."""
    out = []
    for name, addr in email.utils.getaddresses([str(v) for v in legacy.get_all(field, [])]):
        decoded = str(email.header.make_header(email.header.decode_header(name))) if name else ""
        out.append((fix_utf8(decoded), fix_utf8(addr)))
    return out


def leaves(part):
    """Leaf parts in document order; a message/rfc822 part is a leaf (its content is one attachment)."""
    if part.get_content_maintype() == "multipart":
        for sub in part.get_payload():
            yield from leaves(sub)
    else:
        yield part


def part_bytes(part) -> bytes:
    if part.get_content_type() == "message/rfc822":
        return part.get_payload(0).as_bytes(policy=CRLF_POLICY)
    return part.get_payload(decode=True) or b""


def filename_of(part) -> str | None:
    """Content-Disposition filename, else Content-Type name, read through the header objects of
    policy.default: Message.get_filename() would also strip() the name, Unicode spaces included."""
    for field, param in (("content-disposition", "filename"), ("content-type", "name")):
        header = part.get(field)
        if header is not None and param in header.params:
            return header.params[param]
    return None


def all_defects(msg, utf8_headers: bool) -> list[str]:
    ignored = IGNORED_DEFECTS + (UTF8_HEADER_DEFECTS if utf8_headers else ())
    found = []
    for part in msg.walk():
        for d in part.defects:
            found.append(f"{part.get_content_type()}: {d}")
        for name, value in part.items():
            for d in getattr(value, "defects", ()):
                if str(d) not in ignored:
                    found.append(f"{name}: {d}")
    return found


def utf8_header_section(eml: bytes) -> bool:
    """Whether the top-level header section holds non-ASCII octets that are valid UTF-8."""
    head = eml.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not head.isascii()


class Checker:
    def __init__(self, msg, legacy, expected: dict, utf8_headers: bool):
        self.msg = msg
        self.legacy = legacy  # the same message read with policy.compat32
        self.expected = expected
        self.utf8_headers = utf8_headers
        self.errors: list[str] = []

    def same(self, what: str, got, want) -> None:
        if got != want:
            self.errors.append(f"{what}: got {got!r}, want {want!r}")

    def run(self) -> list[str]:
        e, msg = self.expected, self.msg
        if "subject" in e:
            self.same("subject", fix_utf8(str(msg["subject"] or "")), e["subject"])
        if "from" in e:
            self.addresses("from", "from", e["from"] if isinstance(e["from"], list) else [e["from"]])
        for key, field in (("to", "to"), ("cc", "cc"), ("reply_to", "reply-to")):
            if key in e:
                self.addresses(key, field, e[key])
        if e.get("no_bcc"):
            self.same("Bcc present", msg["bcc"] is not None, False)
        if "message_id" in e:
            self.same("message_id", str(msg["message-id"] or "").strip().strip("<>"), e["message_id"])
        for name, value in e.get("headers", {}).items():
            self.same(f"header {name}", None if msg[name] is None else str(msg[name]), value)
        if "content_type" in e:
            self.same("content_type", msg.get_content_type(), e["content_type"])
        self.check_bodies()
        if e.get("strict"):
            for d in all_defects(msg, self.utf8_headers):
                self.errors.append(f"defect: {d}")
        return self.errors

    def addresses(self, key: str, field: str, want: list) -> None:
        want = [norm_address(a) for a in want]
        got = actual_addresses(self.msg, field)
        if got != want and compat32_addresses(self.legacy, field) == want:
            return  # see compat32_addresses: Python's policy.default phrase decoding
        self.same(key, got, want)

    def check_bodies(self) -> None:
        bodies = {}
        for kind in ("text", "html"):
            part = self.msg.get_body(preferencelist=("plain",) if kind == "text" else ("html",))
            bodies[kind] = part
            if kind in self.expected:
                want = self.expected[kind]
                got = None if part is None else norm_text(part.get_content())
                self.same(kind, got, None if want is None else norm_text(want))
        if "attachments" not in self.expected:
            return
        got = {}
        for part in leaves(self.msg):
            if any(part is b for b in bodies.values()):
                continue
            name = filename_of(part)
            got[name] = {
                "sha256": hashlib.sha256(part_bytes(part)).hexdigest(),
                "content_type": part.get_content_type(),
                "inline": part.get_content_disposition() == "inline",
            }
        want = self.expected["attachments"]
        self.same("attachment names", sorted(map(str, got)), sorted(want))
        for name, spec in want.items():
            if name not in got:
                continue
            spec = {"sha256": spec} if isinstance(spec, str) else spec
            for key, value in spec.items():
                self.same(f"attachment {name!r} {key}", got[name][key], value)


def check(eml: bytes, expected: dict) -> list[str]:
    msg = email.message_from_bytes(eml, policy=email.policy.default)
    legacy = email.message_from_bytes(eml, policy=email.policy.compat32)
    return Checker(msg, legacy, expected, utf8_header_section(eml)).run()


def self_test() -> int:
    msg = EmailMessage()
    msg["From"] = "Jos\u00e9 P\u00e9rez <jose@example.com>"
    msg["To"] = "Ann Smith <ann@example.org>, bob@example.net"
    msg["Subject"] = "Gr\u00fc\u00dfe aus K\u00f6ln"
    msg["Message-ID"] = "<1234@example.com>"
    msg["X-Mailer"] = "self-test"
    msg.set_content("Hello \u00e9t\u00e9\n")
    msg.add_alternative("<p>Hello</p>\n", subtype="html")
    pdf = b"%PDF-1.4\x00\x01\x02"
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename="rapport \u00e9t\u00e9.pdf")
    inner = EmailMessage()
    inner["Subject"] = "inner"
    inner.set_content("inner body\n")
    msg.add_attachment(inner, filename="fwd.eml")
    raw = msg.as_bytes(policy=CRLF_POLICY)
    inner_raw = email.message_from_bytes(raw, policy=email.policy.default)
    inner_bytes = list(leaves(inner_raw))[-1].get_payload(0).as_bytes(policy=CRLF_POLICY)
    expected = {
        "subject": "Gr\u00fc\u00dfe aus K\u00f6ln",
        "from": "Jos\u00e9 P\u00e9rez <jose@example.com>",
        "to": ["Ann Smith <ann@example.org>", {"name": "", "address": "bob@example.net"}],
        "no_bcc": True,
        "message_id": "1234@example.com",
        "headers": {"X-Mailer": "self-test"},
        "content_type": "multipart/mixed",
        "text": "Hello \u00e9t\u00e9\n",
        "html": "<p>Hello</p>",
        "attachments": {
            "rapport \u00e9t\u00e9.pdf": {"sha256": hashlib.sha256(pdf).hexdigest(), "content_type": "application/pdf"},
            "fwd.eml": hashlib.sha256(inner_bytes).hexdigest(),
        },
        "strict": True,
    }
    failures = 0
    errors = check(raw, expected)
    if errors:
        print("self-test: a matching description was refused:", *errors, sep="\n  ")
        failures += 1
    wrong = [
        ("subject", "Gruesse"),
        ("text", "Hello"),
        ("html", None),
        ("to", ["ann@example.org"]),
        ("attachments", {"rapport \u00e9t\u00e9.pdf": "00" * 32, "fwd.eml": expected["attachments"]["fwd.eml"]}),
        ("attachments", {"rapport \u00e9t\u00e9.pdf": expected["attachments"]["rapport \u00e9t\u00e9.pdf"]}),
        ("headers", {"X-Mailer": "other"}),
    ]
    for key, value in wrong:
        if not check(raw, {**expected, key: value}):
            print(f"self-test: a wrong {key!r} was accepted")
            failures += 1
    # The same through the command line, as the end-to-end tests call it.
    with tempfile.TemporaryDirectory() as tmp:
        eml_path, json_path = os.path.join(tmp, "m.eml"), os.path.join(tmp, "m.json")
        with open(eml_path, "wb") as f:
            f.write(raw)
        with open(json_path, "w", encoding="utf-8") as f:
            json.dump(expected, f)
        if main([eml_path, json_path]) != 0:
            print("self-test: the command line refused a matching description")
            failures += 1
    print("self-test passed" if failures == 0 else f"self-test: {failures} failure(s)")
    return 0 if failures == 0 else 1


def main(argv: list[str]) -> int:
    if argv == ["--self-test"]:
        return self_test()
    if len(argv) != 2:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    try:
        with open(argv[0], "rb") as f:
            eml = f.read()
        with open(argv[1], encoding="utf-8") as f:
            expected = json.load(f)
    except (OSError, ValueError) as exc:
        print(f"check_mime: {exc}", file=sys.stderr)
        return 2
    errors = check(eml, expected)
    for error in errors:
        print(f"{argv[0]}: {error}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
