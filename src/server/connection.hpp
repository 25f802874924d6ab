// SPDX-License-Identifier: MIT
#pragma once
// One SMTP connection: drives proto::server_session over a TCP socket. Internal to server/.
#include "auth/sasl.hpp"
#include "proto/server_session.hpp"
#include "server/policy.hpp"
#include "server/smtp_server.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>

#include <array>
#include <chrono>
#include <memory>
#include <string_view>

namespace postern::server {

class connection {
public:
    /// `peer` is the remote endpoint the server already asked the socket for at accept.
    connection(smtp_server& srv, asio::ip::tcp::socket socket, log::session_id id, const asio::ip::tcp::endpoint& peer,
               const proto::session_config& session, listener_role role);
    ~connection();
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    /// Runs the session to its end (QUIT, timeout, error, shutdown); never throws.
    asio::awaitable<void> serve();
    /// The server is stopping: an idle session is woken to send its 421.
    void wake_for_shutdown();
    /// Called by the server's idle sweep: past the deadline, the session is woken to send 421 4.4.2.
    void check_idle(std::chrono::steady_clock::time_point now);

    const std::string& peer_address() const noexcept { return info_.peer_address; }
    connection* prev = nullptr;
    connection* next = nullptr;

private:
    asio::awaitable<void> run();
    asio::awaitable<void> end_session();
    asio::awaitable<void> drain_events();
    asio::awaitable<proto::reply> finish_message();
    asio::awaitable<bool> flush();
    asio::awaitable<std::size_t> read_some();
    asio::awaitable<std::size_t> read_some_tls();
    asio::awaitable<bool> start_tls();  // the server side of the handshake; false: close
    asio::awaitable<void> authenticate(const proto::event& ev);  // connection_auth.cpp
    asio::awaitable<void> finish_auth(auth::sasl_step step, std::size_t failures);
    asio::awaitable<void> auth_failed(const auth::sasl_step& step, std::size_t failures);
    void handle(const proto::event& ev);
    void begin_message();
    void write_body(std::string_view bytes);
    void touch() { deadline_ = std::chrono::steady_clock::now() + srv_.config().idle_timeout; }

    // TLS, once started: the stream, its context (kept alive across a reload) and a read buffer of
    // its own (a TLS read cannot share the I/O thread's buffer: it completes inside the engine).
    struct tls_state {
        std::shared_ptr<asio::ssl::context> context;
        asio::ssl::stream<asio::ip::tcp::socket&> stream;
        std::array<char, 4096> buffer{};
    };

    smtp_server& srv_;
    asio::ip::tcp::socket socket_;
    listener_role role_;
    std::unique_ptr<tls_state> tls_;
    proto::server_session core_;
    session_info info_;
    std::unique_ptr<auth::sasl_mechanism> mechanism_;  // during an AUTH exchange
    std::string mechanism_name_;
    std::unique_ptr<message_sink> sink_;
    std::error_code sink_error_;
    std::chrono::steady_clock::time_point deadline_;
    std::string_view end_reason_ = "eof";
    bool reading_ = false;   // parked in a read: safe to wake for shutdown
    bool busy_ = false;      // a commit is in flight: the idle clock does not run
    bool timed_out_ = false;
    bool woken_ = false;     // the last read ended because the server cancelled it
};

}  // namespace postern::server
