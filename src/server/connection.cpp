// SPDX-License-Identifier: MIT
// Theory of operation: run() loops: hand every event of the core to the policy or the message
// sink, send the replies that piled up (one write for a pipelined batch, RFC 2920), then wait for
// input. Reading waits for readiness first and then reads into the I/O thread's shared buffer, so
// an idle connection holds no read buffer. Every read and write moves the deadline on; the
// server's idle sweep (one timer for all connections) calls check_idle(), which cancels the
// socket once the deadline has passed with no commit in flight; run() then sends 421 4.4.2.
// Expected ends (EOF, EPIPE, reset, cancellation) come back as values, never as exceptions.
// An idle connection is one small coroutine frame, the session object and the socket.
#include "server/connection.hpp"

#include "net/tls.hpp"
#include "proto/replies.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/ssl/error.hpp>

namespace postern::server {
namespace {

constexpr auto as_result = asio::as_tuple(asio::use_awaitable);

// Adapts a sink call whose callback may run on another thread (the store's committer) to an
// awaitable that resumes on the connection's executor. `start(callback)` makes the call.
template <class Result, class Start>
asio::awaitable<Result> on_own_executor(Start start) {
    auto ex = co_await asio::this_coro::executor;
    co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(Result)>(
        [&start, ex](auto handler) {
            auto h = std::make_shared<decltype(handler)>(std::move(handler));
            start([h, ex](Result r) { asio::post(ex, [h, r = std::move(r)]() mutable { (*h)(std::move(r)); }); });
        },
        asio::use_awaitable);
}

asio::awaitable<result<std::string>> async_commit(message_sink& sink) {
    return on_own_executor<result<std::string>>([&sink](auto done) { sink.commit(std::move(done)); });
}

asio::awaitable<std::optional<proto::reply>> async_finish(message_sink& sink) {
    return on_own_executor<std::optional<proto::reply>>([&sink](auto done) { sink.finish(std::move(done)); });
}

}  // namespace

connection::connection(smtp_server& srv, asio::ip::tcp::socket socket, log::session_id id,
                       const asio::ip::tcp::endpoint& peer, const proto::session_config& session, listener_role role)
    : srv_(srv), socket_(std::move(socket)), role_(role), core_(session) {
    info_.id = id;
    info_.peer_address = peer.address().to_string();
    info_.peer_port = peer.port();
    boost::system::error_code ec;
    auto local = socket_.local_endpoint(ec);
    if (!ec) {
        info_.local_address = local.address().to_string();
        info_.local_port = local.port();
    }
    if (srv.config().wire_trace)
        core_.set_tracer([id](bool in, std::string_view line) {
            log::trace_wire(id, in ? log::wire::in : log::wire::out, line);
        });
    socket_.non_blocking(true, ec);
    srv_.attach(this);
}

connection::~connection() { srv_.detach(this); }

void connection::wake_for_shutdown() {
    if (reading_ && (srv_.forced() || core_.idle())) socket_.cancel();
}

asio::awaitable<void> connection::serve() {
    log::info(info_.id, log::ev::smtp_connect, {{"peer", info_.peer_address}, {"port", info_.peer_port}, {"local_port", info_.local_port}});
    touch();
    try {
        if (role_ == listener_role::submissions) {  // RFC 8314: TLS from the first byte
            if (!co_await start_tls()) co_return co_await end_session();
            core_.tls_started();
        }
        core_.greet();
        co_await run();
    } catch (const std::exception& e) {
        end_reason_ = "io_error";
        log::warn(info_.id, log::ev::smtp_io_error, {{"error", e.what()}});
    }
    co_await end_session();
}

asio::awaitable<void> connection::end_session() {
    core_.connection_lost();
    co_await drain_events();  // a message cut off mid-data is reported aborted to its sink
    boost::system::error_code ignored;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    log::info(info_.id, log::ev::smtp_disconnect, {{"reason", end_reason_}, {"messages", core_.messages_accepted()}});
}

void connection::check_idle(std::chrono::steady_clock::time_point now) {
    // A commit in flight is our wait, not the peer's: the idle clock does not run meanwhile.
    if (busy_ || now < deadline_) return;
    timed_out_ = true;
    socket_.cancel();  // ends the pending read (or a write the peer stopped taking)
}

asio::awaitable<void> connection::run() {
    for (;;) {
        co_await drain_events();
        if (core_.has_output() && !co_await flush()) co_return;
        if (core_.closing()) {
            end_reason_ = core_.close_reason();
            co_return;
        }
        if (timed_out_) {
            core_.timeout();
            log::info(info_.id, log::ev::smtp_timeout, {{"after_ms", static_cast<std::int64_t>(srv_.config().idle_timeout.count())}});
            touch();  // one more idle period to deliver the 421, then the sweep cancels the write
            continue;
        }
        if (srv_.forced() || (srv_.stopping() && core_.idle())) {
            core_.shutdown();
            continue;
        }
        woken_ = false;
        const std::size_t n = tls_ ? co_await read_some_tls() : co_await read_some();
        if (n == 0) {
            // Woken by the shutdown or the idle sweep: go round to say goodbye. Any other end
            // (EOF, reset) ends the session: going round again would spin on the dead socket.
            if (woken_) continue;
            co_return;
        }
        core_.receive(std::span<const char>(tls_ ? tls_->buffer.data() : srv_.read_buffer().data(), n));
    }
}

asio::awaitable<std::size_t> connection::read_some_tls() {
    reading_ = true;
    auto [ec, n] = co_await tls_->stream.async_read_some(asio::buffer(tls_->buffer), as_result);
    reading_ = false;
    if (!ec) {
        touch();
        co_return n;
    }
    woken_ = ec == asio::error::operation_aborted;  // cancelled by shutdown or the sweep
    if (!woken_) end_reason_ = ec == asio::error::eof || ec == asio::ssl::error::stream_truncated ? "eof" : "io_error";
    co_return 0;
}

asio::awaitable<std::size_t> connection::read_some() {
    auto& buf = srv_.read_buffer();
    for (;;) {
        boost::system::error_code ec;
        const std::size_t n = socket_.read_some(asio::buffer(buf), ec);
        if (!ec) {
            touch();
            co_return n;
        }
        if (ec != asio::error::would_block && ec != asio::error::try_again) {
            end_reason_ = ec == asio::error::eof ? "eof" : "io_error";
            co_return 0;
        }
        reading_ = true;
        auto [wait_ec] = co_await socket_.async_wait(asio::ip::tcp::socket::wait_read, as_result);
        reading_ = false;
        if (wait_ec) {
            woken_ = wait_ec == asio::error::operation_aborted;  // cancelled by shutdown or the sweep
            if (!woken_) end_reason_ = "io_error";
            co_return 0;
        }
    }
}

asio::awaitable<bool> connection::flush() {
    auto out = core_.take_output();
    auto [ec, n] = tls_ ? co_await asio::async_write(tls_->stream, asio::buffer(out), as_result)
                        : co_await asio::async_write(socket_, asio::buffer(out), as_result);
    if (ec) {
        // The peer went away (EPIPE, ECONNRESET) or stopped reading past the deadline: expected ends.
        end_reason_ = timed_out_ ? "timeout" : "io_error";
        co_return false;
    }
    touch();
    co_return true;
}

asio::awaitable<void> connection::drain_events() {
    while (auto ev = core_.next_event()) {
        if (std::holds_alternative<proto::message_event>(*ev)) {
            core_.respond(co_await finish_message());
        } else if (auto* st = std::get_if<proto::starttls_event>(&*ev)) {
            if (st->discarded > 0)  // CVE-2011-0411: clear-text input pipelined behind STARTTLS
                log::warn(info_.id, log::ev::smtp_tls_discard, {{"octets", st->discarded}});
            // The 220 goes out in clear, then the handshake; on failure the session ends.
            if (core_.has_output() && !co_await flush()) co_return core_.connection_lost();
            if (!co_await start_tls()) co_return core_.connection_lost();
            core_.tls_started();
            info_.user.clear();  // the session starts afresh inside TLS
        } else if (std::holds_alternative<proto::auth_event>(*ev) || std::holds_alternative<proto::auth_response_event>(*ev)) {
            co_await authenticate(*ev);
        } else {
            handle(*ev);
        }
    }
}

void connection::handle(const proto::event& ev) {
    auto& p = srv_.decisions();
    if (auto* h = std::get_if<proto::hello_event>(&ev)) {
        auto r = p.check_hello(info_, *h);
        srv_.mutable_stats().count_refusal("helo", r);
        if (!r || r->positive()) {
            info_.helo = h->domain;
            info_.esmtp = h->extended;
        }
        core_.respond(r);
    } else if (auto* m = std::get_if<proto::mail_event>(&ev)) {
        auto r = p.check_mail(info_, *m);
        srv_.mutable_stats().count_refusal("mail", r);
        log::debug(info_.id, log::ev::smtp_mail, {{"from", m->reverse_path.to_string()}, {"code", r ? r->code : 250}});
        core_.respond(r);
    } else if (auto* rc = std::get_if<proto::rcpt_event>(&ev)) {
        auto r = p.check_rcpt(info_, *core_.current_transaction(), *rc);
        srv_.mutable_stats().count_refusal("rcpt", r);
        log::debug(info_.id, log::ev::smtp_rcpt, {{"to", rc->forward_path.to_string()}, {"code", r ? r->code : 250}});
        core_.respond(r);
    } else if (std::holds_alternative<proto::data_event>(ev)) {
        begin_message();
    } else if (auto* b = std::get_if<proto::body_event>(&ev)) {
        write_body(b->bytes);
    } else if (auto* a = std::get_if<proto::message_aborted_event>(&ev)) {
        sink_.reset();
        ++srv_.mutable_stats().aborted;
        log::info(info_.id, log::ev::smtp_abort, {{"reason", a->reason}});
    } else if (auto* v = std::get_if<proto::vrfy_event>(&ev)) {
        core_.respond(p.check_vrfy(info_, *v));
    }
}

void connection::begin_message() {
    auto r = srv_.decisions().begin_message(info_, *core_.current_transaction());
    if (auto* sink = std::get_if<std::unique_ptr<message_sink>>(&r)) {
        sink_ = std::move(*sink);
        sink_error_ = {};
        core_.respond();
    } else {
        srv_.mutable_stats().count_refusal("data", std::get<proto::reply>(r));
        core_.respond(std::get<proto::reply>(r));
    }
}

void connection::write_body(std::string_view bytes) {
    if (!sink_ || sink_error_) return;
    if (auto w = sink_->write(std::span<const char>(bytes.data(), bytes.size())); !w) sink_error_ = w.error();
}

asio::awaitable<proto::reply> connection::finish_message() {
    const proto::transaction* tx = core_.current_transaction();
    if (!sink_ || sink_error_) {
        log::error(info_.id, log::ev::store_error, {{"error", sink_error_ ? sink_error_.message() : "no sink"}});
        sink_.reset();
        srv_.mutable_stats().count_refusal("data", proto::replies::storage_error(sink_error_));
        co_return proto::replies::storage_error(sink_error_);
    }
    busy_ = true;
    auto refusal = co_await async_finish(*sink_);
    busy_ = false;
    if (refusal) {
        touch();
        sink_.reset();
        srv_.mutable_stats().count_refusal("data", refusal);
        log::info(info_.id, log::ev::smtp_reject, {{"stage", "data"}, {"code", refusal->code}, {"reason", refusal->first_line()}});
        co_return *refusal;
    }
    busy_ = true;
    auto id = co_await async_commit(*sink_);
    busy_ = false;
    touch();
    sink_.reset();
    if (!id) {
        log::error(info_.id, log::ev::store_commit_error, {{"error", id.error().message()}});
        srv_.mutable_stats().count_refusal("data", proto::replies::storage_error(id.error()));
        co_return proto::replies::storage_error(id.error());
    }
    ++srv_.mutable_stats().messages;
    srv_.mutable_stats().bytes += tx->size;
    log::info(info_.id, log::ev::smtp_message,
              {{"id", *id}, {"from", tx->reverse_path.to_string()}, {"rcpts", tx->recipients.size()}, {"size", tx->size}});
    co_return proto::replies::queued(*id);
}

}  // namespace postern::server

namespace postern::server {

asio::awaitable<bool> connection::start_tls() {
    auto ctx = srv_.config().tls_context ? srv_.config().tls_context() : nullptr;
    if (!ctx) {
        log::error(info_.id, log::ev::smtp_tls_error, {{"error", "no TLS context"}});
        co_return false;
    }
    tls_ = std::make_unique<tls_state>(tls_state{ctx, asio::ssl::stream<asio::ip::tcp::socket&>(socket_, *ctx)});
    reading_ = true;  // a handshake is a read as far as shutdown and the idle sweep are concerned
    auto [ec] = co_await tls_->stream.async_handshake(asio::ssl::stream_base::server, as_result);
    reading_ = false;
    if (ec) {
        end_reason_ = timed_out_ ? "timeout" : "tls_error";
        ++srv_.mutable_stats().tls_failures;
        // info, not warn: scanners and clients that hang up mid-handshake are everyday traffic.
        log::info(info_.id, log::ev::smtp_tls_error, {{"error", ec.message()}});
        co_return false;
    }
    touch();
    ++srv_.mutable_stats().tls_handshakes;
    auto described = net::describe(tls_->stream.native_handle());
    info_.tls = true;
    info_.tls_version = std::move(described.version);
    info_.tls_cipher = std::move(described.cipher);
    log::info(info_.id, log::ev::smtp_tls, {{"version", info_.tls_version}, {"cipher", info_.tls_cipher}});
    co_return true;
}

}  // namespace postern::server
