// SPDX-License-Identifier: MIT
#pragma once
#include "auth/credentials.hpp"
#include "proto/session_config.hpp"

#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string_view>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace postern::server {

/// What a listener is for (RFC 5321 relay/MX, RFC 6409 submission, RFC 8314 implicit TLS).
enum class listener_role {
    mx,           ///< port 25 style: STARTTLS offered, AUTH offered once TLS is up, not required
    submission,   ///< port 587: STARTTLS, then AUTH required before MAIL (RFC 6409)
    submissions,  ///< port 465: TLS from the first byte (RFC 8314), AUTH required
};
std::string_view role_name(listener_role r);

struct listener_config {
    std::string address = "127.0.0.1";
    std::uint16_t port = 2525;            // 0: any free port (logged)
    listener_role role = listener_role::mx;
};

/// AUTH (RFC 4954): who may log in, and how failed attempts are slowed and limited.
struct auth_config {
    /// The users AUTH checks; null: AUTH is offered nowhere. While the store is empty (no users
    /// yet) AUTH is not advertised; the listeners follow the store as users come and go.
    std::shared_ptr<const auth::credential_store> credentials;
    /// Each failed attempt is answered this much later (a guessing client is slowed down).
    std::chrono::milliseconds failure_delay{std::chrono::seconds(1)};
    /// Failed attempts from one client IP within `failure_window`; the one that reaches the
    /// limit, and any AUTH from that IP until the window has passed, get 421 4.7.0 and a close.
    std::size_t max_failures_per_ip = 10;
    std::chrono::milliseconds failure_window{std::chrono::minutes(15)};
    /// Password checks (argon2id: tens of milliseconds each) run on these threads, never on the
    /// I/O thread. 0: one fewer than the cores, at least one.
    std::size_t threads = 0;
};

struct server_config {
    std::vector<listener_config> listeners{listener_config{}};
    proto::session_config session;
    std::chrono::milliseconds idle_timeout{std::chrono::seconds(300)};  // RFC 5321 §4.5.3.2.7
    std::size_t max_connections = 1000;
    std::size_t max_connections_per_ip = 100;
    std::chrono::milliseconds shutdown_grace{std::chrono::seconds(30)};
    std::size_t read_buffer = 64 * 1024;  // one buffer per I/O thread, not per connection
    bool wire_trace = false;              // --verbose
    /// The TLS context for the next handshake (it may change on reload); empty: no TLS at all,
    /// STARTTLS answers 454 and implicit-TLS listeners cannot be used.
    std::function<std::shared_ptr<boost::asio::ssl::context>()> tls_context;
    auth_config auth;
};

}  // namespace postern::server
