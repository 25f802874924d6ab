// SPDX-License-Identifier: MIT
#pragma once
// Header-field writing for mime_build.cpp: folding, display names, address lists and
// unstructured text. Internal to src/message.
#include "message/encoding.hpp"

#include <string>
#include <string_view>

namespace postern::message::detail {

/// RFC 2047 §2 limits a line that holds an encoded-word to 76 octets; using it for every
/// line keeps within RFC 5322's 78 too.
inline constexpr std::size_t fold_at = 76;
inline constexpr std::size_t max_line = 998;  // RFC 5322 §2.1.1, CRLF excluded

/// Writes one header field, folding (CRLF before existing white space, RFC 5322 §2.2.3) when
/// the next token would pass fold_at. Tokens are never split; one that cannot fit in 998
/// octets makes too_long() true.
class header_writer {
public:
    explicit header_writer(std::string_view name);

    /// Appends `token` after the white space `space` (which stays part of the value, and is
    /// where a fold may go). An empty `space` glues the token to the previous one.
    void token(std::string_view token, std::string_view space = " ");

    /// Appends `utf8` as encoded-words that fill the lines: the first after `space`, the others
    /// after a single space (which readers drop between encoded-words).
    void encoded(std::string_view utf8, word_syntax syntax, std::string_view space = " ");

    /// Unstructured text (RFC 5322 §3.2.5): words that need it (see needs_encoded_word, and any
    /// over 70 octets) are encoded, runs of them together; the others and the white space
    /// between them stay as written.
    void unstructured(std::string_view utf8);

    /// A display name by RFC 5322 §3.2.5 and RFC 2047 §5 (3), white space collapsed to single
    /// spaces: atoms as they are, else one quoted-string, else word by word with the words that
    /// need it (non-ASCII, controls, "=?", too long) as encoded-words.
    void display_name(std::string_view utf8);

    /// The field with its final CRLF.
    std::string finish() &&;
    bool too_long() const noexcept { return too_long_; }

private:
    std::string out_;
    std::size_t line_ = 0;     // octets on the current line
    bool empty_ = true;        // nothing written after "Name:" yet
    bool too_long_ = false;
};

/// A quoted-string (RFC 5322 §3.2.4) holding `s`.
std::string quoted_string(std::string_view s);

}  // namespace postern::message::detail
