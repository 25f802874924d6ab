// SPDX-License-Identifier: MIT
#pragma once
/// Builds an RFC 5322 / MIME message (RFC 2045-2049) from plain values, for `postern send`.
/// Pure: the caller reads the files, supplies the time, the host name and a random source;
/// nothing here does I/O, reads the clock or throws on bad input (errors are values).
///
/// When to call what:
///  1. Fill a message_spec: from, to/cc/bcc, subject, text and/or html, attachments (bytes
///     already read), extra headers, date (and zone), host name.
///  2. Call build_message() with a random source (e.g. a std::mt19937_64 seeded from
///     std::random_device by the caller). It validates everything first: a bad address, a
///     header that would inject or override a field, invalid UTF-8 come back as mime_errc.
///  3. Send built_message::data (CRLF line endings, not dot-stuffed: the SMTP client does that)
///     to built_message::envelope_recipients. Use MAIL FROM parameters as the flags say:
///     SMTPUTF8 when `smtputf8`, BODY=8BITMIME when `eight_bit` (RFC 6152, RFC 6531 §3.4).
///
/// The structure follows what the spec holds: text only → text/plain; html only → text/html;
/// both → multipart/alternative; any attachment → multipart/mixed around that. Text parts are
/// utf-8, 7bit when ASCII with short lines, else quoted-printable; attachments are base64
/// (a 7-bit-clean .eml travels as message/rfc822, which RFC 2046 §5.2.1 forbids to base64).
#include "base/expected.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace postern::message {

enum class mime_errc {
    no_from = 1,          // the spec has no From address
    no_recipients,        // to, cc and bcc are all empty
    bad_address,          // an address that RFC 5321 cannot carry (checked with parse_mailbox, UTF-8 allowed)
    bad_utf8,             // subject, display name, text, html or file name is not valid UTF-8
    bad_header_name,      // an extra header's name is not 1*ftext (RFC 5322 §3.6.8)
    header_injection,     // CR, LF or NUL in a header value, display name, subject or file name
    reserved_header,      // an extra header would override a field the builder writes (From, Content-Type, ...)
    bad_content_type,     // an attachment's content type is not type/subtype, or is multipart/* (RFC 2046 §5.1)
    line_too_long,        // a header line cannot be folded under 998 octets (RFC 5322 §2.1.1)
    bad_message_id,       // message_id or host_name would not make an RFC 5322 §3.6.4 msg-id
    no_random_source,     // build_message() was given an empty random source
};
const std::error_category& mime_category() noexcept;
inline std::error_code make_error_code(mime_errc e) noexcept { return {static_cast<int>(e), mime_category()}; }

/// A display name (UTF-8, may be empty; runs of white space are written as one space) and an
/// address ("local@domain", UTF-8 allowed).
struct mail_address {
    std::string name;
    std::string address;
};

struct mime_attachment {
    std::string filename;      ///< UTF-8; written per RFC 2231 when it is not plain ASCII
    std::string content_type;  ///< "type/subtype"; empty: from the file name's extension
    std::string bytes;         ///< the file's content, any octets
};

struct extra_header {
    std::string name;   ///< field name, e.g. "Reply-To", "X-Mailer"
    std::string value;  ///< the value as the field should carry it; non-ASCII becomes RFC 2047 words
};

struct message_spec {
    mail_address from;
    std::vector<mail_address> to;
    std::vector<mail_address> cc;
    std::vector<mail_address> bcc;    ///< envelope only: never written into the message
    std::string subject;              ///< UTF-8; leading and trailing white space is dropped
    std::optional<std::string> text;  ///< text/plain body, UTF-8, any line endings
    std::optional<std::string> html;  ///< text/html body, UTF-8, any line endings
    std::vector<mime_attachment> attachments;
    std::vector<extra_header> headers;
    std::string message_id;           ///< without '<' '>'; empty: random-part "@" host_name
    std::string host_name;            ///< right side of a generated Message-ID; empty: the From domain
    std::chrono::system_clock::time_point date;
    int utc_offset_minutes = 0;       ///< zone written in the Date field
};

/// Produces 64 random bits per call; used for the Message-ID and the MIME boundaries.
using random_source = std::function<std::uint64_t()>;

struct built_message {
    std::string data;                               ///< the whole message, CRLF line endings
    std::string message_id;                         ///< without '<' '>'
    std::vector<std::string> envelope_recipients;   ///< to, cc, bcc addresses, duplicates removed, in order
    bool smtputf8 = false;   ///< an address (header or envelope) has UTF-8: MAIL FROM needs SMTPUTF8
    bool eight_bit = false;  ///< the data has octets >= 0x80: MAIL FROM needs BODY=8BITMIME
};

/// Validates `spec` and writes the message. Header lines are folded at white space to at most
/// 76 octets where possible (RFC 2047 §2 limits lines with encoded-words to 76) and never past
/// 998; display names become atoms, a quoted-string or RFC 2047 encoded-words (§5 phrase rules).
result<built_message> build_message(const message_spec& spec, const random_source& random);

/// The envelope recipients of `spec`: the to, cc and bcc addresses in that order, each once
/// (domains compared ignoring case). build_message() fills built_message::envelope_recipients
/// with the same list; this is for a caller that sends a message it did not build (--eml).
std::vector<std::string> envelope_recipients(const message_spec& spec);

/// The header fields an extra_header may not set, because build_message() writes them or they
/// belong to transport: From, To, Cc, Bcc, Subject, Date, Message-ID, MIME-Version,
/// Return-Path and every Content-* field (case ignored).
bool is_reserved_header(std::string_view name) noexcept;

}  // namespace postern::message

template <>
struct std::is_error_code_enum<postern::message::mime_errc> : std::true_type {};
