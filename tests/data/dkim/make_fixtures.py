#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Makes the DKIM test fixtures with an independent signer, dkimpy (Debian's python3-dkim,
python3-nacl): run with /usr/bin/python3 from this folder. The keys in keys/ are test-only keys.

Each case is NAME.eml (the signed message) and NAME.test (its DNS records as `dns` lines, the
time of verification, and one `expect` line per DKIM-Signature, top down, with the RFC quoted).
"""
import base64
import os
import subprocess
import time

import dkim
from cryptography.hazmat.primitives import serialization

HERE = os.path.dirname(os.path.abspath(__file__))
SIGNED_AT = 1700000000
NOW = SIGNED_AT + 3600

MESSAGE = (
    b"From: Alice Example <alice@example.com>\r\n"
    b"To: Bob <bob@example.net>\r\n"
    b"Subject: Lunch  on\r\n"
    b"  Thursday?\r\n"
    b"Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
    b"Message-ID: <fixture-1@example.com>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"\r\n"
    b"Hi Bob,  \r\n"
    b"\r\n"
    b"Shall we meet at\t noon ?\r\n"
    b"   \r\n"
    b"Alice\r\n"
    b"\r\n"
    b"\r\n")


def key_pem(name):
    with open(os.path.join(HERE, "keys", name), "rb") as f:
        return f.read()


def ed25519_seed(name):
    """dkimpy wants the raw 32-octet Ed25519 seed in base64."""
    key = serialization.load_pem_private_key(key_pem(name), password=None)
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                            serialization.NoEncryption())
    return base64.b64encode(raw)


def public_record(name, extra=""):
    key = serialization.load_pem_private_key(key_pem(name), password=None).public_key()
    try:
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return "v=DKIM1; k=ed25519;%s p=%s" % (extra, base64.b64encode(raw).decode())
    except ValueError:
        der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        return "v=DKIM1; k=rsa;%s p=%s" % (extra, base64.b64encode(der).decode())


def dns_txt(name, record):
    """A TXT line, split in strings of at most 200 octets as a zone file would (§3.6.2.2)."""
    parts = [record[i:i + 200] for i in range(0, len(record), 200)] or [""]
    return "dns TXT %s %s" % (name, " ".join('"%s"' % p for p in parts))


def sign(message, selector="sel", domain="example.com", alg="rsa-sha256", key="rsa2048.pem",
         canon=("relaxed", "relaxed"), length=False, headers=None, fields=None, at=SIGNED_AT):
    """A DKIM-Signature made by dkimpy; `fields` adds or replaces tags (x=, i=, v=...) before
    dkimpy signs, so the signature is valid over whatever they say."""
    d = dkim.DKIM(message)
    d.signature_algorithm = alg.encode()
    d.hasher = dkim.HASH_ALGORITHMS[d.signature_algorithm]
    if alg.startswith("ed25519"):
        import nacl.encoding
        import nacl.signing
        pk = nacl.signing.SigningKey(ed25519_seed(key), encoder=nacl.encoding.Base64Encoder)
    else:
        pk = dkim.crypto.parse_pem_private_key(key_pem(key))
    policy = dkim.CanonicalizationPolicy.from_c_value("/".join(canon).encode())
    include = tuple(h.lower().encode() for h in (headers or
                    ["from", "to", "subject", "date", "message-id", "mime-version", "content-type", "from"]))
    body = policy.canonicalize_body(d.body)
    bh = base64.b64encode(d.hasher(body).digest())
    tags = [("v", "1"), ("a", alg), ("c", "/".join(canon)), ("d", domain), ("s", selector),
            ("t", str(at))]
    if length:
        tags.append(("l", str(len(body))))
    tags += [("h", " : ".join(h.decode() for h in include)), ("bh", bh.decode()), ("b", "0" * 60)]
    for k, v in (fields or {}).items():
        tags = [(tk, tv) for tk, tv in tags if tk != k]
        if v is not None:
            tags.insert(len(tags) - 2, (k, v))
    sigfields = [(k.encode(), v.encode()) for k, v in tags]
    return b"DKIM-Signature: " + d.gen_header(sigfields, include, policy, b"DKIM-Signature", pk)


def write(name, eml, records, expects, comment, now=NOW):
    with open(os.path.join(HERE, name + ".eml"), "wb") as f:
        f.write(eml)
    lines = ["# " + line for line in comment.strip().splitlines()]
    lines.append("message %s.eml" % name)
    lines.append("now %d" % now)
    lines += records
    lines += ["expect " + e for e in expects]
    with open(os.path.join(HERE, name + ".test"), "w") as f:
        f.write("\n".join(lines) + "\n")


RSA_KEY = dns_txt("sel._domainkey.example.com", public_record("rsa2048.pem"))
ED_KEY = dns_txt("ed._domainkey.example.com", public_record("ed25519.pem"))


def cases():
    m = MESSAGE
    for alg, key, sel, rec in (("rsa-sha256", "rsa2048.pem", "sel", RSA_KEY),
                               ("ed25519-sha256", "ed25519.pem", "ed", ED_KEY)):
        short = alg.split("-")[0]
        for hc in ("simple", "relaxed"):
            for bc in ("simple", "relaxed"):
                name = "pass-%s-%s-%s" % (short, hc, bc)
                sig = sign(m, selector=sel, alg=alg, key=key, canon=(hc, bc))
                write(name, sig + m, [rec], ["pass d=example.com s=%s" % sel],
                      "RFC 6376 §6.1.3 (and RFC 8463 §3 for ed25519-sha256): %s, c=%s/%s, made by\n"
                      "dkimpy: the body hash and the signature verify: \"pass\"." % (alg, hc, bc))

    sig = sign(m)
    write("fail-body-tampered", sig + m.replace(b"noon", b"one"), [RSA_KEY],
          ["fail d=example.com s=sel reason: body hash did not verify"],
          "RFC 6376 §6.1.3: \"If the hash does not match, the Verifier SHOULD ignore the signature and\n"
          "return PERMFAIL (body hash did not verify)\": one word of the body changed after signing.")
    write("fail-header-tampered", sig + m.replace(b"Lunch", b"Dinner"), [RSA_KEY],
          ["fail d=example.com s=sel reason: signature did not verify"],
          "RFC 6376 §6.1.3: the signed Subject changed after signing, so the header hash differs and\n"
          "the signature does not verify: PERMFAIL (signature did not verify).")
    write("pass-unsigned-header-added", b"X-Mailing-List: added later\r\n" + sig + m, [RSA_KEY],
          ["pass d=example.com s=sel"],
          "RFC 6376 §5.4: fields not listed in h= are not signed, so a field added in transit\n"
          "(here above the signature, as a forwarder would) leaves the signature valid.")
    sig = sign(m, length=True)
    write("pass-length-appended", sig + m + b"-- \r\nAppended by a mailing list\r\n", [RSA_KEY],
          ["pass d=example.com s=sel"],
          "RFC 6376 §3.5 l=: \"Body length count ... the number of octets in the body of the\n"
          "message after canonicalization included in the cryptographic hash\": text appended\n"
          "after the signed length leaves the signature valid (§8.2 explains the risk).")
    sig = sign(m, fields={"l": "100000"})
    write("permerror-length-exceeds-body", sig + m, [RSA_KEY],
          ["permerror d=example.com s=sel reason: l= is longer than the body"],
          "RFC 6376 §6.1.3: a body length in l= greater than the canonical body: the signature is\n"
          "ignored (PERMFAIL).")
    sig = sign(m, fields={"x": str(SIGNED_AT + 600)})
    write("permerror-expired", sig + m, [RSA_KEY],
          ["permerror d=example.com s=sel reason: signature expired"],
          "RFC 6376 §3.5 x=: \"Signatures MAY be considered invalid if the verification time at the\n"
          "Verifier is past the expiration date\"; §6.1.1: PERMFAIL (signature expired). Signed at\n"
          "T with x=T+600, verified at T+3600.", now=NOW)
    sig = sign(m, fields={"x": str(SIGNED_AT + 86400)})
    write("pass-not-yet-expired", sig + m, [RSA_KEY], ["pass d=example.com s=sel"],
          "RFC 6376 §3.5 x=: an expiry still in the future leaves the signature valid.")
    sig = sign(m, at=NOW + 86400)
    write("permerror-future-timestamp", sig + m, [RSA_KEY],
          ["permerror d=example.com s=sel reason: signature timestamp in the future"],
          "RFC 6376 §3.5 t=: \"Verifiers MAY ignore signatures with a timestamp in the future\": t= is\n"
          "one day after the verification time (beyond the 300 s of clock skew allowed).")
    sig = sign(m, fields={"x": str(SIGNED_AT - 10)})
    write("permerror-x-before-t", sig + m, [RSA_KEY],
          ["permerror d=example.com s=sel reason: x= < t="],
          "RFC 6376 §3.5 x=: \"the value of the x= tag MUST be greater than the value of the t= tag\n"
          "if both are present\".")
    sig = sign(m)
    write("permerror-key-revoked", sig + m,
          [dns_txt("sel._domainkey.example.com", "v=DKIM1; k=rsa; p=")],
          ["permerror d=example.com s=sel reason: key revoked"],
          "RFC 6376 §3.6.1 p=: \"An empty value means that this public key has been revoked\";\n"
          "§6.1.2: PERMFAIL (key revoked).")
    write("pass-key-testing", sig + m,
          [dns_txt("sel._domainkey.example.com", public_record("rsa2048.pem", " t=y;"))],
          ["pass d=example.com s=sel testing"],
          "RFC 6376 §3.6.1 t=y: \"This domain is testing DKIM\": the result stands, flagged testing.")
    write("fail-key-testing", sig + m.replace(b"noon", b"one"),
          [dns_txt("sel._domainkey.example.com", public_record("rsa2048.pem", " t=y;"))],
          ["fail d=example.com s=sel testing"],
          "RFC 6376 §3.6.1 t=y: \"Verifiers MUST NOT treat messages from Signers in testing mode\n"
          "differently from unsigned email\": a failure, flagged testing so it is not held against it.")
    write("permerror-key-sha1-only", sig + m,
          [dns_txt("sel._domainkey.example.com", public_record("rsa2048.pem", " h=sha1;"))],
          ["permerror d=example.com s=sel reason: inappropriate hash algorithm"],
          "RFC 6376 §3.6.1 h=: the key allows only sha1, the signature is rsa-sha256; §6.1.2:\n"
          "PERMFAIL (inappropriate hash algorithm).")
    write("permerror-key-wrong-k", sig + m,
          [dns_txt("sel._domainkey.example.com", public_record("rsa2048.pem").replace("k=rsa", "k=ed25519"))],
          ["permerror d=example.com s=sel reason: inappropriate key algorithm"],
          "RFC 6376 §3.6.1 k=: the key record says ed25519, the signature is rsa-sha256; §6.1.2:\n"
          "PERMFAIL (inappropriate key algorithm).")
    write("permerror-key-service", sig + m,
          [dns_txt("sel._domainkey.example.com", public_record("rsa2048.pem", " s=other;"))],
          ["permerror d=example.com s=sel reason: key not for email"],
          "RFC 6376 §3.6.1 s=: a key whose service types include neither \"*\" nor \"email\" must\n"
          "not be used for email.")
    sig = sign(m, key="rsa768.pem")
    write("policy-short-rsa-key", sig + m,
          [dns_txt("sel._domainkey.example.com", public_record("rsa768.pem"))],
          ["policy d=example.com s=sel reason: shorter than 1024 bits"],
          "RFC 8301 §3.2: \"Verifiers MUST NOT consider signatures using RSA keys of less than 1024\n"
          "bits as valid signatures\": a 768-bit key; RFC 8601 §2.7.1 policy: \"some aspect of the\n"
          "signature or signatures was not acceptable\".")
    sig = sign(m, alg="rsa-sha1")
    write("policy-rsa-sha1", sig + m, [RSA_KEY],
          ["policy d=example.com s=sel reason: rsa-sha1"],
          "RFC 8301 §3.1: \"Verifiers MUST NOT consider signatures using rsa-sha1 as valid\n"
          "signatures\".")
    sig = sign(m, headers=["to", "subject", "date"])
    write("permerror-from-not-signed", sig + m, [RSA_KEY],
          ["permerror d=example.com s=sel reason: From field not signed"],
          "RFC 6376 §6.1.1: \"If the \"h=\" tag does not include the From header field, the Verifier\n"
          "MUST ignore the DKIM-Signature header field and return PERMFAIL (From field not signed)\".")
    sig = sign(m, fields={"i": "alice@mail.example.org"})
    write("permerror-identity-not-under-d", sig + m, [RSA_KEY],
          ["permerror d=example.com s=sel reason: domain mismatch"],
          "RFC 6376 §6.1.1: \"Verifiers MUST confirm that the domain specified in the \"d=\" tag is the\n"
          "same as or a parent domain of the domain part of the \"i=\" tag. If not, the DKIM-Signature\n"
          "header field MUST be ignored, and the Verifier should return PERMFAIL (domain mismatch)\".")
    sig = sign(m, fields={"i": "alice@news.example.com"})
    write("pass-identity-subdomain", sig + m, [RSA_KEY], ["pass d=example.com s=sel"],
          "RFC 6376 §3.5 i=: \"The domain part of the address MUST be the same as, or a subdomain of,\n"
          "the value of the d= tag\": a subdomain is fine.")
    write("permerror-key-strict-subdomain", sig + m,
          [dns_txt("sel._domainkey.example.com", public_record("rsa2048.pem", " t=s;"))],
          ["permerror d=example.com s=sel reason: t=s"],
          "RFC 6376 §3.6.1 t=s: \"the \"i=\" domain MUST NOT be a subdomain of \"d=\"\".")
    sig = sign(m, fields={"v": "2"})
    write("permerror-version", sig + m, [RSA_KEY],
          ["permerror d=example.com s=sel reason: v= is not 1"],
          "RFC 6376 §6.1.1: \"If the \"v=\" tag ... is not the same as 1, the Verifier MUST ignore\n"
          "the DKIM-Signature header field and return PERMFAIL (incompatible version)\".")
    good = sign(m, selector="ed", alg="ed25519-sha256", key="ed25519.pem")
    bad = sign(m, key="rsa2048-other.pem")
    write("several-one-good-one-bad", bad + good + m, [RSA_KEY, ED_KEY],
          ["fail d=example.com s=sel reason: signature did not verify", "pass d=example.com s=ed"],
          "RFC 6376 §6.1: each signature is verified on its own; §4: one failing signature does not\n"
          "affect another. The rsa signature was made with another key than the published one.")
    sig = sign(m)
    write("temperror-servfail", sig + m, ["dns STATUS TXT sel._domainkey.example.com servfail"],
          ["temperror d=example.com s=sel reason: temporarily"],
          "RFC 6376 §6.1.2: \"If the query for the public key fails to respond, the Verifier MAY seek\n"
          "a later verification attempt by returning TEMPFAIL (key unavailable)\".")
    write("permerror-nxdomain", sig + m, [],
          ["permerror d=example.com s=sel reason: no key"],
          "RFC 6376 §6.1.2: \"If the query for the public key fails because the corresponding key\n"
          "record does not exist, the Verifier MUST immediately return PERMFAIL (no key for\n"
          "signature)\".")
    write("permerror-key-syntax", sig + m, [dns_txt("sel._domainkey.example.com", "v=DKIM1; k=rsa; p=!!!")],
          ["permerror d=example.com s=sel reason: key syntax error"],
          "RFC 6376 §6.1.2: \"If the public key data is not suitable for use with the algorithm and\n"
          "key types defined by the \"a=\" and \"k=\" tags ... PERMFAIL (key syntax error)\".")
    sig = sign(m, canon=("simple", "simple"))
    write("pass-bare-lf", (sig + m).replace(b"\r\n", b"\n"), [RSA_KEY], ["pass d=example.com s=sel"],
          "Bare LF line ends (a message from a Unix file): postern reads a bare LF as CRLF, as dkimpy\n"
          "and OpenDKIM do, so the simple/simple signature made over the CRLF form verifies.")
    write("none-unsigned", m, [], [],
          "RFC 8601 §2.7.1 none: \"The message was not signed\": no DKIM-Signature, no outcome.")
    rfc8463()


def rfc8463():
    """RFC 8463 Appendix A: the example message with its ed25519 and rsa signatures, and the keys
    of A.2 (the rsa one is RFC 6376's example key)."""
    src = "/usr/lib/python3/dist-packages/dkim/tests/data/rfc6376.signed.msg"
    with open(src, "rb") as f:
        eml = f.read()
    rsa = ("v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/"
           "J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G"
           "+2kryOTIKT+l/K4w3QIDAQAB")
    ed = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
    write("rfc8463-appendix-a", eml,
          [dns_txt("brisbane._domainkey.football.example.com", ed),
           dns_txt("test._domainkey.football.example.com", rsa)],
          ["pass d=football.example.com s=brisbane", "pass d=football.example.com s=test"],
          "RFC 8463 Appendix A.3: the example message signed with ed25519-sha256 (A.1 key, selector\n"
          "brisbane) and rsa-sha256 (selector test), keys as published in A.2. Both verify.",
          now=1527915362 + 60)


if __name__ == "__main__":
    cases()
