// SPDX-License-Identifier: MIT
#pragma once
/// What a client can say about the certificate a server presented: for `postern probe` and the
/// errors of `postern send`. The chain is checked against the context's trust anchors (the
/// system store, or a --ca file) and the name against the host we meant to reach, separately,
/// so that a report can say "chain verified, but the name does not match".
#include <openssl/ssl.h>

#include <string>
#include <vector>

namespace postern::net {

struct peer_certificate {
    bool present = false;
    bool chain_verified = false;    ///< SSL_get_verify_result() == X509_V_OK (name check aside)
    std::string verify_error;       ///< OpenSSL's text when not verified: "self-signed certificate"
    bool name_matches = false;      ///< the leaf is for the host (DNS SAN/CN wildcard rules, or an IP SAN)
    std::string subject;            ///< RFC 2253 form: "CN=mx.example.org"
    std::string issuer;
    std::vector<std::string> sans;  ///< "DNS:mx.example.org", "IP:192.0.2.1"
    std::string not_before;         ///< ISO 8601 UTC: "2026-11-23T12:00:00Z"
    std::string not_after;
};

/// After a client handshake. `host`: the name (or IP literal) the client wanted. The context
/// must have trust anchors loaded for chain_verified to mean anything (the handshake itself may
/// have run with SSL_VERIFY_NONE: OpenSSL records the result all the same).
peer_certificate inspect_peer(const SSL* ssl, const std::string& host);

}  // namespace postern::net
