# SPDX-License-Identifier: MIT
"""The web inbox in a real browser: `postern serve --http` driven by Debian's Chromium through
playwright-core (web_ui.mjs, `npm ci` in this folder). Messages are sent with smtplib: a few
before the page opens, one while it is open (it must appear live, over /api/events).

A second HTTP server of the test's own counts requests: the message's remote image must not be
fetched until "Load remote images" is pressed, and its <script> and onerror handler would call
it if they ran.

The server checks SPF, DKIM and DMARC against a dnsmasq (`[mailauth] ignore_hosts = []`): the
live message passes (news.example), the build bot's fails DMARC (builds.example, p=reject, tag
mode stores it), the others have no records (none); the page must show the badges in words.

POSTERN_SCREENSHOT=PATH also saves the inbox as a PNG (docs/images/inbox.png for the README).
"""
from __future__ import annotations

import json
import os
import queue
import re
import shutil
import smtplib
import subprocess
import threading
import time
import urllib.request
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from conftest import E2E_DIR
from dnsmasq import make_dnsmasq  # noqa: F401  (fixture)

CHROMIUM = "/usr/bin/chromium"
NODE_TIMEOUT = 240

# A 1x1 transparent PNG.
PIXEL = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                      "1f15c4890000000d49444154789c6360000002000105dd1d4a2e0000000049454e44ae426082")

SEEDS = [
    ("Ann Lee <ann@shop.example>", "Your order #4821 has shipped",
     "Hi Bob,\n\nyour parcel left our warehouse this morning. Tracking: 1Z999AA10123456784.\n", True),
    ("Build Bot <ci@builds.example>", "Nightly build passed: 1204 tests",
     "All 1204 tests passed on main at 03:12 UTC. Duration 14 min 22 s.\n", False),
    ("Grace Hopper <grace@navy.example>", "Re: Compiler notes for Thursday",
     "Thanks, I read them. Let's go through the linker part on Thursday.\n", False),
    ("Jürgen Weiß <juergen@koeln.example>", "Grüße aus Köln",
     "Viele Grüße vom Rhein! Die Fotos schicke ich morgen.\n", False),
]

LIVE_SUBJECT = "Weekly digest: the zebracorn edition"
LIVE_FROM = "digest@news.example"
LIVE_WORD = "zebracorn"
LIVE_TEXT = ("This week: the zebracorn release, three new recipes and a puzzle.\n\n"
             "Markup in a text part stays text: <b>not bold</b> & friends.")
ATTACHMENT = ("notes.txt", "attachment content 42\n")

AUTH_CONFIG = """
[mailauth]
ignore_hosts = []
dmarc = "tag"
timeout = 10
"""
# smtplib's send_message takes the envelope sender from From.
AUTH_ZONE = [
    ("TXT", "news.example", "v=spf1 ip4:127.0.0.1 -all"), ("TXT", "_dmarc.news.example", "v=DMARC1; p=none"),
    ("TXT", "builds.example", "v=spf1 -all"), ("TXT", "_dmarc.builds.example", "v=DMARC1; p=reject"),
]
AUTH = {
    "failing": SEEDS[1][1],
    "failingBadges": ["SPF fail", "DKIM none", "DMARC fail"],
    "plainBadges": ["SPF none", "DKIM none", "DMARC none"],
    "liveBadges": ["SPF pass", "DKIM none", "DMARC pass"],
    "liveDomain": "news.example",
}


class CountingServer:
    """HTTP on 127.0.0.1:0 that counts GETs by path; GET /count answers the counts as JSON."""

    def __init__(self):
        counts: dict[str, int] = {}
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                path = self.path.split("?", 1)[0]
                if path == "/count":
                    with lock:
                        body = json.dumps(counts).encode()
                    ctype = "application/json"
                else:
                    with lock:
                        counts[path] = counts.get(path, 0) + 1
                    body, ctype = PIXEL, "image/png"
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Access-Control-Allow-Origin", "*")
                self.end_headers()
                self.wfile.write(body)

        self.counts = counts
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


HTTP_LISTEN_RE = re.compile(r"\bhttp\.listen\b.*\baddress=(\S+) port=(\d+)")


def http_base(server) -> str:
    """The web listener's address, from the `http.listen` line logged before `server.start`."""
    m = HTTP_LISTEN_RE.search(server.log_text())
    assert m, "no http.listen line in the log:\n" + server.log_text()
    return f"http://{m.group(1)}:{m.group(2)}"


def wait_http(base: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(base + "/api/v1/info", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"no HTTP answer from {base}")
        time.sleep(0.1)


def seed_message(sender: str, subject: str, text: str, with_attachment: bool) -> EmailMessage:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = sender, "Bob Example <bob@example.com>", subject
    m.set_content(text)
    if with_attachment:
        m.add_attachment(b"%PDF-1.4\n% invoice\n", maintype="application", subtype="pdf", filename="invoice-4821.pdf")
    return m


def live_message(remote: str) -> EmailMessage:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = f"Postern Digest <{LIVE_FROM}>", "bob@example.com", LIVE_SUBJECT
    m["Cc"] = "Carol <carol@example.com>"
    m.set_content(LIVE_TEXT + f"\n{LIVE_WORD}\n")
    m.add_alternative(f"""<!doctype html>
<html><head><title>digest</title>
<style>body {{ font-family: sans-serif; margin: 24px; color: #223; }} h1 {{ color: #1f5f8b; }}</style></head>
<body>
<h1 id="greeting">Hello from the HTML body</h1>
<p id="marker">Scripts stay off.</p>
<p>This week: the {LIVE_WORD} release, three new recipes and a puzzle.</p>
<p><a id="link" href="{remote}/link-clicked">Read the whole digest</a></p>
<ul><li>Faster search</li><li>Live updates in the inbox</li><li>Dark mode</li></ul>
<img id="remote" src="{remote}/remote.png" alt="" width="1" height="1">
<img src="/no-such-image.png" alt="" onerror="document.getElementById('marker').textContent='onerror ran';fetch('{remote}/onerror-ran')">
<script>
document.getElementById('marker').textContent = 'script ran';
document.title = 'PWNED';
try {{ parent.document.title = 'PWNED'; }} catch (e) {{}}
fetch('{remote}/script-ran');
</script>
</body></html>
""", subtype="html")
    m.add_attachment(ATTACHMENT[1].encode(), maintype="text", subtype="plain", filename=ATTACHMENT[0])
    return m


def send(server, msg: EmailMessage) -> None:
    with smtplib.SMTP(server.host, server.port, local_hostname="client.example", timeout=30) as client:
        client.send_message(msg)


def read_lines(stream, out: queue.Queue) -> None:
    for raw in stream:
        out.put(raw.decode("utf-8", "replace").rstrip("\n"))
    out.put(None)


def expect_line(lines: queue.Queue, want: str, seen: list[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            line = ""
        if line is None:
            raise AssertionError(f"web_ui.mjs ended before {want!r}")
        if line:
            seen.append(line)
        if line == want:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"no {want!r} from web_ui.mjs within {timeout} s")


@pytest.fixture
def remote():
    server = CountingServer()
    yield server
    server.close()


def test_web_ui(make_server, make_dnsmasq, remote, tmp_path):
    node = shutil.which("node")
    assert node, "node is required"
    assert os.access(CHROMIUM, os.X_OK), f"{CHROMIUM} is required (apt-get install chromium)"
    assert (E2E_DIR / "node_modules" / "playwright-core").is_dir(), "run `npm ci` in tests/e2e"

    dns = make_dnsmasq(AUTH_ZONE)
    server = make_server(AUTH_CONFIG, extra_args=["--http", "127.0.0.1:0", "--dns", dns.address])
    base = http_base(server)
    wait_http(base)
    for sender, subject, text, attach in SEEDS:
        send(server, seed_message(sender, subject, text, attach))

    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    cfg = {
        "base": base, "remote": remote.url, "seeds": [s[1] for s in SEEDS],
        "live": {"subject": LIVE_SUBJECT, "from": LIVE_FROM, "word": LIVE_WORD, "text": LIVE_TEXT,
                 "attachment": {"name": ATTACHMENT[0], "content": ATTACHMENT[1]}},
        "artifacts": str(artifacts), "auth": AUTH,
    }
    if os.environ.get("POSTERN_SCREENSHOT"):
        cfg["screenshot"] = os.path.abspath(os.environ["POSTERN_SCREENSHOT"])

    proc = subprocess.Popen([node, str(E2E_DIR / "web_ui.mjs"), json.dumps(cfg)], cwd=E2E_DIR,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lines: queue.Queue = queue.Queue()
    errors: queue.Queue = queue.Queue()
    threading.Thread(target=read_lines, args=(proc.stdout, lines), daemon=True).start()
    threading.Thread(target=read_lines, args=(proc.stderr, errors), daemon=True).start()
    seen: list[str] = []
    try:
        expect_line(lines, "READY", seen, 90)
        send(server, live_message(remote.url))
        proc.stdin.write(b"SENT\n")
        proc.stdin.flush()
        expect_line(lines, "DONE", seen, NODE_TIMEOUT)
        assert proc.wait(30) == 0
        print("\n".join(seen))
    except BaseException:
        if proc.poll() is None:  # by pid: the node process this test started; on SIGTERM
            proc.terminate()     # playwright closes its Chromium
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        stderr = []
        while True:
            try:
                item = errors.get(timeout=2)
            except queue.Empty:
                break
            if item is None:
                break
            stderr.append(item)
        print("web_ui.mjs stdout:\n" + "\n".join(seen) + "\nstderr:\n" + "\n".join(stderr))
        print(f"screenshots of the failure: {artifacts}")
        print("postern log:\n" + server.log_text())
        raise

    # Independent of the page: the counting server saw the remote image once it was allowed,
    # and nothing from the script or the onerror handler.
    assert remote.counts.get("/remote.png", 0) >= 1, remote.counts
    assert "/script-ran" not in remote.counts and "/onerror-ran" not in remote.counts, remote.counts
    with urllib.request.urlopen(base + "/api/v1/messages", timeout=5) as r:
        assert json.load(r)["total"] == 0
