// SPDX-License-Identifier: MIT
#pragma once
/// Where mail for a domain goes: RFC 5321 §5.1 over any resolver. Used by `postern mx`, and by
/// the client's MX walk for probe, send and remote delivery.
#include "dns/resolver.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace postern::dns {

struct mail_host {
    std::uint16_t preference = 0;  ///< 0 for the implicit MX
    std::string host;              ///< A-label, lower-case, no trailing dot
    /// IPv4 (A) first, then IPv6 (AAAA), each in the order the DNS gave them (docs/dns.md
    /// says why IPv4 comes first).
    std::vector<asio::ip::address> addresses;
    dns::status a_status = dns::status::ok;     ///< how the A lookup ended
    dns::status aaaa_status = dns::status::ok;  ///< how the AAAA lookup ended
    /// ok when there is an address; otherwise why not: a temporary failure of either lookup if
    /// there was one (worth retrying), else nxdomain if the host does not exist, else no_records.
    dns::status address_status() const noexcept;
};

struct mail_hosts {
    std::string domain;  ///< the A-label asked for (the input itself when bad_name)
    /// ok: look at null_mx and hosts. nxdomain: no such domain. no_records: no MX and no
    /// address (no implicit MX either). bad_name, cancelled, or a temporary failure (servfail,
    /// refused, timeout, error) of the MX lookup or of the implicit MX's address lookups.
    dns::status status = dns::status::ok;
    bool null_mx = false;   ///< RFC 7505: the domain accepts no mail; `hosts` is empty
    bool implicit = false;  ///< no MX: `hosts` is the domain itself, preference 0
    /// By preference, lowest first; hosts of equal preference in random order (RFC 5321 §5.1:
    /// "the client SHOULD randomize them to spread the load"). A host whose address lookups
    /// failed stays, with no address and its address_status().
    std::vector<mail_host> hosts;
    std::string detail;  ///< status::error: the resolver's words

    /// At least one host with an address: there is somewhere to connect to.
    bool has_address() const noexcept;
};

/// Looks up the MX records of `domain` (UTF-8 or A-label), then the A and AAAA records of every
/// host, all of them at once. No MX (NODATA) falls back to the domain's own A and AAAA (the
/// implicit MX); a single MX whose exchange is the root is a null MX; a root exchange among
/// others is dropped (RFC 7505 §3 forbids the mix; the other hosts are still usable).
/// `rng` orders hosts of equal preference (seed it for repeatable tests). `r` and `rng` must
/// outlive the coroutine. Cancellation ends it at once with status::cancelled.
asio::awaitable<mail_hosts> find_mail_hosts(resolver& r, std::string domain, std::mt19937_64& rng);

/// The A and AAAA records of one host, both asked at once (the lookup find_mail_hosts makes
/// for each MX host): for `--server HOST` and the like. `preference` is 0.
asio::awaitable<mail_host> find_host_addresses(resolver& r, std::string host);

/// The ordering step alone: the MX records without root exchanges, shuffled with `rng`, then
/// stably sorted by preference.
std::vector<mail_host> order_by_preference(const std::vector<mx_record>& records, std::mt19937_64& rng);

}  // namespace postern::dns
