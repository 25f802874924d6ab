// SPDX-License-Identifier: MIT
#pragma once
/// The outcomes of SPF, DKIM and DMARC as values: what each check found, with enough detail to
/// write an Authentication-Results header (RFC 8601), store it in the index and explain it.
///
/// These types are shared by the checks (spf_check, dkim_verify, dmarc_check), the verdict that
/// combines them (verdict.hpp) and their users (the server's policy, `postern auth check`, the
/// web API). Pure: no I/O, no clock.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postern::mailauth {

/// RFC 7208 §2.6.
enum class spf_result { none, neutral, pass, fail, softfail, temperror, permerror };
/// "none", "neutral", "pass", "fail", "softfail", "temperror", "permerror" (RFC 8601 §2.7.2 words).
std::string_view to_string(spf_result r) noexcept;

/// One check_host() evaluation (RFC 7208 §4), for MAIL FROM or for the HELO identity.
struct spf_outcome {
    spf_result result = spf_result::none;
    std::string domain;       ///< the domain checked: the MAIL FROM domain, or the HELO name
    std::string sender;       ///< the <sender> used: MAIL FROM, or "postmaster@" + HELO (§2.4)
    std::string mechanism;    ///< the term that decided ("ip4:192.0.2.0/24", "-all", "default"), "" if none
    std::string explanation;  ///< the exp= text for a fail (§6.2), already macro-expanded
    std::string reason;       ///< for people: why this result ("no SPF record", "10 DNS lookups exceeded", ...)
    unsigned dns_lookups = 0; ///< terms that cost a DNS lookup (§4.6.4), for the record
};

/// RFC 6376 §3.9 / RFC 8601 §2.7.1 result words.
enum class dkim_result { none, pass, fail, policy, neutral, temperror, permerror };
/// "none", "pass", "fail", "policy", "neutral", "temperror", "permerror".
std::string_view to_string(dkim_result r) noexcept;

/// One DKIM-Signature header field, verified (or not).
struct dkim_outcome {
    dkim_result result = dkim_result::none;
    std::string domain;     ///< d=
    std::string selector;   ///< s=
    std::string identity;   ///< i= (the AUID; "@" + d= when absent)
    std::string algorithm;  ///< a= ("rsa-sha256", "ed25519-sha256")
    std::string b_prefix;   ///< the first 8 characters of b= (RFC 6008 header.b), to tell signatures apart
    std::string reason;     ///< for people: "signature verified", "body hash did not verify", "key revoked", ...
    bool testing = false;   ///< the key record has t=y (RFC 6376 §3.6.1): failures must not be used against the mail
};

/// RFC 7489 §11.2 result words.
enum class dmarc_result { none, pass, fail, temperror, permerror };
/// "none", "pass", "fail", "temperror", "permerror".
std::string_view to_string(dmarc_result r) noexcept;

/// RFC 7489 §6.3 p= / sp= values.
enum class dmarc_policy { none, quarantine, reject };
std::string_view to_string(dmarc_policy p) noexcept;  ///< "none", "quarantine", "reject"

struct dmarc_outcome {
    dmarc_result result = dmarc_result::none;
    dmarc_policy policy = dmarc_policy::none;  ///< the policy that applies to this From domain (p= or sp=)
    std::string from_domain;                   ///< RFC5322.From domain
    std::string record_domain;                 ///< where the record was found (the From or the organizational domain)
    std::string organizational_domain;         ///< of the From domain (Public Suffix List)
    bool spf_aligned = false;                  ///< SPF passed for a domain aligned with From (§3.1.2)
    bool dkim_aligned = false;                 ///< a DKIM signature passed for a domain aligned with From (§3.1.1)
    bool sampled_out = false;                  ///< pct= left this failure out of the policy (§6.6.4): treat as one step lower
    std::string reason;                        ///< for people
};

}  // namespace postern::mailauth
