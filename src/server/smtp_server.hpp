// SPDX-License-Identifier: MIT
#pragma once
/// The receiving server: listeners, one coroutine per connection driving proto::server_session,
/// connection limits, the idle timeout and the two-step shutdown.
///
/// When to call what: construct on an io_context, listen() (throws std::system_error when an
/// address cannot be bound), start(policy), run the io_context; shutdown() from a signal handler
/// (stop accepting, let transactions finish within the grace period, then 421 everyone).
#include "server/policy.hpp"
#include "server/server_config.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace postern::server {

namespace asio = boost::asio;
class connection;
class auth_service;

/// Counters since start, for /metrics. Touched on the server's io_context only.
struct server_stats {
    std::uint64_t connections = 0, refused = 0, messages = 0, aborted = 0;
    std::uint64_t auth_ok = 0, auth_failures = 0;
    std::uint64_t bytes = 0;                        ///< octets of accepted messages (as received)
    std::uint64_t tls_handshakes = 0, tls_failures = 0;
    /// Refusals by the policy or the store, keyed "stage code x.y.z" (stage: helo, mail, rcpt,
    /// data), e.g. "rcpt 550 5.7.1": relay denied, unknown users, senders not owned, content refused.
    std::map<std::string, std::uint64_t> rejections;
    void count_refusal(std::string_view stage, const std::optional<proto::reply>& r);
};

class smtp_server {
public:
    smtp_server(asio::io_context& io, const server_config& cfg);
    ~smtp_server();

    /// Binds every configured listener. Throws std::system_error naming the address on failure.
    void listen();
    /// Starts accepting and logs `server.listen` for each listener; `p` decides and stores for
    /// every session and must outlive the server.
    void start(policy& p);
    /// Stops accepting; idle sessions get 421 4.3.2 now, busy ones when their transaction ends
    /// or when the grace period is over. Safe to call more than once.
    void shutdown();
    /// Ends the grace period now: every session still open gets 421 4.3.2 and is closed.
    void force_close();
    /// Called once when the server is stopping and the last connection has ended.
    void on_drained(std::function<void()> f) { on_drained_ = std::move(f); }

    std::vector<asio::ip::tcp::endpoint> local_endpoints() const;
    std::size_t active_connections() const noexcept { return active_; }
    const server_stats& stats() const noexcept { return stats_; }

    // For connections.
    const server_config& config() const noexcept { return cfg_; }
    policy& decisions() noexcept { return *policy_; }
    bool stopping() const noexcept { return stopping_; }
    bool forced() const noexcept { return forced_; }
    void attach(connection* c);
    void detach(connection* c);
    std::vector<char>& read_buffer() { return read_buffer_; }
    server_stats& mutable_stats() { return stats_; }
    auth_service* auth() noexcept { return auth_.get(); }  ///< null: no AUTH configured

private:
    struct listener {
        asio::ip::tcp::acceptor acceptor;
        listener_config cfg;
        proto::session_config session;  // what this role offers and requires
    };
    asio::awaitable<void> accept_loop(listener& l);
    void admit(asio::ip::tcp::socket socket, const listener& l);
    void check_drained();
    void sweep_idle();
    void refresh_auth(std::chrono::steady_clock::time_point now);

    asio::io_context& io_;
    const server_config& cfg_;
    policy* policy_ = nullptr;
    std::vector<std::unique_ptr<listener>> listeners_;
    std::unordered_map<std::string, std::size_t> per_ip_;
    connection* head_ = nullptr;  // intrusive list of live connections
    std::size_t active_ = 0;
    bool stopping_ = false;
    bool forced_ = false;
    asio::steady_timer grace_timer_;
    asio::steady_timer sweep_timer_;  // one timer for every connection's idle deadline
    std::vector<char> read_buffer_;
    server_stats stats_;
    std::uint64_t next_id_;
    std::function<void()> on_drained_;
    std::unique_ptr<auth_service> auth_;
    std::chrono::steady_clock::time_point next_prune_{};
};

}  // namespace postern::server
