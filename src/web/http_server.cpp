// SPDX-License-Identifier: MIT
// The HTTP side of the web inbox: accept loop, one coroutine per connection, routing.
#include "web/http_server.hpp"

#include "base/log.hpp"
#include "message/base64.hpp"
#include "web/api.hpp"
#include "web/assets.hpp"
#include "web/event_stream.hpp"
#include "web/metrics.hpp"
#include "web/url.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <map>
#include <unordered_map>

namespace postern::web {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

constexpr auto as_result = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t header_limit = 16 * 1024;
constexpr std::size_t body_limit = 1024 * 1024;
constexpr auto request_time = 30s;  // to send one request, and to take one response
constexpr auto idle_time = 60s;     // between requests on a kept-alive connection
constexpr auto auth_failure_delay = 1s;
constexpr std::size_t auth_cache_size = 64;
constexpr auto auth_cache_time = 5s;

// The page's policy: its own scripts and styles only; message bodies come in frames from /view/.
constexpr const char* page_policy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

http::response<http::string_body> asset_response(const request& req, const asset& a) {
    http::response<http::string_body> res{http::status::ok, req.version()};
    res.set(http::field::content_type, a.content_type);
    res.set(http::field::cache_control, "no-cache");
    res.set("Content-Security-Policy", page_policy);
    res.set("X-Content-Type-Options", "nosniff");
    res.set("Referrer-Policy", "no-referrer");
    res.keep_alive(req.keep_alive());
    if (req.method() != http::verb::head) res.body() = std::string(a.bytes);
    res.prepare_payload();
    if (req.method() == http::verb::head) res.content_length(a.bytes.size());
    return res;
}

// The error a failed read deserves, if any (a peer that left or timed out gets nothing).
std::optional<http::response<http::string_body>> read_error_response(const beast::error_code& ec) {
    if (ec == http::error::header_limit) return json_error(http::status::request_header_fields_too_large, "request header too large", 11, false);
    if (ec == http::error::body_limit) return json_error(http::status::payload_too_large, "request body too large", 11, false);
    if (ec == http::error::end_of_stream || ec == beast::error::timeout) return std::nullopt;
    if (ec.category() == beast::error_code(http::error::bad_target).category())
        return json_error(http::status::bad_request, "malformed request", 11, false);
    return std::nullopt;
}

}  // namespace

struct http_server::impl : std::enable_shared_from_this<http_server::impl> {
    asio::io_context& io;
    http_config cfg;
    inbox& box;
    const server::smtp_server* smtp;
    tcp::acceptor acceptor;
    event_hub hub;
    http_figures figures;
    std::unordered_map<std::uint64_t, beast::tcp_stream*> connections;
    std::uint64_t next_id = 1;
    // Authorization values verified lately: a page makes many requests, and argon2id is slow on
    // purpose. An entry lasts auth_cache_time, so a changed password or a removed user counts
    // within that time.
    std::map<std::string, std::chrono::steady_clock::time_point> auth_ok;
    bool stopped = false;

    impl(asio::io_context& i, http_config c, inbox& b, const server::smtp_server* s)
        : io(i), cfg(std::move(c)), box(b), smtp(s), acceptor(i), hub(i) {}

    asio::awaitable<void> accept_loop();
    asio::awaitable<void> session(tcp::socket socket);
    asio::awaitable<bool> authorized(const request& req);
    asio::awaitable<std::optional<http::message_generator>> answer(const request& req);
    asio::awaitable<http::message_generator> metrics(const request& req);
};

asio::awaitable<void> http_server::impl::accept_loop() {
    auto self = shared_from_this();
    while (!stopped) {
        auto [ec, socket] = co_await acceptor.async_accept(as_result);
        if (stopped) break;
        if (ec) continue;  // EMFILE and the like: the next accept may succeed
        if (connections.size() >= cfg.max_connections) {
            boost::system::error_code ignored;
            socket.close(ignored);
            continue;
        }
        asio::co_spawn(io, session(std::move(socket)), asio::detached);
    }
}

asio::awaitable<bool> http_server::impl::authorized(const request& req) {
    if (!cfg.users) co_return true;
    const std::string header(req[http::field::authorization]);
    const auto now = std::chrono::steady_clock::now();
    if (auto it = auth_ok.find(header); it != auth_ok.end()) {
        if (now - it->second < auth_cache_time) co_return true;
        auth_ok.erase(it);
    }
    bool ok = false;
    if (header.size() > 6 && header.compare(0, 6, "Basic ") == 0) {
        auto decoded = message::base64_decode(std::string_view(header).substr(6));
        auto colon = decoded ? decoded->find(':') : std::string::npos;
        if (colon != std::string::npos) {
            // argon2id may take tens of milliseconds: on the worker, never on this thread.
            auto check = asio::co_spawn(
                box.executor(),
                [users = cfg.users, user = decoded->substr(0, colon), pass = decoded->substr(colon + 1)]() -> asio::awaitable<bool> {
                    co_return users->verify_password(user, pass) == auth::verify_result::ok;
                },
                asio::use_awaitable);
            ok = co_await std::move(check);
        }
    }
    if (ok) {
        if (auth_ok.size() >= auth_cache_size) auth_ok.clear();
        auth_ok.emplace(header, now);
        co_return true;
    }
    ++figures.auth_failures;
    asio::steady_timer delay(io, auth_failure_delay);
    co_await delay.async_wait(as_result);
    co_return false;
}

asio::awaitable<http::message_generator> http_server::impl::metrics(const request& req) {
    auto figures_task = asio::co_spawn(
        box.executor(),
        [b = &box]() -> asio::awaitable<store_figures> {
            store_figures f;
            if (auto t = b->index().count()) f.messages = t->messages, f.unread = t->unread;
            if (auto s = b->index().stats()) f.bytes = s->bytes;
            f.backlog = b->backlog();
            co_return f;
        },
        asio::use_awaitable);
    const store_figures store = co_await std::move(figures_task);
    http_figures h = figures;
    h.connections = connections.size();
    h.event_clients = hub.clients();
    static const server::server_stats none;
    http::response<http::string_body> res{http::status::ok, req.version()};
    res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    res.set(http::field::cache_control, "no-store");
    res.keep_alive(req.keep_alive());
    res.body() = format_metrics(smtp ? smtp->stats() : none, smtp ? smtp->active_connections() : 0, store, h);
    res.prepare_payload();
    co_return res;
}

asio::awaitable<std::optional<http::message_generator>> http_server::impl::answer(const request& req) {
    const std::string_view path = target_path(req.target());
    if (is_api_path(req.target())) {
        auto task = asio::co_spawn(
            box.executor(),
            [&req, b = &box]() -> asio::awaitable<std::optional<http::message_generator>> { co_return handle(req, *b); },
            asio::use_awaitable);
        co_return co_await std::move(task);
    }
    if (path == "/metrics") {
        if (req.method() != http::verb::get) co_return json_error(http::status::method_not_allowed, "GET", req.version(), req.keep_alive());
        auto task = metrics(req);
        co_return co_await std::move(task);
    }
    if (path == "/api/events") co_return json_error(http::status::method_not_allowed, "GET", req.version(), req.keep_alive());
    const bool reading = req.method() == http::verb::get || req.method() == http::verb::head;
    const asset* a = nullptr;
    if (path == "/" || path == "/index.html") a = find_asset("index.html");
    else if (path.starts_with("/assets/")) a = find_asset(path.substr(8));
    else if (path == "/favicon.ico") a = find_asset("favicon.svg");
    if (!a) co_return json_error(http::status::not_found, "no such path", req.version(), req.keep_alive());
    if (!reading) co_return json_error(http::status::method_not_allowed, "GET", req.version(), req.keep_alive());
    co_return asset_response(req, *a);
}

asio::awaitable<void> http_server::impl::session(tcp::socket socket) {
    auto self = shared_from_this();
    beast::tcp_stream stream(std::move(socket));
    const std::uint64_t id = next_id++;
    connections.emplace(id, &stream);
    beast::flat_buffer buffer;
    for (bool first = true; !stopped; first = false) {
        http::request_parser<http::string_body> parser;
        parser.header_limit(header_limit);
        parser.body_limit(body_limit);
        stream.expires_after(first ? request_time : idle_time);
        auto [ec, n] = co_await http::async_read(stream, buffer, parser, as_result);
        if (ec) {
            if (auto res = read_error_response(ec)) {
                stream.expires_after(request_time);
                co_await http::async_write(stream, *res, as_result);
            }
            break;
        }
        request req = parser.release();
        ++figures.requests;
        stream.expires_after(request_time);
        if (!co_await authorized(req)) {
            auto res = json_error(http::status::unauthorized, "authentication required", req.version(), req.keep_alive());
            res.set(http::field::www_authenticate, "Basic realm=\"postern\", charset=\"UTF-8\"");
            auto [wec, wn] = co_await http::async_write(stream, res, as_result);
            if (wec || !req.keep_alive()) break;
            continue;
        }
        if (target_path(req.target()) == "/api/events" && boost::beast::websocket::is_upgrade(req)) {
            auto events = hub.serve_websocket(stream, std::move(req));
            co_await std::move(events);
            break;
        }
        if (target_path(req.target()) == "/api/events" && req.method() == http::verb::get) {
            auto events = hub.serve(stream, req);
            co_await std::move(events);
            break;
        }
        auto gen = co_await answer(req);
        auto [wec, wn] = co_await beast::async_write(stream, std::move(*gen), as_result);
        if (wec || !req.keep_alive()) break;
    }
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    connections.erase(id);
}

http_server::http_server(asio::io_context& io, http_config cfg, inbox& box, const server::smtp_server* smtp)
    : impl_(std::make_shared<impl>(io, std::move(cfg), box, smtp)) {}

http_server::~http_server() { stop(); }

void http_server::listen() {
    auto& a = impl_->acceptor;
    boost::system::error_code ec;
    tcp::endpoint ep(asio::ip::make_address(impl_->cfg.address, ec), impl_->cfg.port);
    if (!ec) a.open(ep.protocol(), ec);
    if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) a.bind(ep, ec);
    if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) throw std::system_error(ec, "HTTP " + impl_->cfg.address + ":" + std::to_string(impl_->cfg.port));
}

void http_server::start() {
    auto p = impl_;
    impl_->box.set_event_sink([weak = std::weak_ptr<impl>(p)](std::string event) {
        if (auto s = weak.lock()) asio::post(s->io, [weak, e = std::move(event)]() mutable {
            if (auto s2 = weak.lock()) s2->hub.publish(std::move(e));
        });
    });
    auto ep = local_endpoint();
    log::info(log::no_session, log::ev::http_listen, {{"address", ep.address().to_string()}, {"port", std::uint64_t{ep.port()}}});
    asio::co_spawn(impl_->io, impl_->accept_loop(), asio::detached);
}

void http_server::stop() {
    if (impl_->stopped) return;
    impl_->stopped = true;
    boost::system::error_code ignored;
    impl_->acceptor.close(ignored);
    impl_->hub.close_all();
    for (auto& [id, stream] : impl_->connections) stream->socket().close(ignored);
}

tcp::endpoint http_server::local_endpoint() const {
    boost::system::error_code ec;
    return impl_->acceptor.local_endpoint(ec);
}

}  // namespace postern::web
