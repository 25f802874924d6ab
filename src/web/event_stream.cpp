// SPDX-License-Identifier: MIT
#include "web/event_stream.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/websocket.hpp>

#include <deque>

namespace postern::web {

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {
constexpr auto as_result = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t max_queued = 1000;
constexpr auto ping_every = 15s;
constexpr auto write_time = 30s;
}  // namespace

struct event_hub::client {
    explicit client(asio::io_context& io) : wake(io) {}
    std::deque<std::string> queue;
    asio::steady_timer wake;
    bool closed = false;
    bool reader_done = false;  // WebSocket: the reading coroutine has ended
};

void event_hub::publish(std::string json) {
    for (auto& c : clients_) {
        if (c->queue.size() >= max_queued) c->closed = true;
        else c->queue.push_back(json);
        c->wake.cancel();
    }
}

void event_hub::close_all() {
    for (auto& c : clients_) {
        c->closed = true;
        c->wake.cancel();
    }
}

asio::awaitable<void> event_hub::serve(boost::beast::tcp_stream& stream,
                                       const boost::beast::http::request<boost::beast::http::string_body>& req) {
    auto c = std::make_shared<client>(io_);
    auto it = clients_.insert(clients_.end(), c);
    std::string out = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
                      "X-Accel-Buffering: no\r\nConnection: ";
    out += req.keep_alive() ? "keep-alive" : "close";
    out += "\r\n\r\nretry: 2000\n\n";
    while (!c->closed) {
        stream.expires_after(write_time);
        auto [ec, n] = co_await asio::async_write(stream, asio::buffer(out), as_result);
        if (ec) break;
        out.clear();
        if (c->queue.empty()) {
            c->wake.expires_after(ping_every);
            auto [wec] = co_await c->wake.async_wait(as_result);
            if (!wec) out = ": ping\n\n";  // the timer ran out: nothing happened for a while
        }
        for (; !c->queue.empty(); c->queue.pop_front()) out += "data: " + c->queue.front() + "\n\n";
    }
    clients_.erase(it);
}

asio::awaitable<void> event_hub::serve_websocket(boost::beast::tcp_stream& stream,
                                                 boost::beast::http::request<boost::beast::http::string_body> req) {
    namespace websocket = boost::beast::websocket;
    auto ws = std::make_shared<websocket::stream<boost::beast::tcp_stream&>>(stream);
    stream.expires_never();  // the websocket's own timeouts from here on (idle pings included)
    ws->set_option(websocket::stream_base::timeout::suggested(boost::beast::role_type::server));
    auto [aec] = co_await ws->async_accept(req, as_result);
    if (aec) co_return;
    auto c = std::make_shared<client>(io_);
    auto it = clients_.insert(clients_.end(), c);
    // A reader, so that close frames and pongs are handled and a departed client is noticed.
    asio::co_spawn(
        io_,
        [ws, c]() -> asio::awaitable<void> {
            boost::beast::flat_buffer buffer;
            for (;;) {
                auto [ec, n] = co_await ws->async_read(buffer, as_result);
                if (ec) break;
                buffer.consume(n);
            }
            c->closed = true;
            c->reader_done = true;
            c->wake.cancel();
        },
        asio::detached);
    while (!c->closed) {
        if (c->queue.empty()) {
            c->wake.expires_after(ping_every);
            co_await c->wake.async_wait(as_result);
            continue;
        }
        std::string text = std::move(c->queue.front());
        c->queue.pop_front();
        auto [ec, n] = co_await ws->async_write(asio::buffer(text), as_result);
        if (ec) break;
    }
    clients_.erase(it);
    if (ws->is_open()) {
        auto [ec] = co_await ws->async_close(websocket::close_code::going_away, as_result);
        (void)ec;
    }
    // The reader uses the caller's stream: it must be done before this returns.
    while (!c->reader_done) {
        boost::system::error_code ignored;
        stream.socket().close(ignored);
        c->wake.expires_after(1s);
        co_await c->wake.async_wait(as_result);
    }
}

}  // namespace postern::web
