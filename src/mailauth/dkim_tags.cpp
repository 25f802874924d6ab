// SPDX-License-Identifier: MIT
// DKIM tag-lists, signature fields and key records (RFC 6376 §3.2, §3.5, §3.6.1).
//
// Theory of operation: parse_tag_list() walks the text once, splitting it into tag-specs and
// checking the §3.2 grammar (names ALPHA *(ALPHA / DIGIT / "_"), values of VALCHAR and FWS, no
// duplicate names). The signature and key parsers then read the tags they know and ignore the
// others, as §3.2 requires ("Unrecognized tags MUST be ignored").
#include "mailauth/dkim_tags.hpp"

#include "message/base64.hpp"

#include <algorithm>
#include <limits>

namespace postern::mailauth {
namespace {

class dkim_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "dkim"; }
    std::string message(int ev) const override {
        switch (static_cast<dkim_errc>(ev)) {
            case dkim_errc::bad_tag_list: return "signature syntax error: not a tag-list";
            case dkim_errc::duplicate_tag: return "signature syntax error: duplicate tag";
            case dkim_errc::too_many_tags: return "signature syntax error: too many tags";
            case dkim_errc::missing_tag: return "signature missing required tag";
            case dkim_errc::bad_version: return "incompatible version (v= is not 1)";
            case dkim_errc::unknown_algorithm: return "unknown signing algorithm (a=)";
            case dkim_errc::bad_canonicalization: return "unknown canonicalization (c=)";
            case dkim_errc::bad_base64: return "signature syntax error: bad base64";
            case dkim_errc::bad_domain: return "signature syntax error: bad d=";
            case dkim_errc::bad_selector: return "signature syntax error: bad s=";
            case dkim_errc::identity_mismatch: return "domain mismatch (i= is not d= or a subdomain)";
            case dkim_errc::from_not_signed: return "From field not signed (h=)";
            case dkim_errc::bad_number: return "signature syntax error: bad number in l=, t= or x=";
            case dkim_errc::expiry_before_timestamp: return "signature expires before its timestamp (x= < t=)";
            case dkim_errc::bad_query_method: return "unsupported query method (q=)";
            case dkim_errc::expired: return "signature expired";
            case dkim_errc::future_timestamp: return "signature timestamp in the future";
            case dkim_errc::sha1_refused: return "rsa-sha1 is not accepted (RFC 8301)";
            case dkim_errc::header_too_large: return "header section too large";
            case dkim_errc::too_many_signatures: return "too many signatures: not verified";
            case dkim_errc::no_key: return "no key for signature";
            case dkim_errc::key_syntax: return "key syntax error";
            case dkim_errc::key_revoked: return "key revoked";
            case dkim_errc::key_hash_mismatch: return "inappropriate hash algorithm for key (h=)";
            case dkim_errc::key_type_mismatch: return "inappropriate key algorithm (k=)";
            case dkim_errc::key_service_mismatch: return "key not for email (s=)";
            case dkim_errc::key_strict_subdomain: return "key forbids subdomains in i= (t=s)";
            case dkim_errc::key_too_short: return "RSA key shorter than 1024 bits (RFC 8301)";
            case dkim_errc::bad_key: return "key syntax error: p= is not a usable key";
            case dkim_errc::body_hash_mismatch: return "body hash did not verify";
            case dkim_errc::body_length_exceeded: return "l= is longer than the body";
            case dkim_errc::bad_signature: return "signature did not verify";
            case dkim_errc::dns_temporary: return "key lookup failed temporarily";
            case dkim_errc::crypto_error: return "internal cryptography error";
            case dkim_errc::bad_pem: return "not a usable private key";
        }
        return "unknown DKIM error";
    }
};

bool is_wsp(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool is_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
// §3.2 VALCHAR = %x21-3A / %x3C-7E
bool is_valchar(char c) noexcept { return c >= 0x21 && c <= 0x7e && c != ';'; }

std::size_t skip_fws(std::string_view s, std::size_t i) noexcept {
    while (i < s.size() && is_wsp(s[i])) ++i;
    return i;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

bool iequals(std::string_view a, std::string_view b) { return lower(a) == lower(b); }

std::string strip_fws(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s)
        if (!is_wsp(c)) out += c;
    return out;
}

// Splits a colon-separated list (h=, q=, key h=, s=, t=), trimming FWS around each element.
std::vector<std::string_view> split_colon(std::string_view s) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    while (true) {
        std::size_t end = s.find(':', start);
        std::string_view item = s.substr(start, end == std::string_view::npos ? end : end - start);
        while (!item.empty() && is_wsp(item.front())) item.remove_prefix(1);
        while (!item.empty() && is_wsp(item.back())) item.remove_suffix(1);
        out.push_back(item);
        if (end == std::string_view::npos) break;
        start = end + 1;
    }
    return out;
}

// RFC 6376 §3.5: sub-domain labels of letters, digits and inner hyphens ("_" too in a selector,
// which real selectors use and the DNS carries).
bool valid_domain(std::string_view s, bool allow_underscore, std::size_t min_labels) {
    if (s.empty() || s.size() > 253) return false;
    std::size_t labels = 0;
    std::size_t start = 0;
    while (start <= s.size()) {
        std::size_t end = s.find('.', start);
        if (end == std::string_view::npos) end = s.size();
        std::string_view label = s.substr(start, end - start);
        if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
        for (char c : label)
            if (!is_alpha(c) && !is_digit(c) && c != '-' && !(allow_underscore && c == '_')) return false;
        ++labels;
        start = end + 1;
    }
    return labels >= min_labels;
}

// §3.2: 1*76DIGIT. Values too large for the type are clamped: a far future t= or x= is still a
// far future, and an l= past any body is still past it.
result<std::uint64_t> parse_number(std::string_view s) {
    if (s.empty() || s.size() > 76) return fail(dkim_errc::bad_number);
    std::uint64_t v = 0;
    for (char c : s) {
        if (!is_digit(c)) return fail(dkim_errc::bad_number);
        const auto d = static_cast<std::uint64_t>(c - '0');
        if (v > (std::numeric_limits<std::uint64_t>::max() - d) / 10) v = std::numeric_limits<std::uint64_t>::max();
        else v = v * 10 + d;
    }
    return v;
}

std::int64_t clamp_time(std::uint64_t v) noexcept {
    constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    return static_cast<std::int64_t>(std::min(v, max));
}

result<std::string> decode_base64(std::string_view value, dkim_errc err) {
    auto decoded = message::base64_decode(strip_fws(value));
    if (!decoded) return fail(err);
    return std::move(*decoded);
}

const dkim_tag* find(const std::vector<dkim_tag>& tags, std::string_view name) noexcept {
    for (const auto& t : tags)
        if (t.name == name) return &t;
    return nullptr;
}

result<dkim_algorithm> parse_algorithm(std::string_view a) {
    const std::string l = lower(a);
    if (l == "rsa-sha256") return dkim_algorithm::rsa_sha256;
    if (l == "ed25519-sha256") return dkim_algorithm::ed25519_sha256;
    if (l == "rsa-sha1") return dkim_algorithm::rsa_sha1;
    return fail(dkim_errc::unknown_algorithm);
}

result<dkim_canon> parse_canon(std::string_view c) {
    const std::string l = lower(c);
    if (l == "simple") return dkim_canon::simple;
    if (l == "relaxed") return dkim_canon::relaxed;
    return fail(dkim_errc::bad_canonicalization);
}

// §3.5 c=: "header/body"; a lone algorithm is the header's, and the body's is then "simple".
result<void> parse_c(std::string_view value, dkim_signature& sig) {
    const std::size_t slash = value.find('/');
    auto h = parse_canon(value.substr(0, slash));
    if (!h) return fail(h.error());
    sig.header_canon = *h;
    if (slash != std::string_view::npos) {
        auto b = parse_canon(value.substr(slash + 1));
        if (!b) return fail(b.error());
        sig.body_canon = *b;
    }
    return {};
}

// §3.5 h=: hdr-name *( [FWS] ":" [FWS] hdr-name ), which must include From (§6.1.1).
result<void> parse_h(std::string_view value, dkim_signature& sig) {
    bool from = false;
    for (std::string_view name : split_colon(value)) {
        if (name.empty()) return fail(dkim_errc::bad_tag_list);
        for (char c : name)  // RFC 5322 ftext
            if (c < 0x21 || c > 0x7e) return fail(dkim_errc::bad_tag_list);
        sig.signed_headers.push_back(lower(name));
        from = from || sig.signed_headers.back() == "from";
    }
    if (!from) return fail(dkim_errc::from_not_signed);
    return {};
}

// §3.5 i=: [ Local-part ] "@" domain-name, whose domain is d= or a subdomain of it.
result<void> parse_i(const dkim_tag* i, dkim_signature& sig) {
    if (!i) {
        sig.identity = "@" + sig.domain;
        sig.identity_domain = sig.domain;
        return {};
    }
    const std::size_t at = i->value.rfind('@');
    if (at == std::string_view::npos) return fail(dkim_errc::bad_tag_list);
    sig.identity = std::string(i->value);
    sig.identity_domain = lower(i->value.substr(at + 1));
    if (!valid_domain(sig.identity_domain, false, 1)) return fail(dkim_errc::identity_mismatch);
    const std::string& d = sig.domain;
    const std::string& id = sig.identity_domain;
    const bool under = id == d || (id.size() > d.size() && id.ends_with(d) && id[id.size() - d.size() - 1] == '.');
    if (!under) return fail(dkim_errc::identity_mismatch);
    return {};
}

result<void> parse_times(const std::vector<dkim_tag>& tags, dkim_signature& sig) {
    if (const auto* l = find(tags, "l")) {
        auto n = parse_number(l->value);
        if (!n) return fail(n.error());
        sig.body_length = *n;
    }
    if (const auto* t = find(tags, "t")) {
        auto n = parse_number(t->value);
        if (!n) return fail(n.error());
        sig.timestamp = clamp_time(*n);
    }
    if (const auto* x = find(tags, "x")) {
        auto n = parse_number(x->value);
        if (!n) return fail(n.error());
        sig.expiration = clamp_time(*n);
    }
    // §3.5 x=: "the value of the "x=" tag MUST be greater than the value of the "t=" tag". Equal
    // values are let through (as dkimpy does): such a signature has expired anyway.
    if (sig.timestamp && sig.expiration && *sig.expiration < *sig.timestamp)
        return fail(dkim_errc::expiry_before_timestamp);
    return {};
}

result<void> parse_q(const dkim_tag* q) {
    if (!q) return {};
    for (std::string_view method : split_colon(q->value))
        if (iequals(method, "dns/txt")) return {};
    return fail(dkim_errc::bad_query_method);
}

}  // namespace

const std::error_category& dkim_category() noexcept {
    static const dkim_category_impl category;
    return category;
}

std::string_view to_string(dkim_algorithm a) noexcept {
    switch (a) {
        case dkim_algorithm::rsa_sha1: return "rsa-sha1";
        case dkim_algorithm::rsa_sha256: return "rsa-sha256";
        case dkim_algorithm::ed25519_sha256: return "ed25519-sha256";
    }
    return "rsa-sha256";
}

std::string_view to_string(dkim_canon c) noexcept { return c == dkim_canon::relaxed ? "relaxed" : "simple"; }

result<std::vector<dkim_tag>> parse_tag_list(std::string_view text) {
    std::vector<dkim_tag> tags;
    std::size_t i = skip_fws(text, 0);
    while (i < text.size()) {
        if (tags.size() == max_tags) return fail(dkim_errc::too_many_tags);
        const std::size_t name_begin = i;
        if (!is_alpha(text[i])) return fail(dkim_errc::bad_tag_list);
        while (i < text.size() && (is_alpha(text[i]) || is_digit(text[i]) || text[i] == '_')) ++i;
        dkim_tag tag;
        tag.name = text.substr(name_begin, i - name_begin);
        i = skip_fws(text, i);
        if (i == text.size() || text[i] != '=') return fail(dkim_errc::bad_tag_list);
        tag.value_begin = ++i;
        i = skip_fws(text, i);
        const std::size_t value_begin = i;
        std::size_t value_end = i;
        for (; i < text.size() && text[i] != ';'; ++i) {
            if (is_valchar(text[i])) value_end = i + 1;
            else if (!is_wsp(text[i])) return fail(dkim_errc::bad_tag_list);
        }
        tag.value = text.substr(value_begin, value_end - value_begin);
        tag.value_end = i;
        if (find(tags, tag.name)) return fail(dkim_errc::duplicate_tag);  // §3.2
        tags.push_back(tag);
        if (i < text.size()) i = skip_fws(text, i + 1);  // past ';': a final ';' is allowed
    }
    return tags;
}

result<dkim_signature> parse_dkim_signature(std::string_view value) {
    auto tags = parse_tag_list(value);
    if (!tags) return fail(tags.error());
    // §6.1.1: "v=", "a=", "b=", "bh=", "d=", "h=", "s=" are required.
    for (std::string_view required : {"v", "a", "b", "bh", "d", "h", "s"})
        if (!find(*tags, required)) return fail(dkim_errc::missing_tag);
    if (find(*tags, "v")->value != "1") return fail(dkim_errc::bad_version);
    dkim_signature sig;
    auto alg = parse_algorithm(find(*tags, "a")->value);
    if (!alg) return fail(alg.error());
    sig.algorithm = *alg;
    const dkim_tag& b = *find(*tags, "b");
    auto b_raw = decode_base64(b.value, dkim_errc::bad_base64);
    auto bh_raw = decode_base64(find(*tags, "bh")->value, dkim_errc::bad_base64);
    if (!b_raw || !bh_raw || b_raw->empty() || bh_raw->empty()) return fail(dkim_errc::bad_base64);
    sig.b = std::move(*b_raw);
    sig.b_text = strip_fws(b.value);
    sig.bh = std::move(*bh_raw);
    sig.b_value_begin = b.value_begin;
    sig.b_value_end = b.value_end;
    if (const auto* c = find(*tags, "c"))
        if (auto r = parse_c(c->value, sig); !r) return fail(r.error());
    sig.domain = lower(find(*tags, "d")->value);
    if (!valid_domain(sig.domain, false, 1)) return fail(dkim_errc::bad_domain);
    sig.selector = lower(find(*tags, "s")->value);
    if (!valid_domain(sig.selector, true, 1)) return fail(dkim_errc::bad_selector);
    if (auto r = parse_h(find(*tags, "h")->value, sig); !r) return fail(r.error());
    if (auto r = parse_i(find(*tags, "i"), sig); !r) return fail(r.error());
    if (auto r = parse_times(*tags, sig); !r) return fail(r.error());
    if (auto r = parse_q(find(*tags, "q")); !r) return fail(r.error());
    return sig;
}

result<dkim_key_record> parse_dkim_key(std::string_view text) {
    auto tags = parse_tag_list(text);
    if (!tags) return fail(dkim_errc::key_syntax);
    // §3.6.1 v=: "If specified, this tag MUST be set to "DKIM1" ... MUST be the first tag".
    if (const auto* v = find(*tags, "v"); v && (v != &tags->front() || v->value != "DKIM1"))
        return fail(dkim_errc::key_syntax);
    dkim_key_record key;
    if (const auto* h = find(*tags, "h"))
        for (std::string_view hash : split_colon(h->value)) key.hashes.push_back(lower(hash));
    if (const auto* k = find(*tags, "k")) key.key_type = lower(k->value);
    const auto* p = find(*tags, "p");
    if (!p) return fail(dkim_errc::key_syntax);  // §3.6.1 p= is REQUIRED
    auto decoded = decode_base64(p->value, dkim_errc::key_syntax);
    if (!decoded) return fail(decoded.error());
    key.public_key = std::move(*decoded);
    if (const auto* s = find(*tags, "s"))
        for (std::string_view service : split_colon(s->value)) key.services.push_back(lower(service));
    if (const auto* t = find(*tags, "t"))
        for (std::string_view flag : split_colon(t->value)) {
            key.testing = key.testing || iequals(flag, "y");
            key.strict = key.strict || iequals(flag, "s");
        }
    return key;
}

}  // namespace postern::mailauth
