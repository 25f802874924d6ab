// SPDX-License-Identifier: MIT
#pragma once
/// The combined verdict of SPF, DKIM and DMARC for one message: whether the From domain is
/// vouched for (DMARC identifier alignment), a one-sentence summary for people, the JSON shape
/// of the API and `--json`, and the Authentication-Results header (RFC 8601). Pure: no I/O, no
/// clock, never throws (beyond std::bad_alloc and nlohmann's own allocation).
///
/// When to call what: once SPF (MAIL FROM and HELO), DKIM and check_dmarc() are done, call
/// make_verdict(). Then to_json() for the API or the index, and authentication_results() for
/// the header to prepend, after removing the fields is_own_authentication_results() claims.
#include "mailauth/results.hpp"
#include "message/authentication_results.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace postern::mailauth {

/// The closed set of situations the summary describes; each has one sentence (summarize()).
/// "sent by X" means SPF passed for the envelope sender domain X; "signed by Y" means a DKIM
/// signature with d=Y verified.
enum class summary_case {
    no_from,                 ///< "No From domain"
    all_agree,               ///< From, envelope sender and a verified signature: the same domain
    both_aligned,            ///< SPF and DKIM aligned, not all the same name (relaxed alignment)
    spf_aligned_unsigned,    ///< SPF aligned, the message has no DKIM signature
    spf_aligned_only,        ///< SPF aligned, signatures present but none verified aligned
    dkim_aligned_only,       ///< a verified aligned signature, SPF not aligned
    sent_and_signed_by_other,///< SPF passed and a signature verified, neither aligned with From
    sent_by_other,           ///< SPF passed for another domain; no verified signature
    signed_by_other,         ///< a signature verified for another domain; SPF did not pass
    unverified,              ///< neither SPF nor any DKIM signature passed
};
std::string_view to_string(summary_case c) noexcept;  ///< "no_from", "all_agree", ...

struct auth_verdict {
    spf_outcome spf;                 ///< MAIL FROM
    spf_outcome helo_spf;            ///< HELO identity (RFC 7208 §2.3)
    std::vector<dkim_outcome> dkim;  ///< one per DKIM-Signature
    dmarc_outcome dmarc;
    bool aligned = false;            ///< DMARC identifier alignment passed (SPF or DKIM aligned with From)
    summary_case kind = summary_case::no_from;
    std::string summary;             ///< for people: "From says bank.example, but the mail was sent and signed by other.example"
};

/// Fills `aligned`, `kind` and `summary` from the outcomes. The alignment flags come from the
/// dmarc_outcome (check_dmarc() sets them even when the domain publishes no record).
auth_verdict make_verdict(spf_outcome spf, spf_outcome helo_spf, std::vector<dkim_outcome> dkim, dmarc_outcome dmarc);

/// The summary case of a verdict, and its sentence.
summary_case classify(const auth_verdict& v);
std::string summarize(const auth_verdict& v);

/// {"spf": {"result", "domain", ...}, "helo_spf": {...}, "dkim": [{"result", "domain",
/// "selector", "reason", ...}], "dmarc": {"result", "policy", "from_domain", ...}, "aligned",
/// "summary", "summary_case"}. Strings that are not valid UTF-8 are repaired so that dump()
/// cannot throw.
nlohmann::json to_json(const auth_verdict& v);

/// The SMTP client, as the receiving session saw it.
struct client_info {
    std::string ip;    ///< "192.0.2.1", written as a comment on the spf result
    std::string helo;  ///< the EHLO/HELO argument: smtp.helo
};

/// "Authentication-Results: <authserv_id>;\r\n\tspf=pass (sender IP is 192.0.2.1)
/// smtp.mailfrom=a@b.example smtp.helo=mx.b.example;\r\n\tdkim=pass header.d=b.example
/// header.i=@b.example header.s=sel header.b=AbCd1234;\r\n\tdmarc=pass header.from=b.example
/// policy.dmarc=reject\r\n" (RFC 8601 §2.7, RFC 6008 header.b, RFC 7489 §11.2). A message
/// without DKIM signatures gets "dkim=none"; a HELO check that ran adds a second spf result with
/// only smtp.helo. Folded to 78 columns, CRLF-terminated.
std::string authentication_results(const auth_verdict& v, std::string_view authserv_id, const client_info& client);

/// RFC 8601 §5: true when an Authentication-Results field value claims `authserv_id` (ours), so
/// it must be removed or renamed before ours is added. See message/authentication_results.hpp.
using message::is_own_authentication_results;

}  // namespace postern::mailauth
