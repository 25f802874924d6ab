// SPDX-License-Identifier: MIT
#pragma once
/// The Authentication-Results header field (RFC 8601), as text: a generic builder that knows the
/// grammar (§2.2) and nothing about SPF, DKIM or DMARC, and the check of §5 that tells a field
/// claiming to come from us. Pure: no I/O, never throws (beyond std::bad_alloc), no clock.
///
/// When to call what:
///  - On receipt, before adding our own field, call is_own_authentication_results() on the value
///    of every Authentication-Results field already in the message, and remove (or rename) the
///    ones for which it is true (RFC 8601 §5: they are forgeries, or ours from an earlier hop).
///  - Once the checks are done, fill an authentication_results_field and call
///    format_authentication_results(); prepend the text to the message, with Received.
///    mailauth/verdict.hpp's authentication_results() does this for SPF, DKIM and DMARC.
#include <string>
#include <string_view>
#include <vector>

namespace postern::message {

/// One propspec (§2.2): "ptype.property=value", e.g. {"smtp", "mailfrom", "a@b.example"}.
struct ar_property {
    std::string ptype;     ///< "smtp", "header", "body", "policy" (§2.3)
    std::string property;  ///< "mailfrom", "helo", "d", "i", "s", "b", "from", "dmarc", ...
    std::string value;     ///< any text: written bare when it is a token, a domain or an address, else quoted
};

/// One resinfo (§2.2): "method=result (comment) reason="..." ptype.property=value ...".
struct ar_result {
    std::string method;   ///< registered method name: "spf", "dkim", "dmarc", "iprev", "auth", ...
    std::string result;   ///< registered result word: "pass", "fail", "none", "temperror", ...
    std::string reason;   ///< for people; written as reason="..." when not empty (§2.2 reasonspec)
    std::string comment;  ///< written as "(...)" after the result when not empty (a CFWS comment)
    std::vector<ar_property> properties;
};

struct authentication_results_field {
    std::string authserv_id;          ///< our host name (§2.5); quoted when it is not a token
    std::vector<ar_result> results;   ///< empty: the field says "none" (§2.2 no-result)
};

/// Limits that keep a field far below the 998-octet line limit of RFC 5322 §2.1.1 whatever the
/// inputs: longer texts are cut (at a UTF-8 boundary) before they are written.
inline constexpr std::size_t max_ar_value = 320;    ///< property values: a 64-octet local part, '@', a 255-octet domain
inline constexpr std::size_t max_ar_comment = 200;  ///< reason and comment texts

/// "Authentication-Results: <authserv-id>;\r\n\t<method>=<result> ...;\r\n\t...\r\n": each
/// resinfo starts a new line and is folded with CRLF TAB wherever a line would pass 78 columns
/// (RFC 5322 §2.1.1; a single item longer than that keeps its own line). The text always ends
/// with CRLF. CR, LF and other control characters in any input are replaced by spaces, so no
/// input can end the field or add another; method, result, ptype and property names are kept to
/// token characters (anything else becomes '-').
std::string format_authentication_results(const authentication_results_field& field);

/// The value as RFC 8601 writes it: bare when it is an RFC 2045 token (§2.2 value), or a
/// domain or [local-part] "@" domain (pvalue), else an RFC 5322 quoted-string.
std::string ar_value(std::string_view value);

/// RFC 8601 §5: true when the field value (the text after "Authentication-Results:", folded or
/// not) names `authserv_id` as its authserv-id, compared ignoring ASCII case. A field whose
/// authserv-id cannot be read (bad syntax) is not ours: the caller decides what to do with it.
bool is_own_authentication_results(std::string_view field_value, std::string_view authserv_id) noexcept;

}  // namespace postern::message
