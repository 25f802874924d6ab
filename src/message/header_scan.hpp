// SPDX-License-Identifier: MIT
#pragma once
/// A streaming scan of a message's header section (RFC 5322 §2.2, §3.6) that keeps only the
/// author fields, From and Sender, for the submission check "the From address belongs to the
/// authenticated user". Pure: no I/O, never throws, never reads the clock.
///
/// When to call what:
///  1. Make one header_scanner per message (per transaction), before the first DATA/BDAT octet.
///  2. feed() every chunk of message content as it arrives, after dot-unstuffing, in order.
///     Chunks may be split anywhere, even between CR and LF. Once done() is true the header
///     section is over and feed() returns at once: keep calling it, or stop, as is convenient.
///  3. When the content ends, call finish(). It matters only for a message with no empty line
///     (a header section and no body), whose last field has no following line to end it.
///  4. Read authors(). It is an error (header_errc::incomplete) until done() is true, which
///     finish() guarantees. Any failure (a From or Sender field that does not parse, a field or
///     the section over its limit) comes back as the error: refuse the message, do not guess.
///  5. Decide policy on the values: RFC 5322 §3.6 allows exactly one From field and at most one
///     Sender, so a caller checks from_fields == 1 and sender_fields <= 1, then compares each
///     mailbox with same_address().
///
/// Memory is bounded by header_scan_limits: one unfolded From/Sender field at a time (at most
/// max_field octets) and the parsed mailboxes. Other fields pass through without being kept.
#include "base/expected.hpp"
#include "message/address.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace postern::message {

enum class header_errc {
    incomplete = 1,               // authors() asked for before the header section ended or finish()
    section_too_long,             // the header section passed max_section; the rest was not scanned
    field_too_long,               // a From or Sender field passed max_field once unfolded
    too_many_mailboxes,           // a From (or Sender) list passed max_mailboxes
    bad_character,                // NUL, a bare CR or LF, or ')', ']', '\' where no token may start
    unterminated_comment,         // "(" without its ")"
    unterminated_quoted_string,   // '"' without its closing '"'
    unterminated_domain_literal,  // "[" without its "]"
    empty_field,                  // "From:" with no address in it
    expected_address,             // words with neither "@domain" nor "<...>": "From: john", "Doe, John <j@x>"
    bad_display_name,             // a display name that does not start with a word: ". <a@b>"
    bad_angle_addr,               // "<" not closed by ">", "<>", "<<a@b>>", a bad obs-route
    bad_group,                    // a group with no name, inside a group, without its ';', or in a mailbox-only place
    trailing_garbage,             // more text where ',' or the end of the field was expected: "a@b c@d"
};
const std::error_category& header_category() noexcept;
inline std::error_code make_error_code(header_errc e) noexcept { return {static_cast<int>(e), header_category()}; }

struct header_scan_limits {
    std::size_t max_field = 8 * 1024;       ///< octets of one unfolded From or Sender field
    std::size_t max_section = 1024 * 1024;  ///< octets of the whole header section, empty line included
    std::size_t max_mailboxes = 100;        ///< mailboxes kept from all From fields (and again from all Sender fields)
};

/// What the header section says about its authors (RFC 5322 §3.6.2, RFC 6854).
struct header_authors {
    std::size_t from_fields = 0;    ///< From fields seen: 0 when there is none; over 1 is against RFC 5322 §3.6
    std::size_t sender_fields = 0;  ///< Sender fields seen
    /// Every mailbox of every From field, in order, group members included. RFC 6854 allows a
    /// group in From, so this may be empty even when from_fields is 1 ("From: Undisclosed:;").
    std::vector<mailbox> from;
    /// The mailboxes of the Sender fields: RFC 6854 makes Sender one address, a mailbox or a group.
    std::vector<mailbox> sender;
    /// Lines in the header section that are neither a field nor a continuation, e.g. "From x"
    /// (no colon). Scanning continues past them, because a reader that does so would otherwise
    /// see a From field that we never checked; a strict caller refuses when this is not 0.
    std::size_t malformed_lines = 0;
};

class header_scanner {
public:
    explicit header_scanner(header_scan_limits limits = {}) noexcept : limits_(limits) {}

    /// Takes the next chunk of message content (any size, split anywhere). Keeps only what
    /// belongs to a From or Sender field. Once done(), returns at once and keeps nothing.
    void feed(std::string_view bytes);

    /// The content has ended: ends the last line and the header section if no empty line did.
    void finish();

    /// True once the header section has ended (an empty line, finish()) or a limit was passed.
    bool done() const noexcept { return state_ == scan_state::done; }

    /// The authors, once done(); else header_errc::incomplete. A failure in any From or Sender
    /// field is the result: a header_errc, or an address_errc for a mailbox that is well-formed
    /// RFC 5322 but that RFC 5321 cannot carry (a bad domain, a control character, too long).
    result<header_authors> authors() const;

private:
    enum class scan_state : std::uint8_t { line_start, name, name_wsp, value, skip_line, done };
    enum class field : std::uint8_t { none, other, from, sender };

    bool account(std::size_t n);
    void step(char c);
    void take(char c);
    void start_line(char c);
    void take_name(char c);
    void end_name();
    void end_line();
    void malformed_line();
    void append(char c);
    void flush_field();
    void end_section();
    void set_error(std::error_code ec);

    header_scan_limits limits_;
    scan_state state_ = scan_state::line_start;
    field field_ = field::none;     // the field the current line belongs to (continuations included)
    bool cr_pending_ = false;       // the last octet was a CR whose LF may come in the next chunk
    bool truncated_ = false;        // value_ reached max_field and octets were dropped
    std::array<char, 6> name_{};    // enough to tell "from" and "sender" from the rest, lower-cased
    std::size_t name_length_ = 0;
    std::string value_;             // the unfolded value of the From or Sender field being read
    std::size_t section_octets_ = 0;
    header_authors authors_;
    std::error_code error_;         // the first failure; later fields are counted, not parsed
};

/// Parses an RFC 5322 address-list as RFC 6854 allows it in From (mailboxes and groups, obs-
/// forms, comments, RFC 6532 UTF-8), appending the mailboxes to `out`. For a field value taken
/// from elsewhere; header_scanner calls it on each From field.
std::error_code parse_address_list(std::string_view value, std::vector<mailbox>& out, std::size_t max_mailboxes);

/// Parses exactly one RFC 5322 address (a mailbox or a group), as RFC 6854 allows it in Sender.
std::error_code parse_address(std::string_view value, std::vector<mailbox>& out, std::size_t max_mailboxes);

enum class local_part_case { sensitive, insensitive };

/// Whether two addresses name the same mailbox. The domain is compared ignoring ASCII case
/// (RFC 5321 §2.4); the local part exactly, as RFC 5321 §2.4 requires, unless the caller asks
/// for `insensitive` (ASCII only), which matches how user names behave in practice. Both sides
/// must be canonical (mailbox::local_part is); U-labels and A-labels are not equated here.
bool same_address(std::string_view local1, std::string_view domain1, std::string_view local2,
                  std::string_view domain2, local_part_case lc = local_part_case::sensitive) noexcept;
inline bool same_address(const mailbox& a, const mailbox& b, local_part_case lc = local_part_case::sensitive) noexcept {
    return same_address(a.local_part, a.domain, b.local_part, b.domain, lc);
}

}  // namespace postern::message

template <>
struct std::is_error_code_enum<postern::message::header_errc> : std::true_type {};
