// SPDX-License-Identifier: MIT
#pragma once
/// Trace header fields added on receipt: Received (RFC 5321 §4.4, RFC 5322 §3.6.7,
/// "with" keywords from RFC 3848 / RFC 6531) and Return-Path (RFC 5321 §4.4, added on
/// final delivery). Time is passed in; nothing here reads the clock.
#include "message/address.hpp"

#include <chrono>
#include <optional>
#include <string>

namespace postern::message {

struct received_fields {
    std::string helo;                       ///< the EHLO/HELO argument as the client gave it
    std::string peer_address;               ///< "192.0.2.1" or "2001:db8::1"
    std::optional<std::string> peer_name;   ///< reverse DNS name when known
    std::string by_host;                    ///< our host name
    std::string protocol = "ESMTP";         ///< SMTP, ESMTP, ESMTPS, ESMTPA, ESMTPSA, UTF8SMTP, UTF8SMTPS, ...
    std::string tls_version;                ///< "TLSv1.3" when the session was in TLS: "(using TLSv1.3 with cipher C)"
    std::string tls_cipher;                 ///< "TLS_AES_256_GCM_SHA384"
    bool requiretls = false;                ///< MAIL FROM carried REQUIRETLS (RFC 8689): "(REQUIRETLS)" after "with"
    std::string id;                         ///< our message id
    std::optional<std::string> for_recipient;  ///< added only when there is exactly one recipient
    std::chrono::system_clock::time_point when;
    int utc_offset_minutes = 0;
};

/// "Received: from helo (name [addr])\r\n\tby host with ESMTP id X\r\n\tfor <r>; date\r\n":
/// folded so that no line exceeds 78 octets where it can be helped; always CRLF-terminated.
/// Characters in `helo` that could break the header (CR, LF, controls, parentheses) are replaced.
std::string format_received(const received_fields& f);

/// "Return-Path: <a@b.example>\r\n", or "Return-Path: <>\r\n" for the null reverse path.
std::string format_return_path(const path& reverse_path);

/// RFC 5322 §3.3 date-time: "Mon, 23 Nov 2026 12:42:00 +0000".
std::string format_date(std::chrono::system_clock::time_point when, int utc_offset_minutes);

}  // namespace postern::message
