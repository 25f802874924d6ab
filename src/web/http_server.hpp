// SPDX-License-Identifier: MIT
#pragma once
/// The web inbox's HTTP/1.1 server (Boost.Beast, one coroutine per connection on the SMTP
/// server's io_context): the embedded page, the JSON API (run on the inbox's worker), live
/// events (Server-Sent Events), /metrics, optional basic auth. docs/web.md.
///
/// Limits: request header 16 KiB (431), body 1 MiB (413), 30 s to send a request, 60 s idle
/// keep-alive, 256 connections (more are closed at once).
#include "auth/credentials.hpp"
#include "server/smtp_server.hpp"
#include "web/inbox.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <memory>
#include <string>

namespace postern::web {

struct http_config {
    std::string address = "127.0.0.1";
    std::uint16_t port = 8025;
    /// Basic auth against these users when set (a passwd-file); nullptr: no auth.
    std::shared_ptr<const auth::credential_store> users;
    std::size_t max_connections = 256;
};

class http_server {
public:
    /// `smtp` (may be null) is read for /metrics on the io_context's thread.
    http_server(boost::asio::io_context& io, http_config cfg, inbox& box, const server::smtp_server* smtp);
    ~http_server();

    /// Binds; throws std::system_error naming the address on failure.
    void listen();
    /// Accepts, and routes the inbox's events to the pages listening. Logs http.listen.
    void start();
    /// Stops accepting and closes every connection (event streams included). Idempotent.
    void stop();
    boost::asio::ip::tcp::endpoint local_endpoint() const;

    struct impl;

private:
    std::shared_ptr<impl> impl_;
};

}  // namespace postern::web
