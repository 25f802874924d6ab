// SPDX-License-Identifier: MIT
// RFC 8601 §2.2 in brief: the field is an authserv-id, then one resinfo per check, each brought
// in by ';': "method=result [reason=value] [ptype.property=pvalue ...]", with CFWS (comments
// included) allowed between the parts. A value is an RFC 2045 token or a quoted-string; a pvalue
// may also be a bare domain or [local-part] "@" domain. Every string we are given may come from
// the network (a DKIM d=, an EHLO argument, a reason built from a record), so everything is
// cleaned of control characters before it is written: a CR or LF would end the field and let the
// sender add header fields of its choosing. Each resinfo starts a line; items are then packed
// greedily and folded with CRLF TAB (RFC 5322 §2.2.3) where a line would pass 78 characters.
#include "message/authentication_results.hpp"

#include <algorithm>
#include <cstddef>

namespace postern::message {
namespace {

constexpr std::size_t max_line = 78;  // RFC 5322 §2.1.1, CRLF excluded

bool is_ctl(unsigned char c) noexcept { return c < 0x20 || c == 0x7F; }

bool is_alnum(unsigned char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// RFC 2045 §5.1: token := 1*<any (US-ASCII) CHAR except SPACE, CTLs, or tspecials>.
bool is_token_char(unsigned char c) noexcept {
    if (c <= 0x20 || c >= 0x7F) return false;
    constexpr std::string_view tspecials = "()<>@,;:\\\"/[]?=";
    return tspecials.find(static_cast<char>(c)) == std::string_view::npos;
}

bool is_token(std::string_view s) noexcept {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return is_token_char(static_cast<unsigned char>(c)); });
}

// RFC 5322 §3.2.3 atext, with RFC 6532's UTF-8 octets.
bool is_atext(unsigned char c) noexcept {
    if (is_alnum(c) || c >= 0x80) return true;
    constexpr std::string_view extra = "!#$%&'*+-/=?^_`{|}~";
    return extra.find(static_cast<char>(c)) != std::string_view::npos;
}

bool is_dot_atom(std::string_view s) noexcept {
    if (s.empty() || s.front() == '.' || s.back() == '.' || s.find("..") != std::string_view::npos) return false;
    return std::all_of(s.begin(), s.end(), [](char c) { return c == '.' || is_atext(static_cast<unsigned char>(c)); });
}

// A domain-name as pvalue allows it: letters, digits, hyphens (and UTF-8 U-label octets, RFC
// 6532) in dot-separated labels that neither start nor end with a hyphen.
bool is_domain(std::string_view s) noexcept {
    if (s.empty() || s.size() > 255) return false;
    std::size_t start = 0;
    while (start <= s.size()) {
        const std::size_t dot = std::min(s.find('.', start), s.size());
        const std::string_view label = s.substr(start, dot - start);
        if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
        for (char ch : label) {
            const auto c = static_cast<unsigned char>(ch);
            if (!is_alnum(c) && c != '-' && c < 0x80) return false;
        }
        start = dot + 1;
    }
    return true;
}

// Cuts at most `max` octets without splitting a UTF-8 sequence, and turns every control
// character into a space.
std::string clean(std::string_view in, std::size_t max) {
    std::size_t n = std::min(in.size(), max);
    if (n < in.size()) {
        while (n > 0 && (static_cast<unsigned char>(in[n]) & 0xC0) == 0x80) --n;
    }
    std::string out(in.substr(0, n));
    for (char& ch : out)
        if (is_ctl(static_cast<unsigned char>(ch))) ch = ' ';
    return out;
}

// Method, result, ptype and property names are keywords (RFC 8601 §2.2, RFC 5321 Keyword):
// anything else is replaced so that a bad name cannot change the structure of the field.
std::string keyword(std::string_view in) {
    std::string out = clean(in, 64);
    for (char& ch : out)
        if (!is_alnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_') ch = '-';
    return out.empty() ? std::string("-") : out;
}

std::string quoted(std::string_view text) {
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    out += '"';
    return out;
}

std::string comment(std::string_view text) {
    std::string out = "(";
    for (char c : clean(text, max_ar_comment)) {
        if (c == '(' || c == ')' || c == '\\') out += '\\';
        out += c;
    }
    out += ')';
    return out;
}

std::vector<std::string> items_of(const ar_result& r) {
    std::vector<std::string> items;
    items.push_back(keyword(r.method) + "=" + keyword(r.result));
    if (!r.comment.empty()) items.push_back(comment(r.comment));
    if (!r.reason.empty()) items.push_back("reason=" + quoted(clean(r.reason, max_ar_comment)));
    for (const ar_property& p : r.properties) items.push_back(keyword(p.ptype) + "." + keyword(p.property) + "=" + ar_value(p.value));
    return items;
}

// Writes one resinfo on a new line, packing its items and folding where a line would pass 78.
void append_resinfo(std::string& out, const std::vector<std::string>& items, bool last) {
    std::size_t column = 1;  // the TAB that starts the line
    out += "\r\n\t";
    for (std::size_t i = 0; i < items.size(); ++i) {
        std::string item = items[i];
        if (!last && i + 1 == items.size()) item += ';';
        if (i > 0) {
            if (column + 1 + item.size() > max_line) {
                out += "\r\n\t";
                column = 1;
            } else {
                out += ' ';
                ++column;
            }
        }
        out += item;
        column += item.size();
    }
}

// RFC 5322 §3.2.2 CFWS, nested comments and quoted-pairs included, and the CRLFs of folding.
// Returns false on an unterminated comment.
bool skip_cfws(std::string_view s, std::size_t& i) noexcept {
    while (i < s.size()) {
        const char c = s[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            ++i;
        } else if (c == '(') {
            std::size_t depth = 0;
            for (; i < s.size(); ++i) {
                if (s[i] == '\\') ++i;
                else if (s[i] == '(') ++depth;
                else if (s[i] == ')' && --depth == 0) break;
            }
            if (i >= s.size()) return false;
            ++i;
        } else {
            break;
        }
    }
    return true;
}

bool iequal_ascii(std::string_view a, std::string_view b) noexcept {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [&](char x, char y) { return lower(x) == lower(y); });
}

}  // namespace

std::string ar_value(std::string_view value) {
    const std::string v = clean(value, max_ar_value);
    if (is_token(v) || is_domain(v)) return v;
    // pvalue = [CFWS] ( value / [ [ local-part ] "@" ] domain-name ) [CFWS]
    const std::size_t at = v.rfind('@');
    if (at != std::string::npos && is_domain(std::string_view(v).substr(at + 1)) &&
        (at == 0 || is_dot_atom(std::string_view(v).substr(0, at))))
        return v;
    return quoted(v);
}

std::string format_authentication_results(const authentication_results_field& field) {
    std::string id = clean(field.authserv_id, 255);
    if (!is_token(id)) id = quoted(id);
    std::string out = "Authentication-Results: " + id + ";";
    if (field.results.empty()) {
        out += " none\r\n";  // §2.2 no-result: no method was applied
        return out;
    }
    for (std::size_t i = 0; i < field.results.size(); ++i)
        append_resinfo(out, items_of(field.results[i]), i + 1 == field.results.size());
    out += "\r\n";
    return out;
}

bool is_own_authentication_results(std::string_view field_value, std::string_view authserv_id) noexcept {
    std::size_t i = 0;
    if (!skip_cfws(field_value, i) || i >= field_value.size()) return false;
    std::string id;
    if (field_value[i] == '"') {
        // RFC 5322 §3.2.4 quoted-string; the id is its content with the quoted-pairs undone.
        for (++i; i < field_value.size() && field_value[i] != '"'; ++i) {
            if (field_value[i] == '\\' && ++i >= field_value.size()) return false;
            if (id.size() > 255) return false;
            id += field_value[i];
        }
        if (i >= field_value.size()) return false;
        ++i;
    } else {
        const std::size_t start = i;
        while (i < field_value.size() && is_token_char(static_cast<unsigned char>(field_value[i]))) ++i;
        id = field_value.substr(start, i - start);
    }
    if (id.empty()) return false;
    // What follows the authserv-id: CFWS, a version, ';' or the end. Anything else means we have
    // not read an authserv-id at all ("mx.example@evil").
    if (i < field_value.size()) {
        const char c = field_value[i];
        if (c != ';' && c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != '(') return false;
    }
    return iequal_ascii(id, authserv_id);
}

}  // namespace postern::message
