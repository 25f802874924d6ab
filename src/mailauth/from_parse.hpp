// SPDX-License-Identifier: MIT
#pragma once
/// The RFC5322.From domain that DMARC is about (RFC 7489 §3.1, §6.6.1), from the message's From
/// header field value(s). Pure: no I/O, no clock, never throws (beyond std::bad_alloc).
///
/// When to call what: collect the unfolded (or folded: CRLF WSP is allowed) values of every From
/// field of the message, in order, and call from_domain(). On success, pass the domain to
/// check_dmarc(). On error, DMARC cannot be evaluated: §6.6.1 says a message with no From, with
/// several From fields, or with several authors is either malformed (reject-worthy) or out of
/// DMARC's scope; the error code says which case it is, so policy can name it.
#include "base/expected.hpp"

#include <span>
#include <string>
#include <string_view>
#include <system_error>

namespace postern::mailauth {

enum class from_errc {
    no_from = 1,         ///< no From field (RFC 5322 §3.6 requires one)
    multiple_from,       ///< more than one From field (RFC 5322 §3.6 allows one)
    multiple_addresses,  ///< one From field with several mailboxes (RFC 7489 §6.6.1)
    group,               ///< a group ("Undisclosed recipients:;", RFC 6854)
    no_domain,           ///< the mailbox has no usable domain (an address literal)
    bad_syntax,          ///< the value is not an RFC 5322 address (or not one SMTP could carry)
};
const std::error_category& from_category() noexcept;
inline std::error_code make_error_code(from_errc e) noexcept { return {static_cast<int>(e), from_category()}; }

/// Upper bound on the octets of one From field value that are parsed; longer values are
/// bad_syntax (message/header_scan.hpp uses 8 KiB for the same field).
inline constexpr std::size_t max_from_value = 8 * 1024;

/// The domain of the single author mailbox of the single From field, lower-cased (ASCII letters
/// only: an A-label stays an A-label, a U-label stays a U-label) and without a trailing dot.
/// Comments, display names (encoded words included), quoted local parts and angle addresses are
/// handled by message::parse_address_list().
result<std::string> from_domain(std::span<const std::string_view> from_values);
/// For exactly one From field value.
result<std::string> from_domain(std::string_view from_value);

/// Domain names compared as DMARC does: ignoring ASCII case and one trailing dot.
bool same_domain(std::string_view a, std::string_view b) noexcept;

}  // namespace postern::mailauth

template <>
struct std::is_error_code_enum<postern::mailauth::from_errc> : std::true_type {};
