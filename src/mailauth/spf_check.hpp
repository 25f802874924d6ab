// SPDX-License-Identifier: MIT
#pragma once
/// SPF evaluation (RFC 7208 §4, §5, §6): check_host() through dns::resolver.
///
/// When to call what: the SMTP server calls check_helo() after HELO/EHLO (§2.3, optional) and
/// check_mail_from() after MAIL FROM (§2.4, required for a verdict); both fill the outcome's
/// `domain` and `sender` and then run check_host(). Call check_host() directly only to evaluate
/// one <domain>/<sender> pair yourself (`postern auth check`). The resolver must outlive the
/// coroutine; parameters are copied. Time is passed in (`now`, for the %{t} macro): nothing
/// here reads the clock. A DNS timeout is the resolver's (resolver_options); wrap the call in a
/// watchdog to bound the whole evaluation (at most 10 DNS-querying terms, each with a bounded
/// number of look-ups, so at most about 1 + 10 x 12 queries).
#include "dns/resolver.hpp"
#include "mailauth/results.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>

#include <cstdint>
#include <string>

namespace postern::mailauth {

namespace asio = boost::asio;

/// The processing limits of §4.6.4, with the RFC's values. Lower them only for tests.
struct spf_limits {
    unsigned max_dns_terms = 10;     ///< include, a, mx, ptr, exists and redirect: more => permerror
    unsigned max_void_lookups = 2;   ///< NXDOMAIN or empty answers for terms: more => permerror
    unsigned max_mx_names = 10;      ///< MX records of one "mx" term: more => permerror
    unsigned max_ptr_names = 10;     ///< PTR names validated per look-up: the rest are ignored
};

/// The arguments of check_host() (§4.1) and what the macros need (§7.3).
struct spf_request {
    asio::ip::address ip;            ///< <ip>; an IPv4-mapped IPv6 address is checked as IPv4
    std::string domain;              ///< <domain>: the MAIL FROM domain or the HELO name
    std::string sender;              ///< <sender>: "local@domain"; a missing local part means "postmaster" (§4.3)
    std::string helo;                ///< for %{h}
    std::string receiver = "unknown";  ///< for %{r}: this host's name
    std::int64_t now = 0;            ///< for %{t}: seconds since the epoch
    spf_limits limits;
};

/// check_host() of §4: the outcome's result, deciding mechanism ("-all", "include:x.example",
/// "default" when nothing matched, "" when no record was evaluated), explanation (fail only,
/// from exp=), reason and dns_lookups (the DNS-querying terms evaluated). `domain` and `sender`
/// are the request's (sender with "postmaster" filled in).
asio::awaitable<spf_outcome> check_host(dns::resolver& r, spf_request req);

/// §2.4: the MAIL FROM identity. `mail_from` is the reverse-path without angle brackets; empty
/// (the null reverse-path "<>") checks "postmaster@" + `helo` instead.
asio::awaitable<spf_outcome> check_mail_from(dns::resolver& r, asio::ip::address ip, std::string helo,
                                             std::string mail_from, std::string receiver, std::int64_t now);

/// §2.3: the HELO identity, with <sender> "postmaster@" + `helo`. An address literal or a
/// single-label name is "none" (§4.3).
asio::awaitable<spf_outcome> check_helo(dns::resolver& r, asio::ip::address ip, std::string helo,
                                        std::string receiver, std::int64_t now);

}  // namespace postern::mailauth
