// SPDX-License-Identifier: MIT
// Theory of operation: parse_path() first finds the path's extent (the first '>' that is not
// inside a quoted local part or an address literal), checks what follows it and the
// RFC 5321 §4.5.3.1.3 length, then checks the octets once (ASCII only, or well-formed UTF-8
// with SMTPUTF8), and only then walks the grammar: an optional source route (dropped), the
// local part, '@', and a Domain or an address literal. Each step returns the first error it
// meets; nothing throws.
#include "message/address.hpp"

#include <arpa/inet.h>

#include <array>
#include <cstring>

namespace postern::message {
namespace {

// RFC 5321 §4.5.3.1.1-3, in octets.
constexpr std::size_t max_local_part = 64;
constexpr std::size_t max_domain = 255;
constexpr std::size_t max_path = 256;  // brackets included
constexpr std::size_t max_label = 63;  // RFC 1035 §2.3.4

class address_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "postern.address"; }
    std::string message(int ev) const override;
};

std::string address_category_impl::message(int ev) const {
    switch (static_cast<address_errc>(ev)) {
    case address_errc::empty: return "empty address";
    case address_errc::missing_bracket: return "path must start with '<'";
    case address_errc::unterminated: return "path has no closing '>'";
    case address_errc::trailing_garbage: return "unexpected text after the path";
    case address_errc::bad_local_part: return "invalid local part";
    case address_errc::bad_domain: return "invalid domain";
    case address_errc::bad_address_literal: return "invalid address literal";
    case address_errc::bad_source_route: return "invalid source route";
    case address_errc::non_ascii: return "non-ASCII address without SMTPUTF8";
    case address_errc::bad_utf8: return "invalid UTF-8 in address";
    case address_errc::too_long: return "address too long";
    case address_errc::null_path_not_allowed: return "null path not allowed here";
    }
    return "unknown address error";
}

bool is_alpha(unsigned char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(unsigned char c) noexcept { return c >= '0' && c <= '9'; }
bool is_let_dig(unsigned char c) noexcept { return is_alpha(c) || is_digit(c); }

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        auto x = static_cast<unsigned char>(a[i]);
        auto y = static_cast<unsigned char>(b[i]);
        if (x >= 'A' && x <= 'Z') x = static_cast<unsigned char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<unsigned char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

// Length of the well-formed UTF-8 sequence at s[i], or 0 (Unicode 15 Table 3-7): this refuses
// overlong forms, surrogates (ED A0..BF) and code points above U+10FFFF (F4 90.., F5..FF).
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) noexcept {
    struct lead { unsigned char first, last, length, second_lo, second_hi; };
    static constexpr lead leads[] = {
        {0xC2, 0xDF, 2, 0x80, 0xBF}, {0xE0, 0xE0, 3, 0xA0, 0xBF}, {0xE1, 0xEC, 3, 0x80, 0xBF},
        {0xED, 0xED, 3, 0x80, 0x9F}, {0xEE, 0xEF, 3, 0x80, 0xBF}, {0xF0, 0xF0, 4, 0x90, 0xBF},
        {0xF1, 0xF3, 4, 0x80, 0xBF}, {0xF4, 0xF4, 4, 0x80, 0x8F},
    };
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) return 1;
    for (const lead& l : leads) {
        if (b0 < l.first || b0 > l.last) continue;
        if (s.size() - i < l.length) return 0;
        const auto b1 = static_cast<unsigned char>(s[i + 1]);
        if (b1 < l.second_lo || b1 > l.second_hi) return 0;
        for (std::size_t k = 2; k < l.length; ++k) {
            const auto b = static_cast<unsigned char>(s[i + k]);
            if (b < 0x80 || b > 0xBF) return 0;
        }
        return l.length;
    }
    return 0;  // C0, C1, F5..FF, or a stray continuation octet
}

bool is_valid_utf8(std::string_view s) noexcept {
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t n = utf8_sequence_length(s, i);
        if (n == 0) return false;
        i += n;
    }
    return true;
}

bool has_non_ascii(std::string_view s) noexcept {
    for (char c : s)
        if (static_cast<unsigned char>(c) >= 0x80) return true;
    return false;
}

// RFC 6531 §3.3: non-ASCII octets are allowed only with SMTPUTF8, and then only as UTF-8.
std::error_code check_octets(std::string_view s, bool allow_utf8) {
    if (!has_non_ascii(s)) return {};
    if (!allow_utf8) return address_errc::non_ascii;
    if (!is_valid_utf8(s)) return address_errc::bad_utf8;
    return {};
}

// RFC 5322 §3.2.3 atext, extended by RFC 6531 §3.3 with UTF8-non-ascii (already validated).
bool is_atext(unsigned char c, bool utf8) noexcept {
    if (c >= 0x80) return utf8;
    if (is_let_dig(c)) return true;
    return std::strchr("!#$%&'*+-/=?^_`{|}~", c) != nullptr && c != '\0';
}

// RFC 5321 §4.1.2: Dot-string = Atom *("." Atom).
bool is_dot_string(std::string_view s, bool utf8) noexcept {
    if (s.empty() || s.front() == '.' || s.back() == '.') return false;
    char prev = '\0';
    for (char ch : s) {
        if (ch == '.') {
            if (prev == '.') return false;
        } else if (!is_atext(static_cast<unsigned char>(ch), utf8)) {
            return false;
        }
        prev = ch;
    }
    return true;
}

// A label: Let-dig [Ldh-str] (RFC 5321 §4.1.2), or with SMTPUTF8 a U-label; at most 63 octets.
bool is_valid_label(std::string_view label, bool utf8) noexcept {
    if (label.empty() || label.size() > max_label) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    for (char ch : label) {
        const auto c = static_cast<unsigned char>(ch);
        if (!(is_let_dig(c) || c == '-' || (utf8 && c >= 0x80))) return false;
    }
    return true;
}

// Domain grammar only; the octets have been checked by the caller.
bool is_domain_syntax(std::string_view d, bool utf8) noexcept {
    if (d.empty() || d.size() > max_domain) return false;
    std::size_t start = 0;
    while (true) {
        const std::size_t dot = d.find('.', start);
        if (!is_valid_label(d.substr(start, dot - start), utf8)) return false;
        if (dot == std::string_view::npos) return true;
        start = dot + 1;
    }
}

// RFC 5321 §4.1.3: IPv4-address-literal = Snum 3("." Snum); Snum = 1*3DIGIT, 0-255.
bool is_ipv4_literal(std::string_view s) noexcept {
    int parts = 0;
    std::size_t i = 0;
    while (true) {
        std::size_t digits = 0;
        int value = 0;
        while (i < s.size() && is_digit(static_cast<unsigned char>(s[i])) && digits < 4) {
            value = value * 10 + (s[i] - '0');
            ++i;
            ++digits;
        }
        if (digits == 0 || digits > 3 || value > 255) return false;
        if (++parts == 4) return i == s.size();
        if (i >= s.size() || s[i] != '.') return false;
        ++i;
    }
}

bool is_ipv6_literal(std::string_view s) noexcept {
    std::array<char, 64> text{};  // INET6_ADDRSTRLEN is 46
    if (s.empty() || s.size() >= text.size()) return false;
    for (char ch : s) {  // inet_pton would take an embedded NUL as the end
        const auto c = static_cast<unsigned char>(ch);
        if (!(is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.'))
            return false;
    }
    std::memcpy(text.data(), s.data(), s.size());
    unsigned char addr[16];
    return ::inet_pton(AF_INET6, text.data(), addr) == 1;
}

// General-address-literal = Standardized-tag ":" 1*dcontent; dcontent = %d33-90 / %d94-126.
bool is_general_literal(std::string_view tag, std::string_view content) noexcept {
    if (tag.empty() || !is_let_dig(static_cast<unsigned char>(tag.back()))) return false;
    for (char c : tag)
        if (!is_let_dig(static_cast<unsigned char>(c)) && c != '-') return false;
    if (content.empty()) return false;
    for (char ch : content) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 33 || c > 126 || c == '[' || c == '\\' || c == ']') return false;
    }
    return true;
}

// `lit` includes the brackets: "[192.0.2.1]", "[IPv6:2001:db8::1]", "[x-tag:content]".
bool is_address_literal(std::string_view lit) noexcept {
    if (lit.size() < 3 || lit.front() != '[' || lit.back() != ']') return false;
    const std::string_view inner = lit.substr(1, lit.size() - 2);
    const std::size_t colon = inner.find(':');
    if (colon == std::string_view::npos) return is_ipv4_literal(inner);
    const std::string_view tag = inner.substr(0, colon);
    if (iequals(tag, "IPv6")) return is_ipv6_literal(inner.substr(colon + 1));
    return is_general_literal(tag, inner.substr(colon + 1));
}

struct local_part_token {
    std::string canonical;
    std::size_t length = 0;  // octets of the input used
};

// Quoted-string = DQUOTE *QcontentSMTP DQUOTE (RFC 5321 §4.1.2, RFC 6531 §3.3 for UTF-8).
// Returns the canonical local part: the content unquoted when it is a valid Dot-string, else
// re-quoted with only '"' and '\' escaped.
result<local_part_token> parse_quoted(std::string_view in, bool utf8) {
    std::string content;
    for (std::size_t i = 1; i < in.size(); ++i) {
        auto c = static_cast<unsigned char>(in[i]);
        if (c == '"') {
            if (content.empty()) return fail(address_errc::bad_local_part);
            if (is_dot_string(content, utf8)) return local_part_token{std::move(content), i + 1};
            std::string quoted = "\"";
            for (char ch : content) {
                if (ch == '"' || ch == '\\') quoted += '\\';
                quoted += ch;
            }
            quoted += '"';
            return local_part_token{std::move(quoted), i + 1};
        }
        if (c == '\\') {  // quoted-pairSMTP = "\" %d32-126
            if (++i == in.size()) break;
            c = static_cast<unsigned char>(in[i]);
            if (c < 32 || c > 126) return fail(address_errc::bad_local_part);
        } else if (c >= 0x80 ? !utf8 : (c < 32 || c == 127)) {
            return fail(address_errc::bad_local_part);
        }
        content += static_cast<char>(c);
    }
    return fail(address_errc::bad_local_part);  // no closing quote
}

result<local_part_token> parse_local_part(std::string_view in, bool utf8) {
    if (!in.empty() && in.front() == '"') return parse_quoted(in, utf8);
    std::size_t i = 0;
    while (i < in.size() && (in[i] == '.' || is_atext(static_cast<unsigned char>(in[i]), utf8))) ++i;
    if (i < in.size() && in[i] != '@') return fail(address_errc::bad_local_part);
    if (!is_dot_string(in.substr(0, i), utf8)) return fail(address_errc::bad_local_part);
    return local_part_token{std::string(in.substr(0, i)), i};
}

result<mailbox> parse_mailbox_syntax(std::string_view in, bool utf8) {
    auto local = parse_local_part(in, utf8);
    if (!local) return fail(local.error());
    if (local->length == in.size()) return fail(address_errc::bad_domain);  // no "@domain"
    if (in[local->length] != '@') return fail(address_errc::bad_local_part);
    if (local->canonical.size() > max_local_part) return fail(address_errc::too_long);
    const std::string_view domain = in.substr(local->length + 1);
    if (domain.size() > max_domain) return fail(address_errc::too_long);
    mailbox m{std::move(local->canonical), std::string(domain), false};
    if (!domain.empty() && domain.front() == '[') {
        if (!is_address_literal(domain)) return fail(address_errc::bad_address_literal);
        m.address_literal = true;
    } else if (!is_domain_syntax(domain, utf8)) {
        return fail(address_errc::bad_domain);
    }
    return m;
}

// RFC 5321 §4.1.2 / Appendix C: A-d-l = At-domain *( "," At-domain ) ":" ; accepted and
// dropped. Returns what follows the ':'.
result<std::string_view> skip_source_route(std::string_view in, bool utf8) {
    std::size_t i = 0;
    while (true) {
        if (i >= in.size() || in[i] != '@') return fail(address_errc::bad_source_route);
        const std::size_t end = in.find_first_of(",:", ++i);
        if (end == std::string_view::npos)  // "<@>" is an empty domain, "<@b>" a route with no mailbox
            return fail(i == in.size() ? address_errc::bad_domain : address_errc::bad_source_route);
        if (!is_domain_syntax(in.substr(i, end - i), utf8)) return fail(address_errc::bad_domain);
        if (in[end] == ':') return in.substr(end + 1);
        i = end + 1;
    }
}

// Index just past the quoted-string that starts at in[i], or npos if it is not closed.
std::size_t skip_quoted(std::string_view in, std::size_t i) noexcept {
    for (++i; i < in.size(); ++i) {
        if (in[i] == '\\') ++i;
        else if (in[i] == '"') return i + 1;
    }
    return std::string_view::npos;
}

// Index of the '>' that closes the path at the start of `in`, or npos. A '>' may appear inside a
// quoted local part and inside a General-address-literal (dcontent includes %d62), so the
// scan follows the grammar's outline rather than taking the first '>'.
std::size_t find_path_end(std::string_view in) noexcept {
    constexpr auto npos = std::string_view::npos;
    std::size_t i = 1;
    if (i < in.size() && in[i] == '@') {  // source route: its domains hold no '"', '[' or '>'
        i = in.find_first_of(":>", i);
        if (i == npos || in[i] == '>') return i;
        ++i;
    }
    if (i < in.size() && in[i] == '"') {
        i = skip_quoted(in, i);
        if (i == npos) return npos;
    }
    const std::size_t at = in.find_first_of("@>", i);
    if (at == npos || in[at] == '>') return at;
    if (at + 1 < in.size() && in[at + 1] == '[') {
        const std::size_t close = in.find(']', at + 1);
        if (close != npos) i = close;
    }
    return in.find('>', i);
}

result<path> parse_path_content(std::string_view inner, path_kind kind, bool utf8) {
    if (inner.empty()) {
        if (kind == path_kind::forward) return fail(address_errc::null_path_not_allowed);
        return path{};
    }
    // RFC 5321 §4.1.1.3: "Postmaster" without a domain, case-insensitive, as a recipient.
    if (kind == path_kind::forward && iequals(inner, "postmaster")) return path{std::nullopt, true};
    if (const auto ec = check_octets(inner, utf8)) return fail(ec);
    if (inner.front() == '@') {
        auto rest = skip_source_route(inner, utf8);
        if (!rest) return fail(rest.error());
        inner = *rest;
    }
    auto m = parse_mailbox_syntax(inner, utf8);
    if (!m) return fail(m.error());
    return path{std::move(*m), false};
}

}  // namespace

const std::error_category& address_category() noexcept {
    static const address_category_impl category;
    return category;
}

bool mailbox::utf8() const noexcept { return has_non_ascii(local_part) || has_non_ascii(domain); }

std::string mailbox::to_string() const { return local_part + "@" + domain; }

std::string path::to_string() const {
    if (postmaster) return "Postmaster";
    return mbox ? mbox->to_string() : std::string();
}

result<parsed_path> parse_path(std::string_view in, path_kind kind, bool allow_utf8) {
    if (in.empty()) return fail(address_errc::empty);
    if (in.front() != '<') return fail(address_errc::missing_bracket);
    const std::size_t close = find_path_end(in);
    if (close == std::string_view::npos) return fail(address_errc::unterminated);
    const std::size_t consumed = close + 1;
    if (consumed < in.size() && in[consumed] != ' ') return fail(address_errc::trailing_garbage);
    if (consumed > max_path) return fail(address_errc::too_long);
    auto p = parse_path_content(in.substr(1, close - 1), kind, allow_utf8);
    if (!p) return fail(p.error());
    return parsed_path{std::move(*p), consumed};
}

result<mailbox> parse_mailbox(std::string_view in, bool allow_utf8) {
    if (in.empty()) return fail(address_errc::empty);
    if (in.size() > max_path - 2) return fail(address_errc::too_long);  // must fit in a path
    if (const auto ec = check_octets(in, allow_utf8)) return fail(ec);
    return parse_mailbox_syntax(in, allow_utf8);
}

bool is_valid_domain(std::string_view d, bool allow_utf8) {
    return !check_octets(d, allow_utf8) && is_domain_syntax(d, allow_utf8);
}

}  // namespace postern::message
