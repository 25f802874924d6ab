// SPDX-License-Identifier: MIT
#pragma once
/// Live events for the inbox page: Server-Sent Events (text/event-stream). The hub keeps one
/// bounded queue per listening page; a page that falls 1000 events behind is dropped (it
/// reconnects and reloads its list). Used on the io_context's thread only.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/string_body.hpp>

#include <list>
#include <memory>
#include <string>

namespace postern::web {

class event_hub {
public:
    explicit event_hub(boost::asio::io_context& io) : io_(io) {}

    /// Sends the stream's header, then every published event as a `data:` line, and a comment
    /// every 15 s; returns when the page leaves, falls too far behind or close_all() is called.
    boost::asio::awaitable<void> serve(boost::beast::tcp_stream& stream,
                                       const boost::beast::http::request<boost::beast::http::string_body>& req);
    /// The same events as WebSocket text messages (Mailpit's /api/events), for a request that
    /// asks to upgrade; the client's messages are read and ignored.
    boost::asio::awaitable<void> serve_websocket(boost::beast::tcp_stream& stream,
                                                 boost::beast::http::request<boost::beast::http::string_body> req);
    /// Queues one event (JSON text) for every listener.
    void publish(std::string json);
    void close_all();
    std::size_t clients() const noexcept { return clients_.size(); }

private:
    struct client;
    boost::asio::io_context& io_;
    std::list<std::shared_ptr<client>> clients_;
};

}  // namespace postern::web
