// SPDX-License-Identifier: MIT
// Theory of operation. check_dmarc() runs RFC 7489 §6.6.3 as written: one TXT query at
// _dmarc.<From domain>; non-DMARC strings are dropped; only when nothing is left, one query at
// _dmarc.<organizational domain> (if that is a different name); then exactly one record must
// remain. It never walks up the tree label by label (that is DMARCbis, not RFC 7489), so it
// costs at most two queries. A transient DNS failure stops discovery with temperror, because
// §6.6.3 separates "any indication that there is no such record" from "a transient DNS error".
// Alignment (§3.1) and the pct= sample (§6.6.4) are then plain computations on the request.
#include "mailauth/dmarc_check.hpp"

#include "mailauth/from_parse.hpp"

#include <libpsl.h>

#include <algorithm>
#include <memory>

namespace postern::mailauth {
namespace {

char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string normalize(std::string_view d) {
    if (!d.empty() && d.back() == '.') d.remove_suffix(1);
    std::string out(d);
    std::transform(out.begin(), out.end(), out.begin(), lower);
    return out;
}

struct psl_deleter {
    void operator()(psl_ctx_t* p) const noexcept { psl_free(p); }
};

// The list, loaded once: function-local statics are initialised exactly once even when several
// threads race here (C++11 [stmt.dcl]/4), and the context is read-only afterwards.
const psl_ctx_t* public_suffix_list() {
    static const std::unique_ptr<psl_ctx_t, psl_deleter> latest{psl_latest(nullptr)};
    return latest ? latest.get() : psl_builtin();
}

// What one TXT query at a _dmarc name found, after §6.6.3 steps 2/4 dropped the other records.
struct discovery {
    enum class kind { none, one, several, temporary } what = kind::none;
    std::string record;   // kind::one: its text
    std::string detail;   // for the reason: the DNS status
};

asio::awaitable<discovery> discover(dns::resolver& r, std::string domain) {
    const dns::txt_answer a = co_await dns::async_txt(r, "_dmarc." + domain);
    discovery d;
    if (!a.ok()) {
        // NXDOMAIN and NODATA say there is no record; so does a name that cannot be one. Every
        // other status (SERVFAIL, REFUSED, timeout, cancelled, error) is transient.
        const bool absent = a.status == dns::status::nxdomain || a.status == dns::status::no_records ||
                            a.status == dns::status::bad_name;
        if (!absent) d.what = discovery::kind::temporary;
        d.detail = std::string(dns::to_string(a.status));
        co_return d;
    }
    std::size_t found = 0;
    for (const dns::txt_record& t : a.records) {
        if (!is_dmarc_record(t.text)) continue;
        if (++found == 1) d.record = t.text;
    }
    d.what = found == 0 ? discovery::kind::none : found == 1 ? discovery::kind::one : discovery::kind::several;
    co_return d;
}

dmarc_policy one_step_lower(dmarc_policy p) noexcept {
    return p == dmarc_policy::reject ? dmarc_policy::quarantine : dmarc_policy::none;
}

void align(dmarc_outcome& o, const dmarc_request& req, alignment_mode aspf, alignment_mode adkim) {
    // §3.1.2: SPF counts only when it passed, for the MAIL FROM domain it checked.
    o.spf_aligned = req.spf.result == spf_result::pass && is_aligned(req.spf.domain, o.from_domain, aspf);
    // §3.1.1 and §4.2: any one passing signature with an aligned d= is enough.
    o.dkim_aligned = std::any_of(req.dkim.begin(), req.dkim.end(), [&](const dkim_outcome& d) {
        return d.result == dkim_result::pass && is_aligned(d.domain, o.from_domain, adkim);
    });
}

// §6.6.2 step 6 and §6.6.4: the result, the policy for this domain, and the pct= sample.
void evaluate(dmarc_outcome& o, const dmarc_record& rec, unsigned pct_roll) {
    const bool pass = o.spf_aligned || o.dkim_aligned;
    o.result = pass ? dmarc_result::pass : dmarc_result::fail;
    // §6.3 sp: the record found at the organizational domain speaks for its subdomains with sp=.
    o.policy = rec.policy_for(o.record_domain != o.from_domain);
    if (pass) {
        o.reason = o.spf_aligned && o.dkim_aligned ? "SPF and DKIM aligned" : o.spf_aligned ? "SPF aligned" : "DKIM aligned";
        return;
    }
    o.reason = "neither SPF nor DKIM passed aligned with " + o.from_domain;
    if (std::min(pct_roll, 99u) >= rec.pct) {
        // §6.6.4: outside the pct= sample a failure gets the next lower policy.
        o.sampled_out = true;
        o.policy = one_step_lower(o.policy);
        o.reason += "; outside the pct=" + std::to_string(rec.pct) + " sample";
    }
    if (rec.policy_from_rua) o.reason += "; no valid p=, treated as p=none because of rua= (RFC 7489 §6.6.3)";
}

}  // namespace

std::string organizational_domain(std::string_view domain) {
    std::string d = normalize(domain);
    if (d.empty() || d.size() > 253 || d.find('\0') != std::string::npos) return d;
    const char* registrable = psl_registrable_domain(public_suffix_list(), d.c_str());
    return registrable ? std::string(registrable) : d;
}

bool is_aligned(std::string_view domain, std::string_view from_domain, alignment_mode mode) {
    if (domain.empty() || from_domain.empty()) return false;
    if (same_domain(domain, from_domain)) return true;
    return mode == alignment_mode::relaxed && organizational_domain(domain) == organizational_domain(from_domain);
}

asio::awaitable<dmarc_outcome> check_dmarc(dns::resolver& r, dmarc_request req) {
    dmarc_outcome o;
    o.from_domain = normalize(req.from_domain);
    if (o.from_domain.empty()) {
        o.reason = "no RFC5322.From domain";
        co_return o;
    }
    o.organizational_domain = organizational_domain(o.from_domain);
    align(o, req, alignment_mode::relaxed, alignment_mode::relaxed);  // for the summary, even without a record

    std::string where = o.from_domain;
    discovery d = co_await discover(r, where);
    if (d.what == discovery::kind::none && o.organizational_domain != o.from_domain) {
        where = o.organizational_domain;  // §6.6.3 step 3
        d = co_await discover(r, where);
    }
    switch (d.what) {
        case discovery::kind::temporary:
            o.result = dmarc_result::temperror;
            o.reason = "DNS error looking up _dmarc." + where + ": " + d.detail;
            co_return o;
        case discovery::kind::several:
            o.reason = "more than one DMARC record at _dmarc." + where + " (RFC 7489 §6.6.3)";
            co_return o;
        case discovery::kind::none:
            o.reason = "no DMARC record";
            co_return o;
        case discovery::kind::one: break;
    }
    o.record_domain = where;
    const result<dmarc_record> rec = parse_dmarc_record(d.record);
    if (!rec) {
        o.result = dmarc_result::permerror;
        o.reason = "DMARC record at _dmarc." + where + ": " + rec.error().message();
        co_return o;
    }
    align(o, req, rec->aspf, rec->adkim);
    evaluate(o, *rec, req.pct_roll);
    co_return o;
}

}  // namespace postern::mailauth
