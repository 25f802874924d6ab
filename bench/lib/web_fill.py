#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Fills a mail server with varied messages over SMTP, for bench/web_bench.sh.

  web_fill.py --port PORT --first I --count N [--conns 8] [--deadline SECONDS]
  web_fill.py --show I        # prints message I, as it would be sent

Message I is the same octets whatever the server and whatever the order of sending: it is made
from I alone (random.Random(I)), so two servers filled with the same range hold the same mail.
Words come from a fixed vocabulary of made-up words; two marker words are placed by I only, so a
search for them matches an exact, known number of messages:

  "quokka"   in the body of every message with I % 100 == 37        (1 %)
  "invoice"  in the subject (I % 4 == 0) or the body (I % 4 == 2)    (50 %)

No other word of the messages contains either marker, as a word, a prefix or a substring (MailDev
searches by substring, postern by word with the last word as a prefix). About 10 % of the messages
are multipart/alternative (text and HTML), about 4 % carry a small attachment.

The client uses asyncio, CONNS connections at once, many messages per connection, and SMTP
PIPELINING (RFC 2920: MAIL, RCPT and DATA in one write) when the server offers it. Every reply is
checked; a message counts only once its final 250 has arrived. Prints one JSON line:
{"sent", "seconds", "per_s", "errors", "first", "count", "conns", "pipelining"}.
"""
import argparse
import asyncio
import base64
import itertools
import json
import random
import sys
import time

RARE, COMMON = "quokka", "invoice"
BASE_DATE = 1_767_225_600  # 2026-01-01T00:00:00Z; message I is dated BASE_DATE + 30 * I

_SYLLABLES = ("ba be bi bo bu da de di do du fa fe fi fo fu ga ge gi go gu ha he hi ho hu "
              "ja je jo ju la le li lo lu ma me mi mo mu na ne ni no nu pa pe pi po pu ra re "
              "ri ro ru sa se si so su ta te ti to tu va ve vo wa we wi ya yo za ze zo "
              "bar dor fen gal hel kir lom mar nor pel ros sen tor ven wil").split()


def _vocabulary():
    rng = random.Random(20261123)
    words = set()
    while len(words) < 1500:
        w = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))
        if RARE[:4] in w or COMMON[:4] in w or w.startswith(RARE[:3]) or w.startswith(COMMON[:3]):
            continue
        words.add(w)
    words = sorted(words)
    rng.shuffle(words)
    return words


VOCAB = _vocabulary()
# Zipf-like weights (rank r has weight 1/r): a few common words, a long tail, as in real text.
CUM_WEIGHTS = list(itertools.accumulate(1.0 / (r + 1) for r in range(len(VOCAB))))
FIRST_NAMES = ["Ann", "Bob", "Chloé", "David", "Emma", "Farid", "Greta", "Hiro", "Inès", "Jonas",
               "Kofi", "Lena", "Mateo", "Nora", "Oskar", "Priya", "Quentin", "Rosa", "Sven", "Tamar"]
LAST_NAMES = ["Abbott", "Berg", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad",
              "Ito", "Jensen", "Kowalski", "Larsen", "Moreau", "Nakamura", "Okafor", "Petrov"]
DOMAINS = ["shop.example", "billing.example.com", "news.example.org", "app.example.net",
           "team.example", "mail.example.io", "crm.example.com", "alerts.example.org"]


def _person(n):
    first = FIRST_NAMES[n % len(FIRST_NAMES)]
    last = LAST_NAMES[(n // len(FIRST_NAMES)) % len(LAST_NAMES)]
    dom = DOMAINS[(n * 7) % len(DOMAINS)]
    addr = f"{first.lower().replace('é', 'e').replace('è', 'e')}.{last.lower()}@{dom}"
    return first + " " + last, addr


def _words(rng, n):
    return rng.choices(VOCAB, cum_weights=CUM_WEIGHTS, k=n)


def _date(ts):
    return time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(ts))


def _lines(words, per_line=11):
    return [" ".join(words[k:k + per_line]) for k in range(0, len(words), per_line)]


def message(i):
    """(envelope sender, [recipients], octets with CRLF line ends, no dot-stuffing) of message I."""
    rng = random.Random(i)
    from_name, from_addr = _person(i % 211)
    to_name, to_addr = _person(1000 + i % 53)
    subject = _words(rng, rng.randint(3, 8))
    subject[0] = subject[0].capitalize()
    if i % 4 == 0:
        subject.insert(rng.randint(0, len(subject)), COMMON)
    paragraphs = []
    for _ in range(rng.randint(2, 5)):
        paragraphs.append(_words(rng, rng.randint(15, 60)))
    if i % 100 == 37:
        p = paragraphs[rng.randrange(len(paragraphs))]
        p.insert(rng.randint(0, len(p)), RARE)
    if i % 4 == 2:
        p = paragraphs[rng.randrange(len(paragraphs))]
        p.insert(rng.randint(0, len(p)), COMMON)
    text_lines = [f"Hello {to_name.split()[0]},", ""]
    for p in paragraphs:
        text_lines += _lines(p) + [""]
    text_lines += ["--", from_name]
    text = "\r\n".join(text_lines) + "\r\n"
    headers = [
        f"From: {from_name} <{from_addr}>",
        f"To: {to_name} <{to_addr}>",
        f"Subject: {' '.join(subject)}",
        f"Date: {_date(BASE_DATE + 30 * i)}",
        f"Message-ID: <bench-{i}.{rng.getrandbits(32):08x}@{from_addr.split('@')[1]}>",
        "MIME-Version: 1.0",
    ]
    kind = i % 25
    if kind in (3, 8):  # 8 %: text and HTML
        b = f"alt-{i}"
        html = "".join(f"<p>{' '.join(p)}</p>" for p in paragraphs)
        body = (f"--{b}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}"
                f"--{b}\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
                f"<html><body><p>Hello {to_name.split()[0]},</p>{html}</body></html>\r\n--{b}--\r\n")
        headers.append(f'Content-Type: multipart/alternative; boundary="{b}"')
    elif kind == 17:  # 4 %: an attachment of about 2 KiB
        b = f"mix-{i}"
        blob = base64.encodebytes(rng.randbytes(1536)).decode().replace("\n", "\r\n")
        body = (f"--{b}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}"
                f"--{b}\r\nContent-Type: application/pdf; name=\"doc-{i}.pdf\"\r\n"
                f"Content-Disposition: attachment; filename=\"doc-{i}.pdf\"\r\n"
                f"Content-Transfer-Encoding: base64\r\n\r\n{blob}--{b}--\r\n")
        headers.append(f'Content-Type: multipart/mixed; boundary="{b}"')
    else:
        body = text
        headers.append("Content-Type: text/plain; charset=utf-8")
        headers.append("Content-Transfer-Encoding: 8bit")
    raw = "\r\n".join(headers) + "\r\n\r\n" + body
    return from_addr, [to_addr], raw.encode("utf-8")


def _dot_stuffed(raw):
    if raw.startswith(b"."):
        raw = b"." + raw
    return raw.replace(b"\r\n.", b"\r\n..") + b".\r\n"


class SmtpError(Exception):
    pass


async def _reply(reader):
    lines = []
    while True:
        line = await reader.readline()
        if not line:
            raise SmtpError("connection closed")
        lines.append(line)
        if len(line) < 4 or line[3:4] != b"-":
            return int(line[:3]), b"".join(lines)


async def _expect(reader, code):
    got, text = await _reply(reader)
    if got != code:
        raise SmtpError(f"expected {code}, got {text[:200]!r}")
    return text


async def _worker(port, queue, stats, deadline):
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
    try:
        await _expect(reader, 220)
        writer.write(b"EHLO bench.localhost\r\n")
        ehlo = await _expect(reader, 250)
        pipelining = b"PIPELINING" in ehlo.upper()
        stats["pipelining"] = pipelining
        while time.monotonic() < deadline:
            try:
                i = queue.get_nowait()
            except asyncio.QueueEmpty:
                break
            sender, rcpts, raw = message(i)
            cmds = [f"MAIL FROM:<{sender}>\r\n".encode()] + [f"RCPT TO:<{r}>\r\n".encode() for r in rcpts] + [b"DATA\r\n"]
            if pipelining:
                writer.write(b"".join(cmds))
                for code in [250] * (len(cmds) - 1) + [354]:
                    await _expect(reader, code)
            else:
                for cmd, code in zip(cmds, [250] * (len(cmds) - 1) + [354]):
                    writer.write(cmd)
                    await _expect(reader, code)
            writer.write(_dot_stuffed(raw))
            await _expect(reader, 250)
            stats["sent"] += 1
        writer.write(b"QUIT\r\n")
        await writer.drain()
        try:
            await asyncio.wait_for(_reply(reader), 5)
        except (asyncio.TimeoutError, SmtpError):
            pass
    finally:
        writer.close()


async def fill(port, first, count, conns, deadline_s):
    queue = asyncio.Queue()
    for i in range(first, first + count):
        queue.put_nowait(i)
    stats = {"sent": 0, "errors": 0, "pipelining": None, "error_text": ""}
    deadline = time.monotonic() + deadline_s
    t0 = time.monotonic()
    results = await asyncio.gather(*[_worker(port, queue, stats, deadline) for _ in range(conns)],
                                   return_exceptions=True)
    wall = time.monotonic() - t0
    for r in results:
        if isinstance(r, BaseException):
            stats["errors"] += 1
            stats["error_text"] = repr(r)[:300]
    return {"sent": stats["sent"], "seconds": round(wall, 3), "per_s": round(stats["sent"] / wall, 1) if wall else 0,
            "errors": stats["errors"], "error": stats["error_text"], "first": first, "count": count,
            "conns": conns, "pipelining": stats["pipelining"], "timed_out": time.monotonic() >= deadline}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int)
    ap.add_argument("--first", type=int, default=0)
    ap.add_argument("--count", type=int, default=0)
    ap.add_argument("--conns", type=int, default=8)
    ap.add_argument("--deadline", type=float, default=600, help="stop sending after this many seconds")
    ap.add_argument("--show", type=int, help="print message SHOW and exit")
    a = ap.parse_args()
    if a.show is not None:
        sender, rcpts, raw = message(a.show)
        sys.stdout.write(f"# MAIL FROM:<{sender}> RCPT TO:{rcpts}\n")
        sys.stdout.write(raw.decode("utf-8").replace("\r\n", "\n"))
        return 0
    r = asyncio.run(fill(a.port, a.first, a.count, a.conns, a.deadline))
    print(json.dumps(r))
    return 0 if r["errors"] == 0 and r["sent"] == a.count else 1


if __name__ == "__main__":
    sys.exit(main())
