// SPDX-License-Identifier: MIT
#pragma once
/// Parses a whole message held in memory (RFC 5322, MIME: RFC 2045-2049, RFC 2047, RFC 2231)
/// into header fields, decoded convenience fields, a tree of parts numbered as IMAP numbers them
/// (RFC 3501 §6.4.5: "1", "1.2", ...), the text and HTML bodies a reader shows, and the list
/// of attachments. For the web inbox and the message index; mail of any origin is its input.
///
/// Pure and robust: no I/O, never throws on any input (only std::bad_alloc can escape), and
/// bounded by parse_limits. Damage (missing boundaries, bad base64, LF-only line endings, a
/// missing final boundary) is repaired where a reader can guess, and recorded as warnings.
/// Every decoded string (subject, names, text, html, file names) is valid UTF-8.
///
/// When to call what:
///  1. parse_message(raw) once per message. The result holds offsets into `raw`, not views:
///     it stays valid after `raw` is gone, but decode_part() needs the same bytes again.
///  2. Show subject/from/to/date/text/html/attachments; decode_part(raw, part) for a download
///     (find the part with find_part(message, "1.2")); snippet() for a list or an index.
#include "message/encoding.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postern::message {

struct parse_limits {
    std::size_t max_depth = 50;         ///< nested multiparts; deeper ones are kept as opaque leaves
    std::size_t max_parts = 1000;       ///< entities, the message itself included; the rest is not parsed
    std::size_t max_headers = 1000;     ///< fields kept per entity; later ones are skipped
    std::size_t max_addresses = 1000;   ///< addresses kept per address field
};

enum class mime_warning : std::uint8_t {
    lf_line_endings,          // lines end in a bare LF (RFC 5322 §2.3 wants CRLF); read the same way
    malformed_header_line,    // a line in a header section that is neither a field nor a continuation
    missing_header_end,       // a header section not ended by an empty line: the body starts at the first non-field line
    too_many_headers,         // past max_headers; the rest of the section was skipped
    bad_content_type,         // a Content-Type that is not type/subtype; read as text/plain (RFC 2045 §5.2)
    missing_boundary,         // a multipart without boundary parameter, or with no delimiter line: read as text/plain
    missing_final_boundary,   // no close-delimiter "--boundary--": the last part runs to the end
    depth_limit,              // a multipart nested deeper than max_depth: kept as one opaque part
    part_limit,               // more than max_parts entities: the rest was not parsed
    bad_base64,               // base64 with octets outside the alphabet or a dangling symbol
    bad_quoted_printable,     // '=' not followed by two hex digits
    unknown_transfer_encoding,// a Content-Transfer-Encoding we do not know: the body is taken as it is
    unknown_charset,          // text in a charset we do not convert: passed through as sanitized UTF-8
    bad_parameters,           // a Content-Type or Content-Disposition parameter list had to be guessed at
};

/// A stable name for logs and the API, e.g. "missing_final_boundary".
std::string_view to_string(mime_warning w) noexcept;

struct parse_warning {
    mime_warning what;
    std::string part_id;  ///< the part it concerns; "" for a multipart message itself, and for lf_line_endings
    friend bool operator==(const parse_warning&, const parse_warning&) = default;
};

struct header_field {
    std::string name;   ///< as written, e.g. "Subject"
    std::string raw;    ///< the octets after the ':' up to the end of the field, folding kept
    std::string value;  ///< unfolded (RFC 5322 §2.2.3), surrounding white space removed; not decoded
};

/// A mailbox from an address field: the display name decoded to UTF-8 (RFC 2047 included) and
/// the address as written ("local@domain", comments and white space removed, a route dropped).
struct mailbox_address {
    std::string name;
    std::string address;
    friend bool operator==(const mailbox_address&, const mailbox_address&) = default;
};

inline constexpr std::size_t no_part = static_cast<std::size_t>(-1);

struct mime_part {
    std::string id;                      ///< IMAP part number: "1", "1.2"; "" for a multipart message itself
    std::size_t parent = no_part;        ///< index into parsed_message::parts
    std::vector<std::size_t> children;   ///< indices into parsed_message::parts, in order
    std::size_t depth = 0;               ///< 0 for the message itself
    std::vector<header_field> headers;   ///< this entity's fields (the message's for parts[0])
    std::string type = "text";           ///< lower case; defaults per RFC 2045 §5.2 / RFC 2046 §5.1.5
    std::string subtype = "plain";       ///< lower case
    std::vector<mime_param> params;      ///< Content-Type parameters, decoded (RFC 2231)
    std::string charset;                 ///< lower case; "" when none was given
    std::string transfer_encoding = "7bit";  ///< lower case
    std::string disposition;             ///< "inline", "attachment" or "" (RFC 2183), lower case
    std::string filename;                ///< Content-Disposition filename, else Content-Type name; decoded
    std::string content_id;              ///< without '<' '>'
    std::size_t body_begin = 0;          ///< the body's octets in the raw message: [body_begin, body_end)
    std::size_t body_end = 0;
    std::size_t size = 0;                ///< the body's size once transfer-decoded

    std::string content_type() const { return type + "/" + subtype; }
    bool multipart() const noexcept { return type == "multipart"; }
    /// The Content-Type parameter `name` (lower case), or "".
    std::string_view param(std::string_view name) const noexcept;
};

struct attachment_info {
    std::size_t part = 0;       ///< index into parsed_message::parts
    std::string part_id;
    std::string filename;       ///< decoded; may be empty; may hold path separators: sanitize before use
    std::string content_type;   ///< "type/subtype"
    std::size_t size = 0;       ///< decoded size in octets
    std::string content_id;     ///< without '<' '>'
    bool is_inline = false;     ///< disposition inline, or a Content-ID without a disposition (a cid: image)
};

struct parsed_message {
    std::vector<mime_part> parts;  ///< parts[0] is the message itself; never empty
    std::vector<mailbox_address> from, to, cc, bcc, reply_to;
    std::string subject;           ///< decoded (RFC 2047), unfolded
    std::string message_id;        ///< without '<' '>'
    std::string date_text;         ///< the Date field as written (unfolded)
    std::optional<std::chrono::system_clock::time_point> date;  ///< the Date field in UTC, when it parses
    int date_offset_minutes = 0;   ///< the zone the Date field was written in
    std::size_t text_part = no_part;  ///< the part shown as text, if any
    std::size_t html_part = no_part;  ///< the part shown as HTML, if any
    std::string text;              ///< that part decoded to UTF-8 ("" when none)
    std::string html;              ///< that part decoded to UTF-8 ("" when none)
    std::vector<attachment_info> attachments;  ///< every leaf part that is neither body
    std::vector<parse_warning> warnings;

    const std::vector<header_field>& headers() const noexcept { return parts.front().headers; }
    /// The unfolded value of the first field called `name` (case ignored), or nullptr.
    const header_field* header(std::string_view name) const noexcept;
};

/// Parses `raw` (CRLF or LF line endings). The text body is the first text/plain part that
/// is not an attachment (no filename, disposition not "attachment"), preferring one inside a
/// multipart/alternative; the same for HTML. message/rfc822 parts are leaves: parse their
/// decode_part() again to look inside.
parsed_message parse_message(std::string_view raw, const parse_limits& limits = {});

/// The part with IMAP number `id`, or nullptr.
const mime_part* find_part(const parsed_message& m, std::string_view id) noexcept;

/// A part's body with its Content-Transfer-Encoding undone (base64, quoted-printable; others
/// as they are). `raw` must be the bytes parse_message() read.
std::string decode_part(std::string_view raw, const mime_part& part);

/// A part's body as UTF-8 text: decode_part(), then its charset converted.
std::string decode_text(std::string_view raw, const mime_part& part);

/// The first `max_chars` characters (code points) of the text body, or of the HTML body with
/// the markup removed when there is no text, white space collapsed: for message lists and the index.
std::string snippet(const parsed_message& m, std::size_t max_chars = 200);

/// Text from HTML: tags dropped, <script>, <style>, <head> and comments skipped, block ends
/// as line breaks, character references decoded (the common named ones and all numeric ones).
std::string html_to_text(std::string_view html);

/// Decodes a header value for display: RFC 2047 words and raw 8-bit octets to UTF-8.
std::string decode_header_value(std::string_view value);

/// The mailboxes of an address-list field value (To, Cc, From, Reply-To), leniently: groups
/// are flattened, comments dropped (one is used as the name when there is none), a display name
/// with an unquoted comma ("Doe, John <j@x>") is kept whole. At most `max` entries.
std::vector<mailbox_address> parse_address_field(std::string_view value, std::size_t max = 1000);

/// An RFC 5322 §3.3 date-time, obsolete forms included (§4.3: two-digit years, "GMT", "EST",
/// military zones, no day name, no seconds), in UTC, with the zone's offset in minutes.
struct date_value {
    std::chrono::system_clock::time_point when;
    int offset_minutes = 0;
};
std::optional<date_value> parse_date(std::string_view value);

}  // namespace postern::message
