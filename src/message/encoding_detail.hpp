// SPDX-License-Identifier: MIT
#pragma once
// Small character helpers shared by encoding*.cpp and mime_*.cpp. Internal: not part of the
// library's interface, so nothing outside src/message includes it.
#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

namespace postern::message::detail {

inline bool is_wsp(char c) noexcept { return c == ' ' || c == '\t'; }

inline char ascii_lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

inline std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = ascii_lower(c);
    return out;
}

inline bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

inline bool istarts_with(std::string_view s, std::string_view prefix) noexcept {
    return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

inline std::string_view trim_wsp(std::string_view s) noexcept {
    while (!s.empty() && (is_wsp(s.front()) || s.front() == '\r' || s.front() == '\n')) s.remove_prefix(1);
    while (!s.empty() && (is_wsp(s.back()) || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
    return s;
}

inline int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

inline constexpr std::string_view hex_digits = "0123456789ABCDEF";

inline bool is_ascii(std::string_view s) noexcept {
    return std::none_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

/// The length of the well-formed UTF-8 character at s[i], or 0 when it is ill-formed; then
/// *bad_length (if given) is the length of the maximal ill-formed subpart (at least 1).
std::size_t utf8_char_length(std::string_view s, std::size_t i, std::size_t* bad_length = nullptr) noexcept;

/// The length of the character at s[i] for splitting purposes: a well-formed UTF-8 sequence's
/// length, else 1 (a stray octet is its own unit).
inline std::size_t char_unit(std::string_view s, std::size_t i) noexcept {
    const std::size_t n = utf8_char_length(s, i);
    return n == 0 ? 1 : n;
}

void append_utf8(std::string& out, char32_t cp);

}  // namespace postern::message::detail
