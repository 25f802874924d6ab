// SPDX-License-Identifier: MIT
#include "server/smtp_server.hpp"

#include "proto/replies.hpp"
#include "server/auth_service.hpp"
#include "server/connection.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <random>

namespace postern::server {

void server_stats::count_refusal(std::string_view stage, const std::optional<proto::reply>& r) {
    if (!r || r->positive()) return;
    std::string key = std::string(stage) + " " + std::to_string(r->code);
    if (r->esc) key += " " + r->esc->to_string();
    ++rejections[key];
}

namespace {

constexpr auto as_result = asio::as_tuple(asio::use_awaitable);

asio::awaitable<void> serve_connection(smtp_server& srv, asio::ip::tcp::socket socket, log::session_id id,
                                       asio::ip::tcp::endpoint peer, const proto::session_config& session,
                                       listener_role role) {
    connection c(srv, std::move(socket), id, peer, session, role);
    co_await c.serve();
}

// What a listener of this role offers: STARTTLS where a certificate is loaded (never on an
// implicit-TLS port), AUTH required on the submission roles (RFC 6409, RFC 8314).
proto::session_config session_for(const server_config& cfg, listener_role role) {
    proto::session_config s = cfg.session;
    s.starttls = static_cast<bool>(cfg.tls_context) && role != listener_role::submissions;
    s.auth_required = role != listener_role::mx;
    return s;
}

// A refused connection gets its 421 and is closed; it never becomes a session.
asio::awaitable<void> refuse_connection(asio::ip::tcp::socket socket, proto::reply r, bool esc) {
    std::string out;
    proto::write_reply(r, esc, out);
    co_await asio::async_write(socket, asio::buffer(out), as_result);
    boost::system::error_code ignored;
    socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
}

// Logs an exception that escaped a connection coroutine (never expected: serve() catches).
struct log_spawn_end {
    log::session_id id;
    void operator()(std::exception_ptr e) const {
        if (!e) return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& x) {
            log::error(id, log::ev::internal_error, {{"error", x.what()}});
        }
    }
};

}  // namespace

std::string_view role_name(listener_role r) {
    switch (r) {
    case listener_role::mx: return "mx";
    case listener_role::submission: return "submission";
    case listener_role::submissions: return "submissions";
    }
    return "mx";
}

smtp_server::smtp_server(asio::io_context& io, const server_config& cfg)
    : io_(io), cfg_(cfg), grace_timer_(io), sweep_timer_(io), read_buffer_(cfg.read_buffer) {
    // Session ids: random start, then sequential (unique within a process, hard to guess across).
    next_id_ = (std::random_device{}() | (std::uint64_t{std::random_device{}()} << 32)) & 0x00ffffffffffffffULL;
    if (cfg.auth.credentials) auth_ = std::make_unique<auth_service>(cfg.auth, cfg.session.hostname);
}

smtp_server::~smtp_server() = default;

void smtp_server::listen() {
    for (const auto& lc : cfg_.listeners) {
        asio::ip::tcp::endpoint ep{asio::ip::make_address(lc.address), lc.port};
        if (lc.role == listener_role::submissions && !cfg_.tls_context)
            throw std::system_error(std::make_error_code(std::errc::invalid_argument),
                                    "implicit TLS on " + lc.address + ":" + std::to_string(lc.port) + " needs a certificate");
        auto l = std::make_unique<listener>(listener{asio::ip::tcp::acceptor(io_), lc, session_for(cfg_, lc.role)});
        boost::system::error_code ec;
        l->acceptor.open(ep.protocol(), ec);
        if (!ec) l->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
        if (!ec) l->acceptor.bind(ep, ec);
        if (!ec) l->acceptor.listen(asio::socket_base::max_listen_connections, ec);
        if (ec)
            throw std::system_error(ec, "cannot listen on " + lc.address + ":" + std::to_string(lc.port));
        listeners_.push_back(std::move(l));
    }
    refresh_auth(std::chrono::steady_clock::now());
}

// The mechanisms every listener advertises follow the users file (a first `postern user add`
// turns AUTH on without a restart); old per-IP failure windows are forgotten once a minute.
void smtp_server::refresh_auth(std::chrono::steady_clock::time_point now) {
    if (!auth_) return;
    auto mechanisms = auth_->mechanisms();
    for (auto& l : listeners_)
        if (l->session.auth_mechanisms != mechanisms) l->session.auth_mechanisms = mechanisms;
    if (now >= next_prune_) {
        auth_->prune(now);
        next_prune_ = now + std::chrono::minutes(1);
    }
}

std::vector<asio::ip::tcp::endpoint> smtp_server::local_endpoints() const {
    std::vector<asio::ip::tcp::endpoint> out;
    for (const auto& l : listeners_) out.push_back(l->acceptor.local_endpoint());
    return out;
}

void smtp_server::start(policy& p) {
    policy_ = &p;
    for (auto& l : listeners_) {
        // Logged only now, when the server is ready: tests and scripts wait for this line.
        const auto bound = l->acceptor.local_endpoint();
        log::info(log::no_session, log::ev::server_listen,
                  {{"role", role_name(l->cfg.role)}, {"address", bound.address().to_string() + ":" + std::to_string(bound.port())}});
        asio::co_spawn(io_, accept_loop(*l), log_spawn_end{log::no_session});
    }
    sweep_idle();
}

asio::awaitable<void> smtp_server::accept_loop(listener& l) {
    while (!stopping_) {
        auto [ec, socket] = co_await l.acceptor.async_accept(as_result);
        if (ec == asio::error::operation_aborted || stopping_) co_return;
        if (ec) {
            // EMFILE and friends: wait a little instead of spinning.
            log::error(log::no_session, log::ev::internal_error, {{"where", "accept"}, {"error", ec.message()}});
            asio::steady_timer pause(io_, std::chrono::milliseconds(100));
            co_await pause.async_wait(as_result);
            continue;
        }
        admit(std::move(socket), l);
    }
}

void smtp_server::admit(asio::ip::tcp::socket socket, const listener& l) {
    boost::system::error_code ec;
    const asio::ip::tcp::endpoint peer = socket.remote_endpoint(ec);  // asked once per connection
    const std::string ip = peer.address().to_string();
    const log::session_id id = ++next_id_;
    ++stats_.connections;
    const bool esc = cfg_.session.ext.enhanced_status_codes;
    std::optional<proto::reply> refusal;
    if (active_ >= cfg_.max_connections) refusal = proto::replies::too_many_connections();
    else if (per_ip_[ip] >= cfg_.max_connections_per_ip) refusal = proto::replies::too_many_connections_from_ip();
    if (refusal) {
        ++stats_.refused;
        if (per_ip_[ip] == 0) per_ip_.erase(ip);
        log::warn(id, log::ev::smtp_refuse, {{"peer", ip}, {"active", active_}, {"reason", refusal->first_line()}});
        asio::co_spawn(io_, refuse_connection(std::move(socket), *refusal, esc), log_spawn_end{id});
        return;
    }
    asio::co_spawn(io_, serve_connection(*this, std::move(socket), id, peer, l.session, l.cfg.role), log_spawn_end{id});
}

void smtp_server::attach(connection* c) {
    ++active_;
    ++per_ip_[c->peer_address()];
    c->next = head_;
    if (head_) head_->prev = c;
    head_ = c;
}

void smtp_server::detach(connection* c) {
    --active_;
    auto it = per_ip_.find(c->peer_address());
    if (it != per_ip_.end() && --it->second == 0) per_ip_.erase(it);
    if (c->prev) c->prev->next = c->next;
    else head_ = c->next;
    if (c->next) c->next->prev = c->prev;
    check_drained();
}

// The idle deadlines of all connections are checked by one timer, a quarter of the timeout
// apart (at most 1 s): a 300 s timeout fires within 300-301 s, at no cost per connection.
void smtp_server::sweep_idle() {
    const auto tick = std::clamp<std::chrono::milliseconds>(cfg_.idle_timeout / 4, std::chrono::milliseconds(10),
                                                           std::chrono::milliseconds(1000));
    sweep_timer_.expires_after(tick);
    sweep_timer_.async_wait([this](boost::system::error_code ec) {
        if (ec) return;
        const auto now = std::chrono::steady_clock::now();
        for (connection* c = head_; c; c = c->next) c->check_idle(now);
        refresh_auth(now);
        if (!(stopping_ && active_ == 0)) sweep_idle();
    });
}

void smtp_server::check_drained() {
    if (!stopping_ || active_ != 0) return;
    grace_timer_.cancel();
    sweep_timer_.cancel();
    if (auto f = std::exchange(on_drained_, nullptr)) f();
}

void smtp_server::shutdown() {
    if (stopping_) return;
    stopping_ = true;
    log::info(log::no_session, log::ev::server_drain, {{"active", active_}, {"grace_ms", static_cast<std::int64_t>(cfg_.shutdown_grace.count())}});
    for (auto& l : listeners_) {
        boost::system::error_code ignored;
        l->acceptor.close(ignored);
    }
    for (connection* c = head_; c; c = c->next) c->wake_for_shutdown();
    grace_timer_.expires_after(cfg_.shutdown_grace);
    grace_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) force_close();
    });
    check_drained();
}

void smtp_server::force_close() {
    forced_ = true;
    for (connection* c = head_; c; c = c->next) c->wake_for_shutdown();
}

}  // namespace postern::server
