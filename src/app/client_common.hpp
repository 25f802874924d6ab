// SPDX-License-Identifier: MIT
#pragma once
/// What `postern probe` and `postern send` share: the I/O context and resolver of one command
/// run (`--dns`, `--timeout`), where to connect (a domain's MX hosts, or `--server HOST:PORT`),
/// and the host name to say in EHLO.
#include "base/expected.hpp"
#include "client/probe.hpp"
#include "dns/resolver.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <memory>
#include <string>
#include <vector>

namespace postern::app {

class client_runtime {
public:
    /// `dns`: "ADDR:PORT" or "" for /etc/resolv.conf. Throws std::runtime_error for a bad one.
    client_runtime(const std::string& dns, double timeout_seconds);
    ~client_runtime();
    dns::resolver& resolver() { return *resolver_; }
    boost::asio::io_context& io() { return io_; }
    /// Runs `task` to its end (exceptions from it are rethrown here).
    void run(boost::asio::awaitable<void> task);

private:
    boost::asio::io_context io_;
    std::unique_ptr<dns::resolver> resolver_;
};

/// Where to connect, or the answer already known from DNS (no such domain, null MX).
struct target_list {
    std::vector<client::probe_target> list;
    bool decided = false;  ///< no server to ask: `verdict` and `reason` say why
    client::verdict verdict = client::verdict::unknown;
    std::string reason;
};

/// RFC 5321 §5.1: the domain's MX hosts in order with their addresses (IPv4 first), or its own
/// addresses (implicit MX). `port` for every host.
boost::asio::awaitable<target_list> mx_targets(dns::resolver& r, std::string domain, std::uint16_t port);
/// "HOST:PORT", "[IPv6]:PORT" or "HOST" (port 25): one target; a host name is resolved (A, AAAA).
boost::asio::awaitable<target_list> server_target(dns::resolver& r, std::string host_port);

/// The name to give in EHLO: this machine's host name (fully qualified when the system knows it).
std::string system_host_name();
/// An EHLO name: a domain (ASCII) or an address literal; nothing that could end the command.
bool valid_helo_name(const std::string& name);
/// A domain as an A-label (IDN), lower case.
result<std::string> a_label(const std::string& domain);
/// Prints "postern CMD: TEXT" on standard error; returns 2.
int usage_error(const char* command, const std::string& text);

}  // namespace postern::app
