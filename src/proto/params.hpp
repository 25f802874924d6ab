// SPDX-License-Identifier: MIT
#pragma once
/// ESMTP parameters of MAIL and RCPT (RFC 5321 §4.1.2 esmtp-param): SIZE (RFC 1870), BODY
/// (RFC 6152, RFC 3030), SMTPUTF8 (RFC 6531), RET/ENVID (RFC 3461 §4.3, §4.4), AUTH (RFC 4954 §5),
/// NOTIFY/ORCPT (RFC 3461 §4.1, §4.2). Parsed and validated; kept with the envelope.
#include "proto/reply.hpp"
#include "proto/session_config.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace postern::proto {

enum class body_type { unspecified, seven_bit, eight_bit_mime, binary_mime };
enum class dsn_ret { unspecified, full, hdrs };

struct mail_params {
    std::optional<std::uint64_t> size;   // declared size (RFC 1870)
    body_type body = body_type::unspecified;
    bool smtputf8 = false;
    dsn_ret ret = dsn_ret::unspecified;
    std::optional<std::string> envid;    // xtext as received
    std::optional<std::string> auth;     // xtext as received ("<>" allowed)
    bool requiretls = false;             // RFC 8689 REQUIRETLS (only once TLS is up)
};

struct dsn_notify {
    bool never = false, success = false, failure = false, delay = false;
    friend bool operator==(const dsn_notify&, const dsn_notify&) = default;
};

struct rcpt_params {
    std::optional<dsn_notify> notify;
    std::optional<std::string> orcpt_type;  // "rfc822", "utf-8", ...
    std::optional<std::string> orcpt;       // xtext as received
};

/// Parses the text after the path. On failure returns the reply to send (501, 552, 555).
std::variant<mail_params, reply> parse_mail_params(std::string_view text, const session_config& cfg);
std::variant<rcpt_params, reply> parse_rcpt_params(std::string_view text, const session_config& cfg);

/// RFC 3461 §4: xtext is octets 33..126 but '+' and '=', and "+" followed by two upper-case hex digits.
/// With `allow_utf8` (RFC 6533 utf-8-addr-xtext) octets >= 0x80 are allowed too.
bool is_xtext(std::string_view s, bool allow_utf8 = false);
std::string decode_xtext(std::string_view s);

}  // namespace postern::proto
