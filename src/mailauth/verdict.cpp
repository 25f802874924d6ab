// SPDX-License-Identifier: MIT
// The summary is chosen from a closed set of cases (summary_case) by the facts people care about
// when they ask "is this mail really from whom it says": the RFC5322.From domain, the envelope
// sender domain if SPF passed for it, the d= domains of the signatures that verified, and
// whether either is aligned with From (RFC 7489 §3.1, computed by check_dmarc()). Every case
// has exactly one sentence shape, so the text can be tested and translated.
#include "mailauth/verdict.hpp"

#include "mailauth/from_parse.hpp"
#include "message/authentication_results.hpp"
#include "message/encoding.hpp"

#include <algorithm>

namespace postern::mailauth {
namespace {

std::string lowered(std::string_view s) {
    std::string out(s);
    if (!out.empty() && out.back() == '.') out.pop_back();
    std::transform(out.begin(), out.end(), out.begin(),
                   [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
    return out;
}

// The d= domains of the signatures that verified, lower-cased, each once, in message order.
std::vector<std::string> signing_domains(const auth_verdict& v) {
    std::vector<std::string> out;
    for (const dkim_outcome& d : v.dkim) {
        if (d.result != dkim_result::pass || d.domain.empty()) continue;
        std::string dom = lowered(d.domain);
        if (std::find(out.begin(), out.end(), dom) == out.end()) out.push_back(std::move(dom));
    }
    return out;
}

// "a", "a and b", "a, b and c", "a, b, c and 2 others".
std::string join(const std::vector<std::string>& names) {
    constexpr std::size_t shown = 3;
    std::string out;
    const std::size_t n = std::min(names.size(), shown);
    for (std::size_t i = 0; i < n; ++i) {
        if (i > 0) out += (i + 1 == n && names.size() <= shown) ? " and " : ", ";
        out += names[i];
    }
    if (names.size() > shown) out += " and " + std::to_string(names.size() - shown) + " others";
    return out;
}

std::string envelope(const auth_verdict& v) { return v.spf.domain.empty() ? "<>" : lowered(v.spf.domain); }

nlohmann::json spf_json(const spf_outcome& s) {
    using message::sanitize_utf8;
    return {{"result", to_string(s.result)},          {"domain", sanitize_utf8(s.domain)},
            {"sender", sanitize_utf8(s.sender)},      {"mechanism", sanitize_utf8(s.mechanism)},
            {"explanation", sanitize_utf8(s.explanation)}, {"reason", sanitize_utf8(s.reason)}};
}

nlohmann::json dkim_json(const dkim_outcome& d) {
    using message::sanitize_utf8;
    return {{"result", to_string(d.result)},         {"domain", sanitize_utf8(d.domain)},
            {"selector", sanitize_utf8(d.selector)}, {"identity", sanitize_utf8(d.identity)},
            {"algorithm", sanitize_utf8(d.algorithm)}, {"reason", sanitize_utf8(d.reason)},
            {"testing", d.testing}};
}

nlohmann::json dmarc_json(const dmarc_outcome& d) {
    using message::sanitize_utf8;
    return {{"result", to_string(d.result)},
            {"policy", to_string(d.policy)},
            {"from_domain", sanitize_utf8(d.from_domain)},
            {"record_domain", sanitize_utf8(d.record_domain)},
            {"organizational_domain", sanitize_utf8(d.organizational_domain)},
            {"spf_aligned", d.spf_aligned},
            {"dkim_aligned", d.dkim_aligned},
            {"sampled_out", d.sampled_out},
            {"reason", sanitize_utf8(d.reason)}};
}

message::ar_result spf_result_of(const spf_outcome& s, const client_info& client) {
    message::ar_result r{"spf", std::string(to_string(s.result)), "", "", {}};
    if (s.result != spf_result::pass) r.reason = s.reason;
    if (!client.ip.empty()) r.comment = "sender IP is " + client.ip;
    const std::string& mailfrom = s.sender.empty() ? s.domain : s.sender;
    if (!mailfrom.empty()) r.properties.push_back({"smtp", "mailfrom", mailfrom});
    if (!client.helo.empty()) r.properties.push_back({"smtp", "helo", client.helo});
    return r;
}

message::ar_result dkim_result_of(const dkim_outcome& d) {
    message::ar_result r{"dkim", std::string(to_string(d.result)), "", "", {}};
    if (d.result != dkim_result::pass) r.reason = d.reason;
    // RFC 8601 §2.7.1: header.d and header.i name the signer; header.s, and header.b (RFC 6008)
    // tell several signatures of one domain apart.
    if (!d.domain.empty()) r.properties.push_back({"header", "d", d.domain});
    if (!d.identity.empty()) r.properties.push_back({"header", "i", d.identity});
    if (!d.selector.empty()) r.properties.push_back({"header", "s", d.selector});
    if (!d.b_prefix.empty()) r.properties.push_back({"header", "b", d.b_prefix.substr(0, 8)});
    return r;
}

message::ar_result dmarc_result_of(const dmarc_outcome& d) {
    message::ar_result r{"dmarc", std::string(to_string(d.result)), "", "", {}};
    if (d.result != dmarc_result::pass) r.reason = d.reason;
    if (!d.from_domain.empty()) r.properties.push_back({"header", "from", d.from_domain});
    // policy.dmarc (IANA registry): the policy applied after sp= and pct=; only with a record.
    if (!d.record_domain.empty()) r.properties.push_back({"policy", "dmarc", std::string(to_string(d.policy))});
    return r;
}

}  // namespace

std::string_view to_string(summary_case c) noexcept {
    switch (c) {
        case summary_case::no_from: return "no_from";
        case summary_case::all_agree: return "all_agree";
        case summary_case::both_aligned: return "both_aligned";
        case summary_case::spf_aligned_unsigned: return "spf_aligned_unsigned";
        case summary_case::spf_aligned_only: return "spf_aligned_only";
        case summary_case::dkim_aligned_only: return "dkim_aligned_only";
        case summary_case::sent_and_signed_by_other: return "sent_and_signed_by_other";
        case summary_case::sent_by_other: return "sent_by_other";
        case summary_case::signed_by_other: return "signed_by_other";
        case summary_case::unverified: return "unverified";
    }
    return "unverified";
}

summary_case classify(const auth_verdict& v) {
    const std::string from = lowered(v.dmarc.from_domain);
    if (from.empty()) return summary_case::no_from;
    const bool spf_pass = v.spf.result == spf_result::pass && !v.spf.domain.empty();
    const std::vector<std::string> signers = signing_domains(v);
    if (v.dmarc.spf_aligned && v.dmarc.dkim_aligned) {
        const bool same = same_domain(v.spf.domain, from) && std::find(signers.begin(), signers.end(), from) != signers.end();
        return same ? summary_case::all_agree : summary_case::both_aligned;
    }
    if (v.dmarc.spf_aligned) return v.dkim.empty() ? summary_case::spf_aligned_unsigned : summary_case::spf_aligned_only;
    if (v.dmarc.dkim_aligned) return summary_case::dkim_aligned_only;
    if (spf_pass && !signers.empty()) return summary_case::sent_and_signed_by_other;
    if (spf_pass) return summary_case::sent_by_other;
    if (!signers.empty()) return summary_case::signed_by_other;
    return summary_case::unverified;
}

std::string summarize(const auth_verdict& v) {
    const std::string from = lowered(v.dmarc.from_domain);
    const std::string signers = join(signing_domains(v));
    const std::string sender = envelope(v);
    switch (classify(v)) {
        case summary_case::no_from: return "No From domain";
        case summary_case::all_agree: return "From, envelope sender and DKIM signature all say " + from;
        case summary_case::both_aligned:
            return "From says " + from + "; the mail was sent by " + sender + " and signed by " + signers +
                   ", of the same organization";
        case summary_case::spf_aligned_unsigned:
            return "From says " + from + "; the envelope sender " + sender + " passed SPF; no DKIM signature";
        case summary_case::spf_aligned_only:
            return "From says " + from + "; the envelope sender " + sender + " passed SPF, but no DKIM signature verified for it";
        case summary_case::dkim_aligned_only:
            return "From says " + from + "; the mail was signed by " + signers + ", but the envelope sender " + sender +
                   " did not pass SPF for it";
        case summary_case::sent_and_signed_by_other:
            if (signers == sender) return "From says " + from + ", but the mail was sent and signed by " + sender;
            return "From says " + from + ", but the mail was sent by " + sender + " and signed by " + signers;
        case summary_case::sent_by_other: return "From says " + from + ", but the mail was sent by " + sender;
        case summary_case::signed_by_other: return "From says " + from + ", but the mail was signed by " + signers;
        case summary_case::unverified: return "From says " + from + ", but neither SPF nor DKIM confirms it";
    }
    return {};
}

auth_verdict make_verdict(spf_outcome spf, spf_outcome helo_spf, std::vector<dkim_outcome> dkim, dmarc_outcome dmarc) {
    auth_verdict v{std::move(spf), std::move(helo_spf), std::move(dkim), std::move(dmarc), false, summary_case::no_from, {}};
    v.aligned = !v.dmarc.from_domain.empty() && (v.dmarc.spf_aligned || v.dmarc.dkim_aligned);
    v.kind = classify(v);
    v.summary = summarize(v);
    return v;
}

nlohmann::json to_json(const auth_verdict& v) {
    nlohmann::json dkim = nlohmann::json::array();
    for (const dkim_outcome& d : v.dkim) dkim.push_back(dkim_json(d));
    return {{"spf", spf_json(v.spf)},
            {"helo_spf", spf_json(v.helo_spf)},
            {"dkim", std::move(dkim)},
            {"dmarc", dmarc_json(v.dmarc)},
            {"aligned", v.aligned},
            {"summary", message::sanitize_utf8(v.summary)},
            {"summary_case", to_string(v.kind)}};
}

std::string authentication_results(const auth_verdict& v, std::string_view authserv_id, const client_info& client) {
    message::authentication_results_field f;
    f.authserv_id = std::string(authserv_id);
    f.results.push_back(spf_result_of(v.spf, client));
    if (!v.helo_spf.domain.empty()) {
        message::ar_result helo{"spf", std::string(to_string(v.helo_spf.result)), "", "", {}};
        if (v.helo_spf.result != spf_result::pass) helo.reason = v.helo_spf.reason;
        helo.properties.push_back({"smtp", "helo", v.helo_spf.domain});
        f.results.push_back(std::move(helo));
    }
    if (v.dkim.empty()) f.results.push_back({"dkim", "none", "", "", {}});  // RFC 8601 §2.7.1: not signed
    for (const dkim_outcome& d : v.dkim) f.results.push_back(dkim_result_of(d));
    f.results.push_back(dmarc_result_of(v.dmarc));
    return message::format_authentication_results(f);
}

}  // namespace postern::mailauth
