// SPDX-License-Identifier: MIT
// UTF-8 validation and the few charset conversions postern does itself. Mail in the wild is
// overwhelmingly UTF-8, US-ASCII or a Latin-1 variant; small tables cover those without a
// dependency on iconv (which would also make the library's behaviour depend on the system's
// locale data). Anything else is passed through as sanitized UTF-8 and flagged.
#include "message/encoding.hpp"

#include "message/encoding_detail.hpp"

#include <array>
#include <cstdint>

namespace postern::message {
namespace detail {

std::size_t utf8_char_length(std::string_view s, std::size_t i, std::size_t* bad_length) noexcept {
    const auto at = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char b0 = at(i);
    if (bad_length) *bad_length = 1;
    if (b0 < 0x80) return 1;
    std::size_t need = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // the range of the second octet (RFC 3629 §4)
    if (b0 >= 0xC2 && b0 <= 0xDF) need = 1;
    else if (b0 >= 0xE0 && b0 <= 0xEF) {
        need = 2;
        if (b0 == 0xE0) lo = 0xA0;       // no overlongs
        else if (b0 == 0xED) hi = 0x9F;  // no surrogates
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        need = 3;
        if (b0 == 0xF0) lo = 0x90;
        else if (b0 == 0xF4) hi = 0x8F;  // nothing past U+10FFFF
    } else {
        return 0;
    }
    for (std::size_t k = 1; k <= need; ++k) {
        const bool ok = i + k < s.size() && at(i + k) >= (k == 1 ? lo : 0x80) && at(i + k) <= (k == 1 ? hi : 0xBF);
        if (!ok) {
            if (bad_length) *bad_length = k;
            return 0;
        }
    }
    return need + 1;
}

void append_utf8(std::string& out, char32_t cp) {
    const auto put = [&out](std::uint32_t v) { out += static_cast<char>(v); };
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
    if (cp < 0x80) {
        put(cp);
    } else if (cp < 0x800) {
        put(0xC0 | (cp >> 6));
        put(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        put(0xE0 | (cp >> 12));
        put(0x80 | ((cp >> 6) & 0x3F));
        put(0x80 | (cp & 0x3F));
    } else {
        put(0xF0 | (cp >> 18));
        put(0x80 | ((cp >> 12) & 0x3F));
        put(0x80 | ((cp >> 6) & 0x3F));
        put(0x80 | (cp & 0x3F));
    }
}

}  // namespace detail

namespace {

using detail::append_utf8;

// windows-1252 0x80..0x9F (WHATWG index). The five holes map to the C1 controls, as WHATWG does.
constexpr std::array<char16_t, 32> cp1252_high{
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};

enum class charset_id { utf8, ascii, cp1252, latin9, unknown };

charset_id identify(std::string_view label) {
    label = detail::trim_wsp(label);
    if (label.size() >= 2 && label.front() == '"' && label.back() == '"') label = label.substr(1, label.size() - 2);
    if (const auto star = label.find('*'); star != std::string_view::npos) label = label.substr(0, star);  // RFC 2231 §5
    const std::string l = detail::ascii_lower(label);
    if (l.empty()) return charset_id::ascii;
    if (l == "utf-8" || l == "utf8" || l == "unicode-1-1-utf-8") return charset_id::utf8;
    if (l == "us-ascii" || l == "ascii" || l == "ansi_x3.4-1968" || l == "iso646-us" || l == "us") return charset_id::ascii;
    if (l == "iso-8859-1" || l == "iso8859-1" || l == "iso_8859-1" || l == "latin1" || l == "latin-1" || l == "l1" ||
        l == "cp819" || l == "iso-ir-100" || l == "windows-1252" || l == "cp1252" || l == "x-cp1252")
        return charset_id::cp1252;
    if (l == "iso-8859-15" || l == "iso8859-15" || l == "iso_8859-15" || l == "latin9" || l == "latin-9" || l == "l9")
        return charset_id::latin9;
    return charset_id::unknown;
}

std::string from_cp1252(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size() + bytes.size() / 4);
    for (char ch : bytes) {
        const auto c = static_cast<unsigned char>(ch);
        if (c >= 0x80 && c <= 0x9F) append_utf8(out, cp1252_high[c - 0x80]);
        else append_utf8(out, c);
    }
    return out;
}

// ISO-8859-15 differs from ISO-8859-1 in eight positions (the euro sign and seven letters).
char32_t latin9_char(unsigned char c) noexcept {
    switch (c) {
    case 0xA4: return 0x20AC;
    case 0xA6: return 0x0160;
    case 0xA8: return 0x0161;
    case 0xB4: return 0x017D;
    case 0xB8: return 0x017E;
    case 0xBC: return 0x0152;
    case 0xBD: return 0x0153;
    case 0xBE: return 0x0178;
    default: return c;
    }
}

std::string from_latin9(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size() + bytes.size() / 4);
    for (char ch : bytes) append_utf8(out, latin9_char(static_cast<unsigned char>(ch)));
    return out;
}

}  // namespace

bool is_valid_utf8(std::string_view s) noexcept {
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t n = detail::utf8_char_length(s, i);
        if (n == 0) return false;
        i += n;
    }
    return true;
}

std::string sanitize_utf8(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        std::size_t bad = 0;
        const std::size_t n = detail::utf8_char_length(s, i, &bad);
        if (n == 0) {
            out += "\xEF\xBF\xBD";
            i += bad;
        } else {
            out.append(s, i, n);
            i += n;
        }
    }
    return out;
}

utf8_text charset_to_utf8(std::string_view charset, std::string_view bytes) {
    switch (identify(charset)) {
    case charset_id::utf8: return {sanitize_utf8(bytes), true};
    case charset_id::ascii:
        if (is_valid_utf8(bytes)) return {std::string(bytes), true};
        return {from_cp1252(bytes), true};
    case charset_id::cp1252: return {from_cp1252(bytes), true};
    case charset_id::latin9: return {from_latin9(bytes), true};
    case charset_id::unknown: break;
    }
    return {sanitize_utf8(bytes), false};
}

std::string raw_header_to_utf8(std::string_view bytes) {
    if (is_valid_utf8(bytes)) return std::string(bytes);
    return from_cp1252(bytes);
}

}  // namespace postern::message
