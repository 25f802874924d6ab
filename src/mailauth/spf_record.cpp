// SPDX-License-Identifier: MIT
// Theory of operation. A record is split on SP into terms (§4.6.1, §12); each term is a modifier
// when it starts with a modifier name followed by '=', otherwise a directive: an optional
// qualifier, a mechanism name, then the mechanism's own argument syntax. Every macro-string
// goes through one tokenizer (next_macro_token) that both the syntax check and the expansion
// use, so the two can never disagree about what is valid. Work is linear in the input; the
// only allocation that can grow with a hostile record is the vector of terms.
#include "mailauth/spf_record.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace postern::mailauth {
namespace {

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }
char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return lower(x) == lower(y);
           });
}

spf_error error(spf_errc code, std::string_view context) { return {code, std::string(context)}; }
unexpected<spf_error> fail(spf_errc code, std::string_view context) { return unexpected(error(code, context)); }

// §7.1: macro-letter, and the subset a domain-spec may use (§7.3: c, r, t only in "exp" text).
bool is_macro_letter(char c) { return std::string_view("slodiphcrtv").find(lower(c)) != std::string_view::npos; }
bool is_exp_only_letter(char c) { return std::string_view("crt").find(lower(c)) != std::string_view::npos; }
// §7.1: delimiter = "." / "-" / "+" / "," / "/" / "_" / "="
bool is_delimiter(char c) { return std::string_view(".-+,/_=").find(c) != std::string_view::npos; }

// One piece of a macro-string: a literal run, or one macro-expand.
struct macro_token {
    enum kind_t { literal, macro, escape } kind = literal;
    std::string_view text;        // literal: the run; escape: "%", " " or "%20"
    char letter = 0;              // macro: as written (upper case means URL-escape, §7.3)
    unsigned digits = 0;          // 0: keep every part
    bool reverse = false;
    std::string_view delimiters;  // empty: "."
};

// Reads the token at `s[pos]`, advancing pos. `space_ok`: an explain-string may hold SP
// (§6.2). Literals are %x21-24 / %x26-7E (§7.1).
spf_parsed<macro_token> next_macro_token(std::string_view s, std::size_t& pos, bool space_ok) {
    macro_token t;
    if (s[pos] != '%') {
        const std::size_t start = pos;
        while (pos < s.size() && s[pos] != '%') {
            const auto c = static_cast<unsigned char>(s[pos]);
            if (!((c >= 0x21 && c <= 0x7e) || (space_ok && c == ' '))) return fail(spf_errc::bad_character, s);
            ++pos;
        }
        t.text = s.substr(start, pos - start);
        return t;
    }
    if (pos + 1 >= s.size()) return fail(spf_errc::bad_macro, s);
    const char next = s[pos + 1];
    if (next == '%' || next == '_' || next == '-') {  // §7.1: "%%", "%_", "%-"
        t.kind = macro_token::escape;
        t.text = next == '%' ? "%" : next == '_' ? " " : "%20";
        pos += 2;
        return t;
    }
    if (next != '{' || pos + 2 >= s.size() || !is_macro_letter(s[pos + 2])) return fail(spf_errc::bad_macro, s);
    t.kind = macro_token::macro;
    t.letter = s[pos + 2];
    std::size_t i = pos + 3;
    const std::size_t digits_start = i;
    while (i < s.size() && is_digit(s[i])) {
        // Saturate: any count above 128 keeps every part of a name (§7.3: at least 127 supported).
        t.digits = std::min<unsigned>(t.digits * 10 + static_cast<unsigned>(s[i] - '0'), 1000);
        ++i;
    }
    // §7.3: "If a DIGIT is specified, the value MUST be nonzero."
    if (i > digits_start && t.digits == 0) return fail(spf_errc::bad_macro, s);
    if (i < s.size() && (s[i] == 'r' || s[i] == 'R')) t.reverse = true, ++i;
    const std::size_t delims_start = i;
    while (i < s.size() && is_delimiter(s[i])) ++i;
    t.delimiters = s.substr(delims_start, i - delims_start);
    if (i >= s.size() || s[i] != '}') return fail(spf_errc::bad_macro, s);
    pos = i + 1;
    return t;
}

// §7.1 macro-string syntax; reports whether the last token is a macro-expand (a domain-end).
spf_parsed<bool> check_macro_string(std::string_view s, spf_macro_use use, bool all_letters = false) {
    bool ends_in_macro = false;
    for (std::size_t pos = 0; pos < s.size();) {
        auto t = next_macro_token(s, pos, use == spf_macro_use::explanation);
        if (!t) return unexpected(std::move(t.error()));
        if (t->kind == macro_token::macro && use == spf_macro_use::domain_spec && !all_letters &&
            is_exp_only_letter(t->letter))
            return fail(spf_errc::forbidden_macro, s);
        ends_in_macro = t->kind != macro_token::literal;
    }
    return ends_in_macro;
}

// §7.1: toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum )
bool is_toplabel(std::string_view l) {
    if (l.empty() || !std::all_of(l.begin(), l.end(), [](char c) { return is_alnum(c) || c == '-'; })) return false;
    if (l.find('-') == std::string_view::npos) return std::any_of(l.begin(), l.end(), is_alpha);
    return is_alnum(l.front()) && is_alnum(l.back());
}

// §7.1: domain-spec = macro-string domain-end; domain-end = ( "." toplabel [ "." ] ) / macro-expand
std::optional<spf_error> check_domain_spec(std::string_view s) {
    if (s.empty()) return error(spf_errc::bad_domain_spec, s);
    auto macro_end = check_macro_string(s, spf_macro_use::domain_spec);
    if (!macro_end) return macro_end.error();
    if (*macro_end) return std::nullopt;
    std::string_view t = s;
    if (t.back() == '.') t.remove_suffix(1);
    const auto dot = t.rfind('.');
    if (dot == std::string_view::npos || !is_toplabel(t.substr(dot + 1))) return error(spf_errc::bad_domain_spec, s);
    return std::nullopt;
}

// §5.6: ip4-cidr-length = "/" ( "0" / %x31-39 0*1DIGIT ); ip6-cidr-length likewise, 0..128.
std::optional<unsigned> parse_cidr(std::string_view digits, unsigned max) {
    if (digits.empty() || digits.size() > 3 || !std::all_of(digits.begin(), digits.end(), is_digit)) return std::nullopt;
    if (digits.size() > 1 && digits[0] == '0') return std::nullopt;
    unsigned v = 0;
    for (char c : digits) v = v * 10 + static_cast<unsigned>(c - '0');
    if (v > max) return std::nullopt;
    return v;
}

bool all_digits(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), is_digit); }

// a and mx: [ ":" domain-spec ] [ dual-cidr-length ], where dual-cidr-length =
// [ ip4-cidr-length ] [ "/" ip6-cidr-length ]. The cidr is read from the end, ip6 part first.
std::optional<spf_error> parse_domain_and_cidr(std::string_view rest, spf_mechanism& m) {
    const std::string_view whole = m.text;
    if (auto dd = rest.rfind("//"); dd != std::string_view::npos && all_digits(rest.substr(dd + 2))) {
        auto v = parse_cidr(rest.substr(dd + 2), 128);
        if (!v) return error(spf_errc::bad_cidr, whole);
        m.cidr6 = *v;
        rest = rest.substr(0, dd);
    }
    if (auto d = rest.rfind('/'); d != std::string_view::npos && all_digits(rest.substr(d + 1))) {
        auto v = parse_cidr(rest.substr(d + 1), 32);
        if (!v) return error(spf_errc::bad_cidr, whole);
        m.cidr4 = *v;
        rest = rest.substr(0, d);
    }
    if (rest.empty()) return std::nullopt;
    if (rest[0] != ':') return error(spf_errc::bad_mechanism, whole);
    if (auto e = check_domain_spec(rest.substr(1))) return error(e->code, whole);
    m.domain_spec = std::string(rest.substr(1));
    return std::nullopt;
}

// ip4 / ip6: ":" network [ "/" cidr ].
std::optional<spf_error> parse_network(std::string_view rest, spf_mechanism& m, bool v4) {
    const std::string_view whole = m.text;
    if (rest.empty() || rest[0] != ':') return error(spf_errc::bad_mechanism, whole);
    rest.remove_prefix(1);
    const auto slash = rest.find('/');
    auto ip = parse_spf_ip(rest.substr(0, slash));
    if (!ip || ip->v4 != v4) return error(spf_errc::bad_ip, whole);
    m.network = *ip;
    if (slash != std::string_view::npos) {
        auto v = parse_cidr(rest.substr(slash + 1), v4 ? 32 : 128);
        if (!v) return error(spf_errc::bad_cidr, whole);
        (v4 ? m.cidr4 : m.cidr6) = *v;
    }
    return std::nullopt;
}

struct mechanism_name {
    std::string_view name;
    spf_mechanism_kind kind;
};
constexpr mechanism_name mechanism_names[] = {
    {"all", spf_mechanism_kind::all}, {"include", spf_mechanism_kind::include}, {"a", spf_mechanism_kind::a},
    {"mx", spf_mechanism_kind::mx},   {"ptr", spf_mechanism_kind::ptr},         {"ip4", spf_mechanism_kind::ip4},
    {"ip6", spf_mechanism_kind::ip6}, {"exists", spf_mechanism_kind::exists},
};

spf_parsed<spf_mechanism> parse_directive(std::string_view term) {
    spf_mechanism m;
    m.text = std::string(term);
    if (std::string_view("+-~?").find(term[0]) != std::string_view::npos) {
        m.qualifier = static_cast<spf_qualifier>(term[0]);
        term.remove_prefix(1);
    }
    const auto name_end = std::min(term.find_first_of(":/"), term.size());
    const auto name = term.substr(0, name_end);
    const auto rest = term.substr(name_end);
    const auto* known = std::find_if(std::begin(mechanism_names), std::end(mechanism_names),
                                     [&](const mechanism_name& n) { return iequals(n.name, name); });
    if (known == std::end(mechanism_names)) return fail(spf_errc::unknown_mechanism, m.text);
    m.kind = known->kind;
    std::optional<spf_error> e;
    switch (m.kind) {
        case spf_mechanism_kind::all:  // §5.1: "all" takes nothing
            if (!rest.empty()) e = error(spf_errc::bad_mechanism, m.text);
            break;
        case spf_mechanism_kind::include:  // §5.2, §5.7: ":" domain-spec, required
        case spf_mechanism_kind::exists:
            if (rest.empty() || rest[0] != ':') e = error(spf_errc::bad_mechanism, m.text);
            else if (auto d = check_domain_spec(rest.substr(1))) e = error(d->code, m.text);
            else m.domain_spec = std::string(rest.substr(1));
            break;
        case spf_mechanism_kind::ptr:  // §5.5: [ ":" domain-spec ], no cidr
            if (rest.empty()) break;
            if (rest[0] != ':') e = error(spf_errc::bad_mechanism, m.text);
            else if (auto d = check_domain_spec(rest.substr(1))) e = error(d->code, m.text);
            else m.domain_spec = std::string(rest.substr(1));
            break;
        case spf_mechanism_kind::a:  // §5.3, §5.4
        case spf_mechanism_kind::mx: e = parse_domain_and_cidr(rest, m); break;
        case spf_mechanism_kind::ip4: e = parse_network(rest, m, true); break;
        case spf_mechanism_kind::ip6: e = parse_network(rest, m, false); break;
    }
    if (e) return unexpected(std::move(*e));
    return m;
}

// §12: name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ); returns its length, 0 if none.
std::size_t modifier_name_length(std::string_view term) {
    if (term.empty() || !is_alpha(term[0])) return 0;
    std::size_t i = 1;
    while (i < term.size() && (is_alnum(term[i]) || term[i] == '-' || term[i] == '_' || term[i] == '.')) ++i;
    return i;
}

std::optional<spf_error> parse_modifier(std::string_view term, std::size_t name_len, spf_record& r) {
    const auto name = term.substr(0, name_len);
    const auto value = term.substr(name_len + 1);
    const bool redirect = iequals(name, "redirect"), exp = iequals(name, "exp");
    if (!redirect && !exp) {  // §6: unknown modifiers are ignored, but must still parse (§12)
        auto ok = check_macro_string(value, spf_macro_use::domain_spec, true);
        return ok ? std::nullopt : std::optional<spf_error>(error(ok.error().code, term));
    }
    auto& slot = redirect ? r.redirect : r.exp;
    if (slot) return error(spf_errc::duplicate_modifier, term);  // §6: at most once each
    if (auto e = check_domain_spec(value)) return error(e->code, term);
    slot = std::string(value);
    return std::nullopt;
}

// v4 text as the ABNF's ip4-network: four qnums, no leading zeros (§5.6).
std::optional<spf_ip> parse_ip4(std::string_view text) {
    spf_ip ip;
    for (int i = 0; i < 4; ++i) {
        const auto dot = i < 3 ? text.find('.') : text.size();
        if (dot == std::string_view::npos) return std::nullopt;
        auto v = parse_cidr(text.substr(0, dot), 255);  // same shape: 1-3 digits, no leading zero
        if (!v) return std::nullopt;
        ip.bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(*v);
        text = i < 3 ? text.substr(dot + 1) : std::string_view{};
    }
    return ip;
}

std::string ip_dotted(const spf_ip& ip) {  // %{i}: §7.3
    std::string out;
    if (ip.v4) {
        for (int i = 0; i < 4; ++i) out += (i ? "." : "") + std::to_string(ip.bytes[static_cast<std::size_t>(i)]);
        return out;
    }
    static constexpr char hex[] = "0123456789abcdef";
    for (auto b : ip.bytes) {
        if (!out.empty()) out += '.';
        out += hex[b >> 4];
        out += '.';
        out += hex[b & 0x0f];
    }
    return out;
}

std::string ip_readable(const spf_ip& ip) {  // %{c}: §7.3, RFC 5952 for IPv6 (inet_ntop's form)
    if (ip.v4) return ip_dotted(ip);
    char buf[INET6_ADDRSTRLEN] = {};
    if (inet_ntop(AF_INET6, ip.bytes.data(), buf, sizeof buf) == nullptr) return ip_dotted(ip);
    return buf;
}

std::string macro_value(char letter, const spf_macro_context& c) {
    const auto at = c.sender.rfind('@');
    switch (lower(letter)) {
        case 's': return c.sender;
        case 'l': {  // §4.3: a missing local-part is "postmaster"
            auto l = at == std::string::npos ? std::string() : c.sender.substr(0, at);
            return l.empty() ? "postmaster" : l;
        }
        case 'o': return at == std::string::npos ? c.sender : c.sender.substr(at + 1);
        case 'd': return c.domain;
        case 'i': return ip_dotted(c.ip);
        case 'p': return c.validated_ptr.empty() ? "unknown" : c.validated_ptr;
        case 'v': return c.ip.v4 ? "in-addr" : "ip6";
        case 'h': return c.helo;
        case 'c': return ip_readable(c.ip);
        case 'r': return c.receiver.empty() ? "unknown" : c.receiver;
        case 't': return std::to_string(c.now);
    }
    return {};
}

// §7.3: split on the delimiters, reverse, keep the rightmost `digits` parts, join with ".".
std::string transform(const std::string& value, const macro_token& t) {
    const std::string_view delims = t.delimiters.empty() ? std::string_view(".") : t.delimiters;
    if (!t.reverse && t.digits == 0 && delims == ".") return value;
    std::vector<std::string_view> parts;
    std::string_view v = value;
    for (std::size_t start = 0;;) {
        const auto d = v.find_first_of(delims, start);
        parts.push_back(v.substr(start, d == std::string_view::npos ? std::string_view::npos : d - start));
        if (d == std::string_view::npos) break;
        start = d + 1;
    }
    if (t.reverse) std::reverse(parts.begin(), parts.end());
    const std::size_t keep = t.digits == 0 ? parts.size() : std::min<std::size_t>(t.digits, parts.size());
    std::string out;
    for (std::size_t i = parts.size() - keep; i < parts.size(); ++i) {
        if (!out.empty() || i != parts.size() - keep) out += '.';
        out += parts[i];
    }
    return out;
}

// §7.3: an upper-case macro letter URL-escapes characters outside RFC 3986 "unreserved".
std::string url_escape(const std::string& s) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (char ch : s) {
        if (is_alnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
            out += ch;
        } else {
            const auto b = static_cast<unsigned char>(ch);
            out += '%';
            out += hex[b >> 4];
            out += hex[b & 0x0f];
        }
    }
    return out;
}

// §7.3: "When the result of macro expansion is used in a domain name query, if the expanded
// domain name exceeds 253 characters, the left side is truncated to fit, by removing successive
// domain labels (and their following dots) until the total length does not exceed 253".
void trim_left_labels(std::string& d) {
    std::size_t cut = 0;
    while (d.size() - cut > 254) {
        const auto dot = d.find('.', cut);
        if (dot == std::string::npos) break;
        cut = dot + 1;
    }
    d.erase(0, cut);
}

std::string cut_domain(std::string d) {
    if (!d.empty() && d.back() == '.') d.pop_back();
    while (d.size() > 253) {
        const auto dot = d.find('.');
        if (dot == std::string::npos) return {};
        d.erase(0, dot + 1);
    }
    return d;
}

}  // namespace

std::string spf_error::message() const {
    std::string_view what = "SPF syntax error";
    switch (code) {
        case spf_errc::no_record: what = "no SPF record"; break;
        case spf_errc::multiple_records: what = "more than one SPF record"; break;
        case spf_errc::not_spf1: what = "not an SPF version 1 record"; break;
        case spf_errc::unknown_mechanism: what = "unknown mechanism"; break;
        case spf_errc::bad_mechanism: what = "malformed mechanism"; break;
        case spf_errc::bad_cidr: what = "bad CIDR length"; break;
        case spf_errc::bad_ip: what = "bad IP network"; break;
        case spf_errc::bad_domain_spec: what = "bad domain-spec"; break;
        case spf_errc::bad_macro: what = "bad macro"; break;
        case spf_errc::forbidden_macro: what = "c, r or t macro outside exp"; break;
        case spf_errc::duplicate_modifier: what = "repeated modifier"; break;
        case spf_errc::bad_character: what = "invalid character"; break;
        case spf_errc::too_long: what = "macro expansion too long"; break;
    }
    // Printable ASCII only, and not too much of it: the context comes from the DNS.
    std::string ctx;
    for (char c : context.substr(0, 80)) ctx += (c >= 0x20 && c < 0x7f) ? c : '?';
    if (context.size() > 80) ctx += "...";
    return ctx.empty() ? std::string(what) : std::string(what) + ": " + ctx;
}

std::optional<spf_ip> parse_spf_ip(std::string_view text) {
    if (text.find(':') == std::string_view::npos) return parse_ip4(text);
    // inet_pton reads a C string: refuse anything that is not IPv6 text first (a NUL included).
    if (text.size() > 45 || !std::all_of(text.begin(), text.end(), [](char c) {
            return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
        }))
        return std::nullopt;
    spf_ip ip;
    ip.v4 = false;
    if (inet_pton(AF_INET6, std::string(text).c_str(), ip.bytes.data()) != 1) return std::nullopt;
    return ip;
}

bool spf_ip_in_network(const spf_ip& a, const spf_ip& network, unsigned prefix) {
    if (a.v4 != network.v4) return false;
    prefix = std::min(prefix, a.v4 ? 32u : 128u);
    const std::size_t full = prefix / 8;
    if (std::memcmp(a.bytes.data(), network.bytes.data(), full) != 0) return false;
    if (prefix % 8 == 0) return true;
    const auto mask = static_cast<std::uint8_t>(0xff << (8 - prefix % 8));
    return (a.bytes[full] & mask) == (network.bytes[full] & mask);
}

bool spf_record::has_all() const {
    return std::any_of(mechanisms.begin(), mechanisms.end(),
                       [](const spf_mechanism& m) { return m.kind == spf_mechanism_kind::all; });
}

spf_parsed<std::string> select_spf_record(const std::vector<std::string>& txt_texts) {
    std::optional<std::string> found;
    for (const auto& t : txt_texts) {
        if (t.size() < 6 || !iequals(std::string_view(t).substr(0, 6), "v=spf1")) continue;
        if (t.size() > 6 && t[6] != ' ') continue;  // "v=spf10", "v=spf1x": another version
        if (found) return fail(spf_errc::multiple_records, "");
        found = t;
    }
    if (!found) return fail(spf_errc::no_record, "");
    return std::move(*found);
}

spf_parsed<spf_record> parse_spf_record(std::string_view text) {
    if (text.size() < 6 || !iequals(text.substr(0, 6), "v=spf1") || (text.size() > 6 && text[6] != ' '))
        return fail(spf_errc::not_spf1, text.substr(0, 16));
    spf_record r;
    text.remove_prefix(6);
    // §12: terms = *( 1*SP ( directive / modifier ) ), then *SP: only SP separates terms, so a
    // TAB or any other byte outside %x21-7E inside a term is an error, found by the term parsers.
    while (!text.empty()) {
        const auto start = text.find_first_not_of(' ');
        if (start == std::string_view::npos) break;
        text.remove_prefix(start);
        const auto end = std::min(text.find(' '), text.size());
        const auto term = text.substr(0, end);
        text.remove_prefix(end);
        if (auto bad = std::find_if(term.begin(), term.end(), [](char c) {
                return static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e;
            });
            bad != term.end())
            return fail(spf_errc::bad_character, term);
        const auto name_len = modifier_name_length(term);
        if (name_len > 0 && name_len < term.size() && term[name_len] == '=') {
            if (auto e = parse_modifier(term, name_len, r)) return unexpected(std::move(*e));
            continue;
        }
        auto m = parse_directive(term);
        if (!m) return unexpected(std::move(m.error()));
        r.mechanisms.push_back(std::move(*m));
    }
    return r;
}

spf_parsed<std::string> expand_spf_macro(std::string_view s, const spf_macro_context& ctx, spf_macro_use use) {
    std::string out;
    for (std::size_t pos = 0; pos < s.size();) {
        auto t = next_macro_token(s, pos, use == spf_macro_use::explanation);
        if (!t) return unexpected(std::move(t.error()));
        if (t->kind != macro_token::macro) {
            out += t->text;
        } else {
            if (use == spf_macro_use::domain_spec && is_exp_only_letter(t->letter))
                return fail(spf_errc::forbidden_macro, s);
            auto v = transform(macro_value(t->letter, ctx), *t);
            out += (t->letter >= 'A' && t->letter <= 'Z') ? url_escape(v) : v;
        }
        // Hostile records repeat long macros. A domain-spec loses its leftmost labels as it
        // grows (the final cut_domain would remove them anyway: while the prefix alone is over
        // 254 octets, one trailing dot included, the whole is over 253), so memory stays bounded.
        if (use == spf_macro_use::domain_spec) trim_left_labels(out);
        if (out.size() > max_spf_expansion) return fail(spf_errc::too_long, s.substr(0, 32));
    }
    if (use == spf_macro_use::domain_spec) return cut_domain(std::move(out));
    return out;
}

bool spf_macro_uses(std::string_view s, char letter) {
    for (auto p = s.find("%{"); p != std::string_view::npos; p = s.find("%{", p + 2)) {
        // "%%{" is an escaped '%' followed by a literal '{': skip it.
        std::size_t run = 0;
        while (run < p && s[p - 1 - run] == '%') ++run;
        if (run % 2 == 1) continue;
        if (p + 2 < s.size() && lower(s[p + 2]) == lower(letter)) return true;
    }
    return false;
}

}  // namespace postern::mailauth
