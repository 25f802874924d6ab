// SPDX-License-Identifier: MIT
#pragma once
/// What a server session allows and advertises: plain structs with defaults that cite the RFC.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace postern::proto {

struct server_limits {
    std::size_t max_command_line = 512;          // RFC 5321 §4.5.3.1.4, CRLF included
    std::size_t max_recipients = 100;            // §4.5.3.1.8: a server must accept at least 100
    std::uint64_t max_message_size = 25u << 20;  // advertised as SIZE (RFC 1870)
    std::size_t max_errors = 20;                 // error replies before 421 and close
};

struct extensions {
    bool pipelining = true;             // RFC 2920
    bool size = true;                   // RFC 1870
    bool eightbitmime = true;           // RFC 6152
    bool smtputf8 = true;               // RFC 6531 (needs 8BITMIME)
    bool enhanced_status_codes = true;  // RFC 2034
    bool chunking = true;               // RFC 3030 CHUNKING
    bool binarymime = true;             // RFC 3030 BINARYMIME (needs CHUNKING)
    bool dsn = true;                    // RFC 3461
    bool help = true;                   // RFC 821 HELP, listed in EHLO
    bool vrfy = true;                   // RFC 5321 §3.5.3 (252 when it cannot vouch)
};

/// What to do with a CR or LF that is not part of a CRLF pair inside DATA (RFC 5321 §2.3.8).
/// Either way data ends only on CRLF "." CRLF. See docs/bare-line-endings.md.
enum class bare_line_policy {
    reject,     ///< keep reading to the real end of data, then refuse the message with 550 5.6.0
    normalize,  ///< a bare LF becomes CRLF in the stored message (Postfix 3.9 "normalize"); bare CR is kept
};

struct session_config {
    std::string hostname = "localhost";     // our name in the greeting, EHLO reply and Received
    std::string greeting = "ESMTP postern";
    server_limits limits;
    extensions ext;
    bare_line_policy bare_line_ending = bare_line_policy::normalize;

    // TLS and AUTH (the listener's role decides these; see docs/tls-auth.md)
    bool starttls = false;                     // STARTTLS offered (RFC 3207): a certificate is loaded
    std::vector<std::string> auth_mechanisms;  // AUTH (RFC 4954) offered with these; empty: no AUTH
    bool auth_requires_tls = true;             // AUTH before TLS: 538 5.7.11, not advertised
    bool auth_required = false;                // submission (RFC 6409): MAIL before AUTH is 530 5.7.0
    bool requiretls = true;                    // REQUIRETLS (RFC 8689) advertised once TLS is up
    std::size_t max_auth_line = 12288;         // RFC 4954 §4: AUTH lines up to 12288 octets
};

}  // namespace postern::proto
