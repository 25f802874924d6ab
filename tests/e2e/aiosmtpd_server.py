# SPDX-License-Identifier: MIT
"""An independent SMTP server for the client tests: Debian's python3-aiosmtpd with STARTTLS and
AUTH (PLAIN, LOGIN), storing each message as an .eml file, with recipients that misbehave on
purpose:

    refuse-*@...   RCPT answered 550 5.1.1
    grey-*@...     RCPT answered 451 4.7.1 (greylisting)

    python3 aiosmtpd_server.py --port P --cert C --key K --out DIR [--user U --password W]

Prints "READY <port>" on standard output once it listens on 127.0.0.1.
"""
from __future__ import annotations

import argparse
import asyncio
import ssl
import sys
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Handler:
    def __init__(self, out: Path):
        self.out = out
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0]
        if local.startswith("refuse-"):
            return "550 5.1.1 No such user here"
        if local.startswith("grey-"):
            return "451 4.7.1 Greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        name = self.out / f"{self.count:04d}.eml"
        name.write_bytes(envelope.original_content or envelope.content)
        (self.out / f"{self.count:04d}.envelope").write_text(
            envelope.mail_from + "\n" + "\n".join(envelope.rcpt_tos) + "\n" + ("auth" if session.authenticated else "") + "\n")
        return "250 2.0.0 Stored as " + name.name


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--user", default="")
    p.add_argument("--password", default="")
    a = p.parse_args()
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(a.cert, a.key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == a.user and auth_data.password.decode() == a.password
        return AuthResult(success=ok)

    controller = Controller(Handler(Path(a.out)), hostname="127.0.0.1", port=a.port, tls_context=ctx, require_starttls=False,
                            authenticator=authenticator if a.user else None, auth_require_tls=True,
                            server_hostname="aiosmtpd.test", decode_data=False)
    controller.start()
    print(f"READY {a.port}", flush=True)
    try:
        sys.stdin.read()  # until the test closes our stdin (or kills us)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
