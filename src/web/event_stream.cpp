// SPDX-License-Identifier: MIT
#include "web/event_stream.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

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

}  // namespace postern::web
