// SPDX-License-Identifier: MIT
#pragma once
/// The encodings MIME puts inside messages, both ways: quoted-printable (RFC 2045 §6.7),
/// base64 bodies (RFC 2045 §6.8), encoded-words in header fields (RFC 2047), parameter values
/// (RFC 2045 §5.1 with RFC 2231 continuations and charsets), charset conversion to UTF-8 for
/// the common Western charsets, and the content type that a file name's extension suggests.
/// Pure: no I/O, never throws on any input (only std::bad_alloc can escape).
///
/// Encoders (used by mime_build) produce what strict readers accept; decoders (used by
/// mime_parse, on mail of any origin) accept what real mailers send and say when they had to
/// guess, through the `bool* damaged` out-parameters (may be null).
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace postern::message {

// ---- UTF-8 and charsets ------------------------------------------------------------------

/// Whether `s` is well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, nothing past U+10FFFF).
bool is_valid_utf8(std::string_view s) noexcept;

/// `s` with every ill-formed sequence replaced by U+FFFD (one per maximal bad subpart, as
/// the Unicode standard's "substitution of maximal subparts" recommends).
std::string sanitize_utf8(std::string_view s);

/// Text in a charset we know, as UTF-8. `known` is false when the charset is not one of
/// utf-8, us-ascii, iso-8859-1, iso-8859-15, windows-1252 (and their aliases): the bytes are then
/// passed through as UTF-8 with bad sequences replaced, which is right for ASCII-compatible text.
struct utf8_text {
    std::string text;
    bool known = true;
};

/// Converts `bytes` labelled `charset` (any case, aliases accepted) to UTF-8. Following the
/// WHATWG Encoding Standard, iso-8859-1 and us-ascii are read as windows-1252 (what senders mean
/// by them); us-ascii or an empty label whose bytes are valid UTF-8 is read as UTF-8, because
/// mislabelled UTF-8 is far more common than real 8-bit ASCII.
utf8_text charset_to_utf8(std::string_view charset, std::string_view bytes);

/// Header text that arrived as raw 8-bit octets (RFC 6532 allows UTF-8; older mailers send
/// Latin-1): UTF-8 when valid, else read as windows-1252. Always valid UTF-8.
std::string raw_header_to_utf8(std::string_view bytes);

// ---- Quoted-printable (RFC 2045 §6.7) -----------------------------------------------------

/// Encodes text for a body part. Any line ending (CRLF, LF or a lone CR) becomes a hard CRLF
/// line break; encoded lines are at most 76 octets, soft line breaks ("=" CRLF) are placed
/// between characters, never inside a UTF-8 sequence or an "=XX" triplet; a space or TAB that
/// would end a line is encoded (rule 3), as is every octet outside printable ASCII and '='.
std::string qp_encode(std::string_view text);

/// Decodes quoted-printable, tolerantly: "=XX" in either case; "=" before a line ending (with
/// trailing white space in between) is a soft break; white space at the end of a line is
/// dropped (rule 3: it was added in transit); a '=' not followed by two hex digits is kept as
/// it is and sets *damaged. Line endings are kept as they were (CRLF or LF).
std::string qp_decode(std::string_view text, bool* damaged = nullptr);

// ---- base64 bodies (RFC 2045 §6.8) -------------------------------------------------------

/// base64 in lines of `line_length` (a multiple of 4, at most 76) joined by CRLF, with no CRLF
/// after the last line.
std::string base64_encode_lines(std::string_view raw, std::size_t line_length = 76);

/// Decodes base64 ignoring line breaks and white space; stops at padding; a missing '=' is
/// tolerated. Any other octet outside the alphabet, or a dangling single symbol, sets *damaged
/// and is skipped.
std::string base64_decode_lenient(std::string_view text, bool* damaged = nullptr);

/// The decoded length of base64 text, as base64_decode_lenient would produce it, without
/// decoding; *damaged as base64_decode_lenient would set it.
std::size_t base64_decoded_size(std::string_view text, bool* damaged = nullptr) noexcept;

// ---- RFC 2047 encoded-words ---------------------------------------------------------------

/// Where an encoded-word is going (RFC 2047 §5): in unstructured text (Subject, comments) the
/// Q encoding may leave most printable ASCII as it is; in a phrase (a display name) only letters,
/// digits and "!*+-/=_" may stay literal.
enum class word_syntax { text, phrase };

/// The longest encoded-word allowed (RFC 2047 §2).
inline constexpr std::size_t max_encoded_word = 75;

/// Appends to `out` one "=?utf-8?Q?...?=" or "=?utf-8?B?...?=" word (whichever carries more of
/// the input) for the longest prefix of `utf8` that fits in `max_octets` (clamped to 75) without
/// splitting a UTF-8 character (§5: each encoded-word must be self-contained). Returns how many
/// octets of `utf8` it took: at least one character, even past max_octets, so a loop always ends.
std::size_t encode_word(std::string_view utf8, std::size_t max_octets, word_syntax syntax, std::string& out);

/// `utf8` as encoded-words of at most 75 octets separated by single spaces (a reader drops the
/// white space between adjacent encoded-words, §6.2). For a caller without its own folding.
std::string encode_words(std::string_view utf8, word_syntax syntax = word_syntax::text);

/// Whether a word of header text must be encoded to survive: non-ASCII, control characters,
/// or "=?" (which a reader could take for the start of an encoded-word).
bool needs_encoded_word(std::string_view word) noexcept;

/// Decodes the encoded-words of an unfolded unstructured value (Subject, or any field shown as
/// text) to UTF-8. White space between two adjacent encoded-words is dropped (§6.2), and the
/// octets of adjacent words in one charset are joined before conversion, so a character split
/// across two words (against §5, but common) survives. Leniently, encoded-words are also found
/// inside longer words. Malformed words stay as they are; raw 8-bit text goes through
/// raw_header_to_utf8(). *unknown_charset is set when a word's charset is not one we convert.
std::string decode_words(std::string_view value, bool* unknown_charset = nullptr);

// ---- Parameters (RFC 2045 §5.1, RFC 2183, RFC 2231) --------------------------------------

struct mime_param {
    std::string name;   ///< lower case, without RFC 2231 section numbers or '*'
    std::string value;  ///< decoded to UTF-8
    friend bool operator==(const mime_param&, const mime_param&) = default;
};

/// A field value of the form `value *(";" parameter)`: Content-Type, Content-Disposition.
struct parameterized_value {
    std::string value;               ///< before the first ';', comments and white space removed, lower case
    std::vector<mime_param> params;  ///< in order of first appearance; one entry per name
    bool damaged = false;            ///< something had to be skipped or guessed
    /// The value of parameter `name` (lower case), or "" when absent.
    std::string_view param(std::string_view name) const noexcept;
};

/// Parses a Content-Type or Content-Disposition value: RFC 2231 continuations (name*0, name*1,
/// ...) are joined in section order, "name*=charset'lang'%XX" values are decoded and converted to
/// UTF-8, and an extended value wins over a plain one of the same name (RFC 2231 readers are told
/// to prefer it; senders add the plain one as a fallback). Leniently, RFC 2047 encoded-words in a
/// plain value are decoded (Outlook and Gmail send them, against RFC 2047 §5) and raw 8-bit
/// values go through raw_header_to_utf8(). At most 64 parameters and 128 sections each are kept.
parameterized_value parse_parameters(std::string_view field_value);

/// One parameter as the "name=value" segments to join with "; " (RFC 2231 §3, §4). A short ASCII
/// value is a token or a quoted-string; a longer one is split as name*0="..", name*1=".."; a
/// value with non-ASCII or control characters or "=?" (which readers would take for an RFC 2047
/// encoded-word) is percent-encoded as name*=utf-8''..., split as
/// name*0*=..., and, when `ascii_fallback`, followed by a plain name="..." (non-ASCII characters
/// as '_') for readers that know no RFC 2231. Every segment stays within `max_segment` octets
/// where the value allows it.
std::vector<std::string> encode_parameter(std::string_view name, std::string_view utf8_value, bool ascii_fallback,
                                          std::size_t max_segment = 64);

// ---- Content types ------------------------------------------------------------------------

/// The content type for a file name's extension (case ignored): "application/pdf" for
/// "report.PDF"; "application/octet-stream" for anything not in the table.
std::string_view content_type_for_filename(std::string_view filename) noexcept;

/// Whether `type` is a syntactically valid "type/subtype" (RFC 2045 §5.1 tokens).
bool is_valid_content_type(std::string_view type) noexcept;

}  // namespace postern::message
