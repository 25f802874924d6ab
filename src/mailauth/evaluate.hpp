// SPDX-License-Identifier: MIT
#pragma once
/// Everything a receiver checks about one message, in one call: SPF for MAIL FROM and for HELO
/// (RFC 7208 §2.3, §2.4), every DKIM signature (RFC 6376), then DMARC (RFC 7489) on the From
/// domain, combined into an auth_verdict.
///
/// When to call what: feed the message to a dkim_verifier as it arrives, finish() it, then
/// `co_await evaluate(resolver, request, std::move(message))`. The SPF checks and the DKIM key
/// look-ups run at the same time; DMARC follows (it needs both). The server and `postern auth
/// check` both call this, so a stored message and a message checked offline get the same answer.
/// `r` must outlive the operation; bound the whole of it with a watchdog (timed_evaluate).
#include "mailauth/dkim_verify.hpp"
#include "mailauth/verdict.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>

#include <chrono>
#include <cstdint>
#include <string>

namespace postern::mailauth {

namespace asio = boost::asio;

struct evaluate_request {
    asio::ip::address ip;        ///< the SMTP client
    std::string helo;            ///< its EHLO/HELO name
    std::string mail_from;       ///< the reverse-path without angle brackets, "" for <>
    std::string receiver;        ///< this host's name (SPF %{r})
    std::int64_t now = 0;        ///< seconds since the epoch (SPF %{t}, DKIM t= and x=)
    unsigned pct_roll = 0;       ///< 0..99 for DMARC pct= (random in the server)
};

/// The verdict for a message whose content went through a dkim_verifier.
asio::awaitable<auth_verdict> evaluate(dns::resolver& r, evaluate_request req, dkim_message message);

/// The same, bounded: past `limit` every check still running is a temperror (the DNS did not
/// answer in time), and the verdict is made from what is known.
asio::awaitable<auth_verdict> timed_evaluate(dns::resolver& r, evaluate_request req, dkim_message message,
                                             std::chrono::milliseconds limit);

/// The From field values of a finished message, for from_domain().
std::vector<std::string_view> from_values(const dkim_message& message);

}  // namespace postern::mailauth
