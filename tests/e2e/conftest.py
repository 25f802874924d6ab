# SPDX-License-Identifier: MIT
"""Shared fixtures for the end-to-end tests: the built `postern` binary run on 127.0.0.1:0 with
a fresh data folder, a raw SMTP client, and helpers that read stored messages back from disk.

Run with /usr/bin/python3 (Debian's python3-pytest); POSTERN_BIN names the binary (ctest sets it).
Every process started here is stopped by its pid: SIGTERM, then SIGKILL after 10 s.
"""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

E2E_DIR = Path(__file__).resolve().parent
REPO = E2E_DIR.parent.parent

LISTEN_RE = re.compile(r"server\.listen\b.*\brole=(\S+) address=(\S+):(\d+)")
HTTP_LISTEN_RE = re.compile(r"http\.listen\b.*\baddress=(\S+) port=(\d+)")


def postern_bin() -> str:
    path = os.environ.get("POSTERN_BIN") or str(REPO / "build" / "src" / "app" / "postern")
    if not os.access(path, os.X_OK):
        pytest.fail(f"postern binary not found at {path} (set POSTERN_BIN)")
    return path


def write_config(directory: Path, text: str, name: str = "postern.toml") -> Path:
    path = Path(directory) / name
    path.write_text(text, encoding="utf-8")
    return path


class Server:
    """One `postern serve` process. start() waits for the server.listen log line."""

    def __init__(self, data_dir: Path, config: Path | None = None, extra_args=(), verbose=False):
        self.data_dir = Path(data_dir)
        self.config = config
        self.extra_args = list(extra_args)
        self.verbose = verbose
        self.proc: subprocess.Popen | None = None
        self.host = "127.0.0.1"
        self.port = 0
        self.log: list[str] = []
        self.listeners: dict[str, tuple[str, int]] = {}  # role -> the first address of that role
        self.http: tuple[str, int] | None = None  # the web inbox, when it listens
        self._log_lock = threading.Lock()
        self._reader: threading.Thread | None = None
        self.returncode: int | None = None

    def argv(self) -> list[str]:
        argv = [postern_bin(), "serve", "--data", str(self.data_dir), "--smtp", "127.0.0.1:0"]
        if "--http" not in self.extra_args:
            argv += ["--http", "127.0.0.1:0"]  # never the default 8025: tests run side by side
        if self.config is not None:
            argv += ["--config", str(self.config)]
        if self.verbose:
            argv.append("--verbose")
        return argv + self.extra_args

    def start(self, timeout: float = 15.0) -> "Server":
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        found = threading.Event()

        def drain():
            assert self.proc is not None and self.proc.stderr is not None
            for raw in self.proc.stderr:
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                with self._log_lock:
                    self.log.append(line)
                if not found.is_set():
                    h = HTTP_LISTEN_RE.search(line)
                    if h:
                        self.http = (h.group(1), int(h.group(2)))
                    m = LISTEN_RE.search(line)
                    if m:
                        if not self.listeners:
                            self.host, self.port = m.group(2), int(m.group(3))
                        self.listeners.setdefault(m.group(1), (m.group(2), int(m.group(3))))
                    elif "server.start" in line and self.listeners:
                        found.set()  # every listener is logged before server.start

        self._reader = threading.Thread(target=drain, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + timeout
        while not found.wait(0.05):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError("postern did not log server.listen; exit status "
                                     f"{self.returncode}; stderr:\n" + self.log_text())
        return self

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    @property
    def http_url(self) -> str:
        assert self.http is not None, "the web inbox is not listening"
        return f"http://{self.http[0]}:{self.http[1]}"

    def log_text(self) -> str:
        with self._log_lock:
            return "\n".join(self.log)

    def wait_for_log(self, text: str, timeout: float = 10.0) -> bool:
        """True once `text` is in the log. The log is read by a thread: a line the server wrote
        before its reply may arrive here after the client has read that reply."""
        deadline = time.monotonic() + timeout
        while text not in self.log_text():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: int) -> None:
        if self.running():
            os.kill(self.proc.pid, sig)

    def wait(self, timeout: float = 10.0) -> int | None:
        """Waits for the exit; returns the status, or None if it is still running."""
        if self.proc is None:
            return self.returncode
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        if self._reader is not None:
            self._reader.join(5)
        return self.returncode

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, wait up to `timeout`, then SIGKILL (the pid only). Returns the exit status."""
        if self.proc is None:
            return self.returncode
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            if self.wait(timeout) is None:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.wait(10)
                self.returncode = None  # did not exit on SIGTERM
                return None
        return self.wait(timeout)

    def kill9(self) -> None:
        if self.running():
            os.kill(self.proc.pid, signal.SIGKILL)
        self.wait(10)

    # ---- stored mail ----------------------------------------------------------------------
    def folder(self, name: str = "inbox") -> Path:
        return self.data_dir / "mail" / name

    def new_files(self, name: str = "inbox") -> list[Path]:
        return stored_files(self.folder(name))

    def stored(self, name: str = "inbox") -> list[bytes]:
        return [p.read_bytes() for p in self.new_files(name)]

    def wait_for_files(self, count: int, name: str = "inbox", timeout: float = 10.0) -> list[Path]:
        deadline = time.monotonic() + timeout
        while True:
            files = self.new_files(name)
            if len(files) >= count or time.monotonic() > deadline:
                return files
            time.sleep(0.05)


def stored_files(maildir: Path) -> list[Path]:
    new = Path(maildir) / "new"
    if not new.is_dir():
        return []
    return sorted((p for p in new.iterdir() if p.is_file()), key=lambda p: (p.stat().st_mtime_ns, p.name))


def split_stored(raw: bytes) -> tuple[bytes, bytes, bytes]:
    """Splits a stored file into (Return-Path field, Received field, the client's bytes).

    The file starts with "Return-Path: <...>\\r\\n", then one "Received:" field whose continuation
    lines start with a TAB, then the message exactly as the client sent it (after unstuffing)."""
    assert raw.startswith(b"Return-Path: "), raw[:200]
    end = raw.index(b"\r\n") + 2
    return_path = raw[:end]
    rest = raw[end:]
    assert rest.startswith(b"Received: "), rest[:300]
    pos = rest.index(b"\r\n") + 2
    while rest[pos:pos + 1] == b"\t":
        pos = rest.index(b"\r\n", pos) + 2
    return return_path, rest[:pos], rest[pos:]


def reverse_path_of(raw: bytes) -> str:
    rp, _, _ = split_stored(raw)
    m = re.match(rb"Return-Path: <(.*)>\r\n\Z", rp)
    assert m, rp
    return m.group(1).decode("utf-8")


def body_of(raw: bytes) -> bytes:
    return split_stored(raw)[2]


def queued_id(reply_text: str) -> str:
    m = re.search(r"queued as (\S+)", reply_text)
    assert m, reply_text
    return m.group(1)


def file_for_id(server: Server, msg_id: str, name: str = "inbox") -> Path:
    files = [p for p in server.new_files(name) if p.name.startswith(msg_id + ".")]
    assert len(files) == 1, (msg_id, [p.name for p in server.new_files(name)])
    return files[0]


def dot_stuff(data: bytes) -> bytes:
    """What a client puts on the wire for `data` (which must end in CRLF), terminator included."""
    assert data.endswith(b"\r\n")
    stuffed = re.sub(rb"(?m)^\.", b"..", data)
    return stuffed + b".\r\n"


class Reply:
    def __init__(self, code: int, lines: list[str]):
        self.code = code
        self.lines = lines

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def esc(self) -> str | None:
        """The enhanced status code of the last line, if any (e.g. "5.5.1")."""
        m = re.match(r"([245])\.(\d{1,3})\.(\d{1,3})\b", self.lines[-1]) if self.lines else None
        return m.group(0) if m else None

    def __repr__(self) -> str:
        return f"Reply({self.code}, {self.lines!r})"


class RawClient:
    """A byte-level SMTP client: send exactly what a test says, read replies one at a time."""

    def __init__(self, address, timeout: float = 10.0):
        self.sock = socket.create_connection(address, timeout=timeout)
        self.buf = b""

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _read_line(self) -> bytes | None:
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def reply(self) -> Reply:
        """Reads one (possibly multi-line) reply. Raises EOFError if the server closed first."""
        lines: list[str] = []
        code = None
        while True:
            line = self._read_line()
            if line is None:
                raise EOFError(f"connection closed; partial reply {lines!r}")
            text = line.decode("utf-8", "replace")
            assert re.match(r"\d{3}[ -]", text + " "), f"malformed reply line {text!r}"
            code = int(text[:3])
            lines.append(text[4:])
            if len(text) == 3 or text[3] == " ":
                return Reply(code, lines)

    def cmd(self, line: str | bytes) -> Reply:
        if isinstance(line, str):
            line = line.encode("utf-8")
        self.send(line + b"\r\n")
        return self.reply()

    def closed(self, timeout: float = 5.0) -> bool:
        """True if the server closes the connection (after any buffered bytes) within `timeout`."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except (socket.timeout, TimeoutError):
            return False
        except ConnectionResetError:
            return True

    def greet(self, helo: str = "client.example") -> Reply:
        r = self.reply()
        assert r.code == 220, r
        r = self.cmd(f"EHLO {helo}")
        assert r.code == 250, r
        return r


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    return d


@pytest.fixture
def make_server(tmp_path: Path):
    """Factory: make_server(config_text=None, data_dir=None, start=True, **kw) -> Server.
    Every server made is stopped by pid at teardown."""
    servers: list[Server] = []
    counter = [0]

    def factory(config_text: str | None = None, data_dir: Path | None = None, start: bool = True, **kw):
        counter[0] += 1
        if data_dir is None:
            data_dir = tmp_path / f"data{counter[0]}"
            data_dir.mkdir()
        config = None
        if config_text is not None:
            config = write_config(tmp_path, config_text, f"postern{counter[0]}.toml")
        s = Server(data_dir, config, **kw)
        servers.append(s)
        if start:
            s.start()
        return s

    yield factory
    for s in servers:
        s.stop()


@pytest.fixture
def server(make_server) -> Server:
    """A catch-all server with no configuration on a fresh data folder."""
    return make_server()
