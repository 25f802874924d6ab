// SPDX-License-Identifier: MIT
#pragma once
/// The real resolver: c-ares, driven by the caller's io_context (no thread of its own).
///
/// c-ares tells us which sockets it wants watched (ARES_OPT_SOCK_STATE_CB); each one is
/// watched with a posix::stream_descriptor async_wait, and one steady_timer set from
/// ares_timeout() runs its retries and timeouts. Queries use ares_query, which never appends
/// search domains, so "example.org" is always asked as "example.org." (ARES_FLAG_NOSEARCH is set
/// as well, for the day someone switches to ares_search). EDNS0 with a 1232-octet UDP size
/// (the DNS flag day 2020 value) keeps TXT and TLSA answers off TCP; truncated answers are
/// retried over TCP by c-ares. A SERVFAIL or REFUSED answer ends the query with that status
/// at once (ARES_FLAG_NOCHECKRESP; see docs/dns.md): the next server is not asked.
#include "base/expected.hpp"
#include "dns/resolver.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace postern::dns {

struct resolver_options {
    /// "ADDR" or "ADDR:PORT" ("[2001:db8::53]:5353" for IPv6 with a port), IP addresses only.
    /// Empty: the nameservers of /etc/resolv.conf.
    std::vector<std::string> servers;
    /// The first try's wait for an answer. c-ares doubles it after each round over the servers,
    /// so with one server and 2 tries a query gives up after 3 x timeout.
    std::chrono::milliseconds timeout{3000};
    int tries = 2;  ///< rounds over the servers (glibc's "attempts", whose default is also 2)
};

/// "192.0.2.53" -> "192.0.2.53:53", "[::1]:5353" -> "[::1]:5353", "::1" -> "[::1]:53".
/// Error: std::errc::invalid_argument for anything else (a host name, a bad port).
result<std::string> parse_server_address(std::string_view text);

/// c-ares' own error codes (ARES_E*), for create().
const std::error_category& cares_category() noexcept;

class cares_resolver final : public resolver {
public:
    /// Errors: invalid_argument for a bad server address; cares_category() when c-ares cannot
    /// start (no memory, an unreadable /etc/resolv.conf).
    static result<std::unique_ptr<cares_resolver>> create(asio::any_io_executor ex, const resolver_options& options = {});

    /// Answers every outstanding query with status::cancelled (through the executor) and
    /// closes the sockets. Call before the io_context is destroyed.
    ~cares_resolver() override;

    executor_type get_executor() const override;

protected:
    void start_mx(std::string name, callback<mx_record> done) override;
    void start_address(record_type type, std::string name, callback<asio::ip::address> done) override;
    void start_txt(std::string name, callback<txt_record> done) override;
    void start_tlsa(std::string name, callback<tlsa_record> done) override;
    void start_ptr(std::string name, callback<std::string> done) override;

private:
    struct impl;
    explicit cares_resolver(std::unique_ptr<impl> i);
    std::unique_ptr<impl> impl_;
};

}  // namespace postern::dns
