// SPDX-License-Identifier: MIT
#pragma once
/// DMARC policy discovery and evaluation (RFC 7489 §6.6.3, §3.1, §6.6.4), through the injected
/// dns::resolver, with the organizational domain from the Public Suffix List (libpsl).
///
/// When to call what: after SPF (check_host for MAIL FROM) and DKIM verification, and after
/// from_parse.hpp's from_domain() gave the RFC5322.From domain, build a dmarc_request and
/// `co_await check_dmarc(resolver, request)`. Feed the outcome to verdict.hpp's make_verdict().
/// The outcome's `policy` is what the receiver should apply to a failure, pct= already taken
/// into account; for a pass it is the published policy, for reports and headers.
#include "dns/resolver.hpp"
#include "mailauth/dmarc_record.hpp"
#include "mailauth/results.hpp"

#include <boost/asio/awaitable.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace postern::mailauth {

namespace asio = boost::asio;

/// The organizational domain (RFC 7489 §3.2) of `domain`: its registrable domain per the Public
/// Suffix List (one label below the longest matching public suffix, the PSL's default rule "*"
/// included, so "a.b.unknowntld" gives "b.unknowntld"), or the domain itself when it is a
/// public suffix or libpsl cannot place it (a single label, an empty or malformed name).
/// The result is lower-cased and has no trailing dot; A-labels and U-labels are looked up as
/// given (the list holds both forms).
///
/// The list is psl_latest(NULL), loaded once on first use and never changed after: it is the
/// newer of the list compiled into libpsl and the system's /usr/share/publicsuffix file, which
/// the `publicsuffix` package keeps up to date without a rebuild of libpsl. psl_builtin() is the
/// fallback if the file cannot be loaded. Safe to call from any thread.
std::string organizational_domain(std::string_view domain);

/// Identifier alignment (§3.1.1, §3.1.2): strict is equality; relaxed is equal organizational
/// domains. Case-insensitive, trailing dots ignored; an empty domain is never aligned.
bool is_aligned(std::string_view domain, std::string_view from_domain, alignment_mode mode);

struct dmarc_request {
    std::string from_domain;          ///< from_domain(): the RFC5322.From domain
    spf_outcome spf;                  ///< check_host() for MAIL FROM (its result and domain)
    std::vector<dkim_outcome> dkim;   ///< every DKIM-Signature verified, in any order
    unsigned pct_roll = 0;            ///< 0..99, uniformly random in production: sampled in when < pct
};

/// Discovers the policy (§6.6.3: _dmarc.<From domain>, else _dmarc.<organizational domain>),
/// checks alignment and applies pct=. Results: none (no record, several records, no From
/// domain), temperror (the DNS failed temporarily), permerror (a DMARC record without a usable
/// policy), pass (SPF or DKIM aligned), fail. Every field of dmarc_outcome is filled; the
/// alignment flags are computed even without a record (relaxed mode), for the verdict's summary.
/// `r` must outlive the coroutine; the request is taken by value.
asio::awaitable<dmarc_outcome> check_dmarc(dns::resolver& r, dmarc_request req);

}  // namespace postern::mailauth
