// SPDX-License-Identifier: MIT
// RFC 7489 §6.6.1 narrows RFC 5322's From to what DMARC can judge: exactly one From field
// holding exactly one mailbox with a domain. The address grammar itself (comments, quoted local
// parts, obs- forms, RFC 6532 UTF-8) is message::parse_address_list()'s; this file adds the
// DMARC rules on top of it, and the one thing that parser does not report: whether the mailboxes
// came from a group (RFC 6854), seen as a ':' outside quotes, comments, brackets and literals.
#include "mailauth/from_parse.hpp"

#include "message/header_scan.hpp"

#include <algorithm>
#include <vector>

namespace postern::mailauth {
namespace {

class from_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "postern.dmarc_from"; }
    std::string message(int ev) const override {
        switch (static_cast<from_errc>(ev)) {
            case from_errc::no_from: return "no From header field";
            case from_errc::multiple_from: return "more than one From header field";
            case from_errc::multiple_addresses: return "more than one address in From";
            case from_errc::group: return "From is a group";
            case from_errc::no_domain: return "the From address has no domain";
            case from_errc::bad_syntax: return "From is not a valid address";
        }
        return "unknown From error";
    }
};

char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// A ':' at the top level of an address that parsed is a group's (RFC 5322 §3.4); the one of an
// obs-route sits inside '<...>'.
bool has_group(std::string_view v) noexcept {
    std::size_t comment = 0;
    bool quoted = false, angle = false, literal = false;
    for (std::size_t i = 0; i < v.size(); ++i) {
        const char c = v[i];
        if (c == '\\' && (quoted || comment > 0 || literal)) {
            ++i;
        } else if (quoted) {
            quoted = c != '"';
        } else if (comment > 0) {
            if (c == '(') ++comment;
            else if (c == ')') --comment;
        } else if (literal) {
            literal = c != ']';
        } else if (c == '"') {
            quoted = true;
        } else if (c == '(') {
            comment = 1;
        } else if (c == '[') {
            literal = true;
        } else if (c == '<') {
            angle = true;
        } else if (c == '>') {
            angle = false;
        } else if (c == ':' && !angle) {
            return true;
        }
    }
    return false;
}

// RFC 5322 §2.2.3: unfolding removes each CRLF that is followed by WSP. Any other CR or LF is
// left in place for the address parser to refuse.
std::string unfold(std::string_view v) {
    std::string out;
    out.reserve(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '\r' && i + 2 < v.size() && v[i + 1] == '\n' && (v[i + 2] == ' ' || v[i + 2] == '\t')) {
            ++i;
            continue;
        }
        out += v[i];
    }
    return out;
}

std::string_view strip_dot(std::string_view d) noexcept {
    if (!d.empty() && d.back() == '.') d.remove_suffix(1);
    return d;
}

}  // namespace

const std::error_category& from_category() noexcept {
    static const from_category_impl category;
    return category;
}

result<std::string> from_domain(std::string_view from_value) {
    if (from_value.size() > max_from_value) return fail(from_errc::bad_syntax);
    const std::string unfolded = unfold(from_value);
    from_value = unfolded;
    std::vector<message::mailbox> boxes;
    // Two mailboxes are enough to know there are several; the parser stops at the limit.
    const std::error_code ec = message::parse_address_list(from_value, boxes, 2);
    if (ec == message::header_errc::too_many_mailboxes) {
        return fail(has_group(from_value) ? from_errc::group : from_errc::multiple_addresses);
    }
    if (ec) return fail(from_errc::bad_syntax);
    if (has_group(from_value)) return fail(from_errc::group);
    if (boxes.size() != 1) return fail(boxes.empty() ? from_errc::no_from : from_errc::multiple_addresses);
    const message::mailbox& m = boxes.front();
    if (m.address_literal) return fail(from_errc::no_domain);
    const std::string_view d = strip_dot(m.domain);
    if (d.empty()) return fail(from_errc::no_domain);
    std::string out(d);
    std::transform(out.begin(), out.end(), out.begin(), lower);
    return out;
}

result<std::string> from_domain(std::span<const std::string_view> from_values) {
    if (from_values.empty()) return fail(from_errc::no_from);
    if (from_values.size() > 1) return fail(from_errc::multiple_from);
    return from_domain(from_values.front());
}

bool same_domain(std::string_view a, std::string_view b) noexcept {
    a = strip_dot(a);
    b = strip_dot(b);
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

}  // namespace postern::mailauth
