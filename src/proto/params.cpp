// SPDX-License-Identifier: MIT
#include "proto/params.hpp"

#include "proto/replies.hpp"
#include "proto/text.hpp"

#include <charconv>

namespace postern::proto {
namespace {

struct param {
    std::string keyword;  // upper-cased
    std::optional<std::string_view> value;
};

// RFC 5321 §4.1.2: esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-"); esmtp-value = 1*(%d33-60 / %d62-126)
// (RFC 6531 §3.3 widens the value to UTF-8).
std::optional<param> split_param(std::string_view p) {
    const auto eq = p.find('=');
    std::string_view key = p.substr(0, eq);
    if (key.empty() || !is_alnum(key.front())) return std::nullopt;
    for (char c : key)
        if (!is_alnum(c) && c != '-') return std::nullopt;
    param out{to_upper(key), std::nullopt};
    if (eq != std::string_view::npos) {
        std::string_view v = p.substr(eq + 1);
        if (v.empty()) return std::nullopt;
        for (unsigned char c : v)
            if (c < 33 || c == '=' || c == 127) return std::nullopt;
        out.value = v;
    }
    return out;
}

std::optional<std::uint64_t> parse_number(std::string_view v) {
    std::uint64_t n = 0;
    if (v.empty() || v.size() > 20) return std::nullopt;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc{} || p != v.data() + v.size()) return std::nullopt;
    return n;
}

std::optional<body_type> parse_body(std::string_view v, const extensions& ext) {
    const std::string u = to_upper(v);
    if (u == "7BIT") return body_type::seven_bit;
    if (u == "8BITMIME" && ext.eightbitmime) return body_type::eight_bit_mime;
    if (u == "BINARYMIME" && ext.binarymime && ext.chunking) return body_type::binary_mime;
    return std::nullopt;
}

// RFC 3461 §4.1: NOTIFY="NEVER" / 1#( "SUCCESS" / "FAILURE" / "DELAY" )
std::optional<dsn_notify> parse_notify(std::string_view v) {
    dsn_notify n;
    std::size_t items = 0;
    for (std::string_view rest = v; !rest.empty();) {
        const auto comma = rest.find(',');
        const std::string item = to_upper(rest.substr(0, comma));
        bool* flag = item == "NEVER" ? &n.never : item == "SUCCESS" ? &n.success
                   : item == "FAILURE" ? &n.failure : item == "DELAY" ? &n.delay : nullptr;
        if (!flag || *flag) return std::nullopt;
        *flag = true;
        ++items;
        if (comma == std::string_view::npos) break;
        rest = rest.substr(comma + 1);
        if (rest.empty()) return std::nullopt;
    }
    if (items == 0 || (n.never && items > 1)) return std::nullopt;
    return n;
}

// A reply for a parameter that is known but malformed or repeated.
reply bad(std::string_view keyword) { return replies::bad_parameter(keyword); }

template <class F>
std::optional<reply> for_each_param(std::string_view text, F&& apply) {
    for (std::string_view rest = text; !rest.empty();) {
        const auto sp = rest.find(' ');
        std::string_view item = rest.substr(0, sp);
        rest = sp == std::string_view::npos ? std::string_view{} : rest.substr(sp + 1);
        if (item.empty()) continue;  // tolerate repeated spaces
        auto p = split_param(item);
        if (!p) return replies::unknown_parameter(item.substr(0, item.find('=')));
        if (auto r = apply(*p)) return r;
    }
    return std::nullopt;
}

std::optional<reply> apply_mail_param(const param& p, mail_params& out, const session_config& cfg) {
    const auto& ext = cfg.ext;
    const auto& k = p.keyword;
    if (k == "SIZE" && ext.size) {
        auto n = p.value ? parse_number(*p.value) : std::nullopt;
        if (!n || out.size) return bad(k);
        out.size = *n;
    } else if (k == "BODY" && (ext.eightbitmime || ext.binarymime)) {
        auto b = p.value ? parse_body(*p.value, ext) : std::nullopt;
        if (!b || out.body != body_type::unspecified) return bad(k);
        out.body = *b;
    } else if (k == "SMTPUTF8" && ext.smtputf8) {
        if (p.value || out.smtputf8) return bad(k);
        out.smtputf8 = true;
    } else if (k == "RET" && ext.dsn) {
        const std::string v = p.value ? to_upper(*p.value) : std::string{};
        if (out.ret != dsn_ret::unspecified || (v != "FULL" && v != "HDRS")) return bad(k);
        out.ret = v == "FULL" ? dsn_ret::full : dsn_ret::hdrs;
    } else if (k == "ENVID" && ext.dsn) {
        // RFC 3461 §4.4: at most 100 characters of xtext.
        if (!p.value || out.envid || p.value->size() > 100 || !is_xtext(*p.value)) return bad(k);
        out.envid = std::string(*p.value);
    } else if (k == "AUTH") {
        // RFC 4954 §5: AUTH=<> or AUTH=xtext; accepted and kept (trusted only from authenticated peers).
        if (!p.value || out.auth || (*p.value != "<>" && !is_xtext(*p.value, true))) return bad(k);
        out.auth = std::string(*p.value);
    } else if (k == "REQUIRETLS") {
        // RFC 8689 §4.1; the session refuses it as unknown when TLS is not up (not advertised then).
        if (p.value || out.requiretls) return bad(k);
        out.requiretls = true;
    } else {
        return replies::unknown_parameter(k);
    }
    return std::nullopt;
}

std::optional<reply> apply_rcpt_param(const param& p, rcpt_params& out, const session_config& cfg) {
    const auto& k = p.keyword;
    if (k == "NOTIFY" && cfg.ext.dsn) {
        auto n = p.value ? parse_notify(*p.value) : std::nullopt;
        if (!n || out.notify) return bad(k);
        out.notify = *n;
    } else if (k == "ORCPT" && cfg.ext.dsn) {
        // RFC 3461 §4.2: ORCPT=addr-type ";" xtext, at most 500 characters.
        if (!p.value || out.orcpt || p.value->size() > 500) return bad(k);
        const auto semi = p.value->find(';');
        if (semi == 0 || semi == std::string_view::npos) return bad(k);
        std::string_view type = p.value->substr(0, semi), addr = p.value->substr(semi + 1);
        for (char c : type)
            if (!is_alnum(c) && c != '-') return bad(k);
        const bool utf8_type = to_upper(type) == "UTF-8";
        if (addr.empty() || !is_xtext(addr, utf8_type && cfg.ext.smtputf8)) return bad(k);
        out.orcpt_type = std::string(type);
        out.orcpt = std::string(addr);
    } else {
        return replies::unknown_parameter(k);
    }
    return std::nullopt;
}

}  // namespace

bool is_xtext(std::string_view s, bool allow_utf8) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == '+') {
            if (i + 2 >= s.size()) return false;
            if (!is_upper_hex(s[i + 1]) || !is_upper_hex(s[i + 2])) return false;
            i += 2;
        } else if (c >= 0x80) {
            if (!allow_utf8) return false;
        } else if (c < 33 || c > 126 || c == '=') {
            return false;
        }
    }
    return true;
}

std::string decode_xtext(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '+' && i + 2 < s.size()) {
            out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

std::variant<mail_params, reply> parse_mail_params(std::string_view text, const session_config& cfg) {
    mail_params out;
    if (auto r = for_each_param(text, [&](const param& p) { return apply_mail_param(p, out, cfg); })) return *r;
    return out;
}

std::variant<rcpt_params, reply> parse_rcpt_params(std::string_view text, const session_config& cfg) {
    rcpt_params out;
    if (auto r = for_each_param(text, [&](const param& p) { return apply_rcpt_param(p, out, cfg); })) return *r;
    return out;
}

}  // namespace postern::proto
