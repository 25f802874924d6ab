// SPDX-License-Identifier: MIT
#pragma once
/// `postern probe`: what a sender can learn about an address before sending, without sending.
/// For each mail server of the domain, in MX order: connect, banner, EHLO, STARTTLS (the
/// certificate reported, not enforced), MAIL FROM, RCPT TO the address, RCPT TO a random local
/// part (catch-all detection), RSET, QUIT; never DATA. The first server that answers the RCPT
/// with 2xx or 5xx decides; a 4xx or an unreachable server moves on to the next one.
#include "client/smtp_client.hpp"

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>
#include <vector>

namespace postern::client {

enum class verdict { deliverable, undeliverable, risky, unknown };
std::string_view verdict_name(verdict v);

/// One mail server to try: a host name (for SNI and the report) and its addresses in order.
struct probe_target {
    std::string host;
    std::uint16_t port = 25;
    std::vector<asio::ip::address> addresses;
    std::optional<std::uint16_t> preference;  ///< the MX preference, when it came from DNS
    std::string dns_error;                    ///< why there are no addresses
};

struct probe_options {
    std::string address;         ///< the mailbox to check ("user@domain"); or "" to check the domain only
    std::string domain;
    std::string from;            ///< MAIL FROM; "" is <>
    std::string helo = "localhost";
    std::string random_local;    ///< the catch-all test's local part (the caller makes it random)
    session_options session;
    bool starttls = true;        ///< try STARTTLS when offered
};

struct probe_server_report {
    std::string host;
    std::optional<std::uint16_t> preference;
    connect_report connection;
    std::optional<proto::reply> banner;
    std::vector<std::string> extensions;   ///< from the last EHLO (inside TLS when TLS was started)
    bool starttls_offered = false;          ///< the clear-text EHLO listed STARTTLS
    std::optional<proto::reply> starttls;  ///< the reply to STARTTLS
    std::optional<proto::reply> mail, rcpt, catch_all_rcpt;
    std::string error;                  ///< connection, TLS or protocol failure, or the DNS error
    std::vector<std::string> transcript;  ///< "<-  ..." and " -> ..." lines, AUTH masked
};

struct probe_report {
    std::string address;
    verdict result = verdict::unknown;
    std::string reason;
    std::optional<bool> catch_all;
    std::vector<probe_server_report> servers;
};

/// Probes the targets in order until one decides. Targets must be non-empty or `none_reason` set.
asio::awaitable<probe_report> probe(std::vector<probe_target> targets, probe_options options);

/// The verdict from one server's replies (pure; exposed for tests). nullopt: this server did
/// not decide (4xx, no RCPT reply), try the next one.
struct decision {
    verdict result;
    std::string reason;
    std::optional<bool> catch_all;
};
std::optional<decision> decide(const probe_server_report& server, const std::string& address);

}  // namespace postern::client
