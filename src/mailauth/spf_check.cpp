// SPDX-License-Identifier: MIT
// Theory of operation. check_host() keeps one `evaluation` (the request, the counters of
// §4.6.4 and the PTR names once fetched) in its frame and awaits evaluate() for <domain>;
// evaluate() fetches and parses the record (§4.4-§4.6), walks its mechanisms in order (§4.6.2),
// then follows redirect= (§6.1), and awaits itself for include: and redirect=. The counters
// are shared by the whole tree, so the limits bound the recursion: every include and redirect
// costs one of the 10 DNS-querying terms. A term's outcome is a `term` value (match, no
// match, or an error that ends the evaluation); errors carry their reason up unchanged.
#include "mailauth/spf_check.hpp"

#include "mailauth/spf_record.hpp"

#include <algorithm>
#include <optional>
#include <vector>

namespace postern::mailauth {
namespace {

// What one level of check_host() decided.
struct level {
    spf_result result = spf_result::none;
    std::string mechanism;
    std::string reason;
    std::string explanation;
};

// A mechanism's outcome: match, no match, or an error result that ends the evaluation.
struct term {
    enum kind_t { no_match, match, error } kind = no_match;
    spf_result error_result = spf_result::permerror;
    std::string reason;
    static term failed(spf_result r, std::string why) { return {error, r, std::move(why)}; }
    static term matched(bool m = true) { return {m ? match : no_match, spf_result::permerror, {}}; }
};

struct evaluation {
    dns::resolver& r;
    spf_request req;
    spf_ip ip;
    unsigned dns_terms = 0;
    unsigned void_lookups = 0;
    std::optional<std::vector<std::string>> validated;  // §5.5: the validated PTR names, once found
};

spf_ip to_spf_ip(asio::ip::address a) {
    spf_ip ip;
    // §5: an IPv4-mapped IPv6 <ip> (::ffff:192.0.2.1) is an IPv4 client on a dual-stack socket.
    if (a.is_v6() && a.to_v6().is_v4_mapped()) a = asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
    ip.v4 = a.is_v4();
    if (ip.v4) {
        const auto b = a.to_v4().to_bytes();
        std::copy(b.begin(), b.end(), ip.bytes.begin());
    } else {
        ip.bytes = a.to_v6().to_bytes();
    }
    return ip;
}

asio::ip::address to_address(const spf_ip& ip) {
    if (ip.v4) return asio::ip::address_v4({ip.bytes[0], ip.bytes[1], ip.bytes[2], ip.bytes[3]});
    return asio::ip::address_v6(ip.bytes);
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; });
    return s;
}

// §4.3: "If the <domain> is malformed (e.g., label longer than 63 characters, zero-length label
// not at the end, etc.) or is not a multi-label domain name ... check_host() immediately
// returns the result "none"". An address literal ("[192.0.2.1]" as a HELO) is not a name.
bool valid_domain(std::string_view d) {
    if (!d.empty() && d.back() == '.') d.remove_suffix(1);
    if (d.empty() || d.size() > 253 || d.front() == '[') return false;
    std::size_t labels = 0;
    for (std::size_t start = 0;;) {
        const auto dot = d.find('.', start);
        const auto len = (dot == std::string_view::npos ? d.size() : dot) - start;
        if (len == 0 || len > 63) return false;
        ++labels;
        if (dot == std::string_view::npos) break;
        start = dot + 1;
    }
    return labels >= 2 && std::none_of(d.begin(), d.end(), [](char c) {
               return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f;
           });
}

// The sender with "postmaster" for a missing local part (§4.3).
std::string full_sender(const std::string& sender, const std::string& domain) {
    const auto at = sender.rfind('@');
    if (sender.empty()) return "postmaster@" + domain;
    if (at == std::string::npos) return "postmaster@" + sender;
    if (at == 0) return "postmaster" + sender;
    return sender;
}

std::string dns_failure(dns::status s, dns::record_type t, const std::string& name) {
    return "DNS " + std::string(to_string(t)) + " " + name + ": " + std::string(dns::describe(s));
}

// NXDOMAIN, NODATA, and a name the DNS cannot hold: nothing to match, and a void look-up (§4.6.4).
bool is_void(dns::status s) {
    return s == dns::status::nxdomain || s == dns::status::no_records || s == dns::status::bad_name;
}

std::optional<term> count_void(evaluation& ev) {
    if (++ev.void_lookups > ev.req.limits.max_void_lookups)
        return term::failed(spf_result::permerror,
                            "more than " + std::to_string(ev.req.limits.max_void_lookups) + " void DNS lookups");
    return std::nullopt;
}

// A or AAAA, as <ip> is IPv4 or IPv6. (An if, not `co_await (v4 ? x : y)`: with GCC 12 that
// form ended in a double free of the awaitable's frame in our tests.)
asio::awaitable<dns::address_answer> addresses_of(dns::resolver& r, std::string name, bool v4) {
    if (v4) co_return co_await dns::async_a(r, std::move(name));
    co_return co_await dns::async_aaaa(r, std::move(name));
}

// §5.5: PTR names of <ip>, at most max_ptr_names of them, each validated by a forward look-up
// that finds <ip>. Any DNS error only leaves names out: it never becomes temperror.
asio::awaitable<const std::vector<std::string>*> validated_names(evaluation& ev, bool count) {
    if (ev.validated) co_return &*ev.validated;
    ev.validated.emplace();
    auto ptr = co_await dns::async_ptr(ev.r, to_address(ev.ip));
    if (!ptr.ok()) {
        if (count && is_void(ptr.status)) ++ev.void_lookups;
        co_return &*ev.validated;
    }
    if (ptr.records.size() > ev.req.limits.max_ptr_names) ptr.records.resize(ev.req.limits.max_ptr_names);
    const auto me = to_address(ev.ip);
    for (auto& name : ptr.records) {
        auto a = co_await addresses_of(ev.r, name, ev.ip.v4);
        if (a.ok() && std::find(a.records.begin(), a.records.end(), me) != a.records.end())
            ev.validated->push_back(lower(name));
    }
    co_return &*ev.validated;
}

bool is_same_or_sub(const std::string& name, const std::string& target) {
    return name == target || (name.size() > target.size() && name.ends_with(target) &&
                              name[name.size() - target.size() - 1] == '.');
}

// %{p} (§7.3): a validated name equal to <domain>, else one below it, else any, else "unknown".
asio::awaitable<spf_macro_context> context_for(evaluation& ev, std::string domain, bool need_p) {
    spf_macro_context c{ev.req.sender, domain, ev.ip, ev.req.helo, ev.req.receiver, ev.req.now, {}};
    if (!need_p) co_return c;
    const auto* names = co_await validated_names(ev, false);
    const std::string d = lower(domain);
    for (int pass = 0; pass < 3 && c.validated_ptr.empty(); ++pass)
        for (const auto& n : *names)
            if ((pass == 0 && n == d) || (pass == 1 && is_same_or_sub(n, d)) || pass == 2) {
                c.validated_ptr = n;
                break;
            }
    co_return c;
}

// A mechanism's target-name: <domain> when it has no domain-spec, otherwise the expansion.
asio::awaitable<spf_parsed<std::string>> target_of(evaluation& ev, std::string spec, std::string domain) {
    if (spec.empty()) co_return domain;
    auto ctx = co_await context_for(ev, domain, spf_macro_uses(spec, 'p'));
    co_return expand_spf_macro(spec, ctx, spf_macro_use::domain_spec);
}

// The A (IPv4 <ip>) or AAAA (IPv6) records of `name`, compared with <ip> under the cidr.
asio::awaitable<term> match_addresses(evaluation& ev, std::string name, unsigned cidr4, unsigned cidr6, bool count) {
    const auto type = ev.ip.v4 ? dns::record_type::a : dns::record_type::aaaa;
    auto a = co_await addresses_of(ev.r, name, ev.ip.v4);
    if (is_void(a.status)) {
        if (count)
            if (auto e = count_void(ev)) co_return *e;
        co_return term{};
    }
    if (!a.ok()) co_return term::failed(spf_result::temperror, dns_failure(a.status, type, name));
    for (const auto& addr : a.records)
        if (spf_ip_in_network(ev.ip, to_spf_ip(addr), ev.ip.v4 ? cidr4 : cidr6)) co_return term::matched();
    co_return term{};
}

// §5.4: every MX host's addresses; more than max_mx_names MX records is a permerror.
asio::awaitable<term> match_mx(evaluation& ev, std::string name, unsigned cidr4, unsigned cidr6) {
    auto mx = co_await dns::async_mx(ev.r, name);
    if (is_void(mx.status)) {
        if (auto e = count_void(ev)) co_return *e;
        co_return term{};
    }
    if (!mx.ok()) co_return term::failed(spf_result::temperror, dns_failure(mx.status, dns::record_type::mx, name));
    if (mx.records.size() > ev.req.limits.max_mx_names)
        co_return term::failed(spf_result::permerror, "more than " + std::to_string(ev.req.limits.max_mx_names) +
                                                          " MX records for " + name);
    for (const auto& host : mx.records) {
        if (host.host == ".") continue;  // RFC 7505 null MX: no addresses
        auto t = co_await match_addresses(ev, host.host, cidr4, cidr6, false);
        if (t.kind != term::no_match) co_return t;
    }
    co_return term{};
}

asio::awaitable<level> evaluate(evaluation& ev, std::string domain, bool want_exp);

// §5.2: the include table. pass is a match; fail, softfail and neutral are not; none becomes
// permerror; temperror and permerror end the evaluation.
asio::awaitable<term> match_include(evaluation& ev, std::string target) {
    auto inner = co_await evaluate(ev, target, false);
    switch (inner.result) {
        case spf_result::pass: co_return term::matched();
        case spf_result::fail:
        case spf_result::softfail:
        case spf_result::neutral: co_return term{};
        case spf_result::temperror: co_return term::failed(spf_result::temperror, inner.reason);
        case spf_result::permerror: co_return term::failed(spf_result::permerror, inner.reason);
        case spf_result::none: break;
    }
    co_return term::failed(spf_result::permerror, "include:" + target + ": " + inner.reason);
}

asio::awaitable<term> match_exists(evaluation& ev, std::string name) {
    auto a = co_await dns::async_a(ev.r, name);  // §5.7: always A, whatever <ip> is
    if (a.ok()) co_return term::matched();
    if (is_void(a.status)) {
        if (auto e = count_void(ev)) co_return *e;
        co_return term{};
    }
    co_return term::failed(spf_result::temperror, dns_failure(a.status, dns::record_type::a, name));
}

asio::awaitable<term> match_ptr(evaluation& ev, std::string target) {
    const unsigned voids = ev.void_lookups;
    const auto* names = co_await validated_names(ev, true);
    if (ev.void_lookups != voids) {  // the PTR look-up itself was void: count it against the limit
        --ev.void_lookups;
        if (auto e = count_void(ev)) co_return *e;
    }
    const std::string t = lower(target);
    for (const auto& n : *names)
        if (is_same_or_sub(n, t)) co_return term::matched();
    co_return term{};
}

asio::awaitable<term> match(evaluation& ev, const spf_mechanism& m, std::string domain) {
    using k = spf_mechanism_kind;
    if (m.kind == k::all) co_return term::matched();
    if (m.kind == k::ip4 || m.kind == k::ip6)
        co_return term::matched(spf_ip_in_network(ev.ip, m.network, m.network.v4 ? m.cidr4 : m.cidr6));
    // §4.6.4: each of include, a, mx, ptr and exists costs one of the 10 DNS-querying terms.
    if (++ev.dns_terms > ev.req.limits.max_dns_terms)
        co_return term::failed(spf_result::permerror,
                               "more than " + std::to_string(ev.req.limits.max_dns_terms) + " DNS lookups");
    auto target = co_await target_of(ev, m.domain_spec, domain);
    if (!target) co_return term::failed(spf_result::permerror, target.error().message());
    switch (m.kind) {
        case k::a: co_return co_await match_addresses(ev, *target, m.cidr4, m.cidr6, true);
        case k::mx: co_return co_await match_mx(ev, *target, m.cidr4, m.cidr6);
        case k::ptr: co_return co_await match_ptr(ev, *target);
        case k::exists: co_return co_await match_exists(ev, *target);
        case k::include: co_return co_await match_include(ev, *target);
        default: break;
    }
    co_return term{};
}

spf_result result_of(spf_qualifier q) {
    switch (q) {
        case spf_qualifier::pass: return spf_result::pass;
        case spf_qualifier::fail: return spf_result::fail;
        case spf_qualifier::softfail: return spf_result::softfail;
        case spf_qualifier::neutral: return spf_result::neutral;
    }
    return spf_result::neutral;
}

// §6.2: any DNS error, no record or several, or a syntax error: as if there were no exp=.
asio::awaitable<std::string> explanation(evaluation& ev, std::string spec, std::string domain) {
    auto target = co_await target_of(ev, spec, domain);
    if (!target || !valid_domain(*target)) co_return std::string();
    auto txt = co_await dns::async_txt(ev.r, *target);
    if (!txt.ok() || txt.records.size() != 1) co_return std::string();
    const std::string text = txt.records[0].text;
    auto ctx = co_await context_for(ev, domain, spf_macro_uses(text, 'p'));
    auto expanded = expand_spf_macro(text, ctx, spf_macro_use::explanation);
    co_return expanded ? *expanded : std::string();
}

// §4.4-§4.5: the one SPF record of `domain`, or the level result that ends the evaluation.
asio::awaitable<expected<spf_record, level>> fetch_record(evaluation& ev, std::string domain) {
    auto txt = co_await dns::async_txt(ev.r, domain);
    if (txt.status == dns::status::nxdomain || txt.status == dns::status::no_records ||
        txt.status == dns::status::bad_name)
        co_return unexpected(level{spf_result::none, "", "no SPF record at " + domain, ""});
    if (!txt.ok())
        co_return unexpected(level{spf_result::temperror, "", dns_failure(txt.status, dns::record_type::txt, domain), ""});
    std::vector<std::string> texts;
    for (auto& t : txt.records) texts.push_back(std::move(t.text));
    auto chosen = select_spf_record(texts);
    if (!chosen && chosen.error().code == spf_errc::no_record)
        co_return unexpected(level{spf_result::none, "", "no SPF record at " + domain, ""});
    if (!chosen) co_return unexpected(level{spf_result::permerror, "", "more than one SPF record at " + domain, ""});
    auto parsed = parse_spf_record(*chosen);
    if (!parsed) co_return unexpected(level{spf_result::permerror, "", domain + ": " + parsed.error().message(), ""});
    co_return std::move(*parsed);
}

asio::awaitable<level> evaluate(evaluation& ev, std::string domain, bool want_exp) {
    if (!valid_domain(domain)) co_return level{spf_result::none, "", "malformed domain: " + domain.substr(0, 64), ""};
    if (domain.back() == '.') domain.pop_back();
    auto record = co_await fetch_record(ev, domain);
    if (!record) co_return std::move(record.error());
    for (const auto& m : record->mechanisms) {
        auto t = co_await match(ev, m, domain);
        if (t.kind == term::error) co_return level{t.error_result, m.text, std::move(t.reason), ""};
        if (t.kind == term::no_match) continue;
        level l{result_of(m.qualifier), m.text, "matched " + m.text + " at " + domain, ""};
        if (l.result == spf_result::fail && want_exp && record->exp)
            l.explanation = co_await explanation(ev, *record->exp, domain);
        co_return l;
    }
    // §6.1: redirect= applies when no mechanism matched and the record has no "all".
    if (record->redirect && !record->has_all()) {
        const std::string text = "redirect=" + *record->redirect;
        if (++ev.dns_terms > ev.req.limits.max_dns_terms)
            co_return level{spf_result::permerror, text,
                            "more than " + std::to_string(ev.req.limits.max_dns_terms) + " DNS lookups", ""};
        auto target = co_await target_of(ev, *record->redirect, domain);
        if (!target) co_return level{spf_result::permerror, text, target.error().message(), ""};
        auto next = co_await evaluate(ev, *target, want_exp);
        // "if no SPF record is found, or if the <target-name> is malformed, the result is a
        // "permerror" rather than "none"".
        if (next.result == spf_result::none)
            co_return level{spf_result::permerror, text, text + ": " + next.reason, ""};
        co_return next;
    }
    // §4.7: no match and no redirect: neutral.
    co_return level{spf_result::neutral, "default", "no mechanism matched at " + domain, ""};
}

}  // namespace

asio::awaitable<spf_outcome> check_host(dns::resolver& r, spf_request req) {
    req.sender = full_sender(req.sender, req.domain);
    evaluation ev{r, req, to_spf_ip(req.ip), 0, 0, std::nullopt};
    auto l = co_await evaluate(ev, req.domain, true);
    spf_outcome o;
    o.result = l.result;
    o.domain = req.domain;
    o.sender = req.sender;
    o.mechanism = std::move(l.mechanism);
    o.explanation = std::move(l.explanation);
    o.reason = std::move(l.reason);
    o.dns_lookups = ev.dns_terms;
    co_return o;
}

asio::awaitable<spf_outcome> check_mail_from(dns::resolver& r, asio::ip::address ip, std::string helo,
                                             std::string mail_from, std::string receiver, std::int64_t now) {
    spf_request req;
    req.ip = ip;
    req.helo = helo;
    req.receiver = std::move(receiver);
    req.now = now;
    // §2.4: with a null reverse-path, the <sender> is "postmaster@" + the HELO identity.
    const std::string& identity = mail_from.empty() ? helo : mail_from;
    const auto at = identity.rfind('@');
    req.domain = mail_from.empty() || at == std::string::npos ? identity : identity.substr(at + 1);
    req.sender = full_sender(mail_from.empty() ? std::string() : mail_from, req.domain);
    co_return co_await check_host(r, std::move(req));
}

asio::awaitable<spf_outcome> check_helo(dns::resolver& r, asio::ip::address ip, std::string helo,
                                        std::string receiver, std::int64_t now) {
    spf_request req;
    req.ip = ip;
    req.helo = helo;
    req.domain = helo;
    req.sender = "postmaster@" + helo;  // §2.3
    req.receiver = std::move(receiver);
    req.now = now;
    co_return co_await check_host(r, std::move(req));
}

}  // namespace postern::mailauth
