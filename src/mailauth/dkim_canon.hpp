// SPDX-License-Identifier: MIT
#pragma once
/// DKIM canonicalization (RFC 6376 §3.4) and header-field selection (§5.4.2), streaming and
/// pure: no I/O, no OpenSSL, no clock, never throws.
///
/// When to call what: dkim_verifier and dkim_signer feed each chunk of the message to a
/// header_collector until it reports the header section done; what follows goes, chunk by chunk,
/// to one body_canonicalizer per body canonicalization, whose output they hash at once. At the
/// end, select_signed_headers() picks the fields h= names and canonicalize_header() gives the
/// octets to hash for each.
///
/// Line ends: the message arrives as the SMTP server passes it on (CRLF lines, dot-unstuffed), but
/// a bare LF is also taken as a line end, the way dkimpy and OpenDKIM read such messages (as if it
/// were CRLF); a bare CR is an ordinary octet. So "a\nb" and "a\r\nb" canonicalize alike.
#include "mailauth/dkim_tags.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace postern::mailauth {

/// One header field as received: its lines joined by CRLF (a bare LF becomes CRLF), without the
/// final line end.
struct header_field {
    std::string raw;
    std::size_t colon = 0;  ///< index of the ':' in raw
    /// The field name, without whitespace before the colon (obs-optional, RFC 5322 §4.5).
    std::string_view name() const noexcept;
    /// Everything after the colon, folding included: the raw value.
    std::string_view value() const noexcept { return std::string_view(raw).substr(colon + 1); }
};

/// Case-insensitive ASCII comparison of field names (RFC 5322 §1.2.2).
bool same_field_name(std::string_view a, std::string_view b) noexcept;

/// Collects the header section of a message that arrives in chunks, keeping at most max_section
/// octets. Past the limit it keeps nothing more and only counts the DKIM-Signature fields.
class header_collector {
public:
    explicit header_collector(std::size_t max_section) noexcept : max_section_(max_section) {}

    /// Takes the next chunk. Returns how many of its octets belong to the header section (the
    /// empty line included); the rest, if any, is the start of the body. Returns 0 once done().
    std::size_t feed(std::string_view in);
    /// The message ended: a last field with no line end is kept; the section is done.
    void finish();

    bool done() const noexcept { return done_; }
    /// The section passed max_section: fields() holds only what came before.
    bool too_large() const noexcept { return too_large_; }
    /// DKIM-Signature fields that started after the limit (not in fields()).
    std::size_t dropped_signatures() const noexcept { return dropped_signatures_; }
    /// Lines that were neither a field nor a continuation ("From " envelope lines, junk).
    std::size_t malformed_lines() const noexcept { return malformed_lines_; }

    const std::vector<header_field>& fields() const noexcept { return fields_; }
    std::vector<header_field> take_fields() noexcept { return std::move(fields_); }

private:
    void end_line();
    void take(char c);

    std::size_t max_section_;
    std::size_t octets_ = 0;
    std::string line_;            // the current line, without its line end
    std::array<char, 15> prefix_{};  // past the limit: the start of the line, to spot DKIM-Signature
    std::size_t prefix_length_ = 0;
    bool cr_pending_ = false;
    bool done_ = false;
    bool too_large_ = false;
    bool last_was_field_ = false;  // a continuation line belongs to a field
    std::size_t dropped_signatures_ = 0;
    std::size_t malformed_lines_ = 0;
    std::vector<header_field> fields_;
};

/// Appends the canonical form of one header field (§3.4.1 simple, §3.4.2 relaxed), CRLF included.
void canonicalize_header(dkim_canon canon, const header_field& field, std::string& out);

/// §5.4.2: the fields h= signs, in h= order; for a name listed n times, the n last instances from
/// the bottom up. A name with no instance left is a null string: nullptr in the result.
std::vector<const header_field*> select_signed_headers(const std::vector<header_field>& fields,
                                                       const std::vector<std::string>& names);

/// Receives canonical body octets, a batch at a time (a hash update).
using canon_sink = std::function<void(std::string_view)>;

/// §3.7: the octets the header hash covers: the fields h= names (select_signed_headers), each
/// canonicalized, then the DKIM-Signature field itself with the value of b= removed (`b_begin`
/// to `b_end`, offsets in signature_field.value()), canonicalized, without its final CRLF.
std::string signed_header_data(dkim_canon canon, const std::vector<header_field>& fields,
                               const std::vector<std::string>& names, const header_field& signature_field,
                               std::size_t b_begin, std::size_t b_end);

/// The body canonicalization of §3.4.3 (simple) and §3.4.4 (relaxed), as a stream: feed() passes
/// the canonical octets of each chunk to the sink in batches of at most a few KiB; runs of empty
/// lines (and, in relaxed, of whitespace) are held back as counts until what follows shows whether
/// they are at the end. Memory: a few counters and one batch, whatever the body.
class body_canonicalizer {
public:
    explicit body_canonicalizer(dkim_canon canon) : canon_(canon) {}

    void feed(std::string_view in, const canon_sink& sink);
    /// The body ended: adds the last line's CRLF if it had none, or (simple) the CRLF of an empty
    /// body. Call once.
    void finish(const canon_sink& sink);

private:
    void end_line(const canon_sink& sink);
    void content(char c, const canon_sink& sink);
    void emit(std::string_view s, const canon_sink& sink);

    dkim_canon canon_;
    std::string batch_;
    bool emitted_ = false;         // any canonical octet so far
    bool cr_pending_ = false;      // a CR whose LF may be in the next chunk
    bool line_started_ = false;    // the current line has canonical content
    bool wsp_pending_ = false;     // relaxed: whitespace seen, to become one SP if content follows
    std::uint64_t empty_lines_ = 0;  // empty lines held back
};

}  // namespace postern::mailauth
