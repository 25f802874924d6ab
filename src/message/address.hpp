// SPDX-License-Identifier: MIT
#pragma once
/// Mailboxes and paths as SMTP carries them: RFC 5321 §4.1.2 (Path, Mailbox, quoted
/// local parts, address literals, source routes) and RFC 6531 §3.3 (UTF-8 local parts
/// and U-label domains). Pure: no I/O, never throws.
#include "base/expected.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace postern::message {

enum class address_errc {
    empty = 1,             // nothing where a path was expected
    missing_bracket,       // no '<' at the start
    unterminated,          // '<' without its '>'
    trailing_garbage,      // e.g. an extra '>' or text right after the path
    bad_local_part,        // space, control character, bad quoting, empty local part
    bad_domain,            // empty label, label over 63 octets, bad character, '<@>'
    bad_address_literal,   // "[...]" that is not an IPv4 / IPv6 / General-address-literal
    bad_source_route,      // "@a,@b:" malformed
    non_ascii,             // non-ASCII octets when UTF-8 is not allowed
    bad_utf8,              // invalid UTF-8 sequence
    too_long,              // local part over 64 octets, domain over 255, path over 256
    null_path_not_allowed, // "<>" as a forward path
};
const std::error_category& address_category() noexcept;
inline std::error_code make_error_code(address_errc e) noexcept { return {static_cast<int>(e), address_category()}; }

struct mailbox {
    std::string local_part;           ///< canonical wire form: unquoted when it is a valid Dot-string, else a minimal quoted-string
    std::string domain;               ///< as given (case kept); an address literal keeps its brackets: "[192.0.2.1]"
    bool address_literal = false;

    bool utf8() const noexcept;       ///< any octet >= 0x80 in the local part or the domain
    std::string to_string() const;    ///< local_part + "@" + domain
    friend bool operator==(const mailbox&, const mailbox&) = default;
};

/// A reverse-path or forward-path. `mbox` is empty for the null reverse path "<>".
/// `postmaster` is set for the forward path "<Postmaster>" (any case, no domain), RFC 5321 §4.1.1.3.
struct path {
    std::optional<mailbox> mbox;
    bool postmaster = false;

    bool null() const noexcept { return !mbox && !postmaster; }
    std::string to_string() const;    ///< "" for <>, "Postmaster" for <Postmaster>, else the mailbox
    friend bool operator==(const path&, const path&) = default;
};

enum class path_kind { reverse, forward };

struct parsed_path {
    path value;
    std::size_t consumed = 0;         ///< octets of the input used, brackets included
};

/// Parses "<...>" at the start of `in` (after "MAIL FROM:" / "RCPT TO:"). Source routes
/// ("<@a.example,@b.example:u@c.example>") are accepted and dropped. `<>` is valid only as a
/// reverse path; `<Postmaster>` only as a forward path. With `allow_utf8` UTF-8 local parts and
/// domains are accepted (RFC 6531); without it any octet >= 0x80 is address_errc::non_ascii.
/// Text after the closing '>' is left for the caller (parameters), except that it must start
/// with a space or be empty, else address_errc::trailing_garbage.
result<parsed_path> parse_path(std::string_view in, path_kind kind, bool allow_utf8);

/// Parses a bare "local@domain" (no brackets), e.g. for VRFY or a config file.
result<mailbox> parse_mailbox(std::string_view in, bool allow_utf8);

/// RFC 5321 §4.1.2 Domain (dot-separated labels of letters, digits, hyphens; with
/// allow_utf8 also U-labels), without the address-literal form.
bool is_valid_domain(std::string_view d, bool allow_utf8);

}  // namespace postern::message

template <>
struct std::is_error_code_enum<postern::message::address_errc> : std::true_type {};
