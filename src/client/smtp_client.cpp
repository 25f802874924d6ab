// SPDX-License-Identifier: MIT
// Every wait races a timer (awaitable operators: the loser is cancelled), so a silent server
// costs at most the session's timeout. The TLS context is made per session with the system
// trust store (and --ca) loaded even when the session does not insist on verification: OpenSSL
// then still records the verification result, which probes report.
#include "client/smtp_client.hpp"

#include "net/tls.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <vector>

namespace postern::client {
namespace {

using namespace asio::experimental::awaitable_operators;
using tcp = asio::ip::tcp;
using clock = std::chrono::steady_clock;
constexpr auto as_result = asio::as_tuple(asio::use_awaitable);

struct connection {
    explicit connection(const asio::any_io_executor& ex) : socket(ex) {}
    tcp::socket socket;
    std::shared_ptr<asio::ssl::context> context;
    std::optional<asio::ssl::stream<tcp::socket&>> tls;
};

std::chrono::milliseconds wait_for(const session_options& o, std::chrono::milliseconds rfc) {
    return o.max_wait ? std::min(*o.max_wait, rfc) : rfc;
}

using io_result = std::optional<std::tuple<boost::system::error_code, std::size_t>>;  // nullopt: timed out

// One read or one whole write, raced against a timer.
template <class Stream>
asio::awaitable<io_result> timed_write(Stream& s, asio::const_buffer buf, std::chrono::milliseconds limit) {
    asio::steady_timer timer(co_await asio::this_coro::executor, limit);
    auto r = co_await (asio::async_write(s, buf, as_result) || timer.async_wait(as_result));
    if (r.index() == 1) co_return std::nullopt;
    co_return std::get<0>(r);
}

template <class Stream>
asio::awaitable<io_result> timed_read(Stream& s, asio::mutable_buffer buf, std::chrono::milliseconds limit) {
    asio::steady_timer timer(co_await asio::this_coro::executor, limit);
    auto r = co_await (s.async_read_some(buf, as_result) || timer.async_wait(as_result));
    if (r.index() == 1) co_return std::nullopt;
    co_return std::get<0>(r);
}

asio::awaitable<io_result> write(connection& c, asio::const_buffer buf, std::chrono::milliseconds limit) {
    if (c.tls) co_return co_await timed_write(*c.tls, buf, limit);
    co_return co_await timed_write(c.socket, buf, limit);
}

asio::awaitable<io_result> read(connection& c, asio::mutable_buffer buf, std::chrono::milliseconds limit) {
    if (c.tls) co_return co_await timed_read(*c.tls, buf, limit);
    co_return co_await timed_read(c.socket, buf, limit);
}

asio::awaitable<std::string> connect(connection& c, const tcp::endpoint& to, const session_options& o, connect_report& report) {
    asio::steady_timer timer(co_await asio::this_coro::executor, o.connect_timeout);
    const auto t0 = clock::now();
    auto r = co_await (c.socket.async_connect(to, as_result) || timer.async_wait(as_result));
    report.connect_time = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - t0);
    if (r.index() == 1) co_return "connection timed out after " + std::to_string(o.connect_timeout.count() / 1000) + " s";
    if (auto [ec] = std::get<0>(r); ec) co_return ec.message();
    report.connected = true;
    co_return std::string{};
}

// The client side of a handshake; the error text when it fails.
asio::awaitable<std::string> handshake(connection& c, const session_options& o, const std::string& host,
                                       std::chrono::milliseconds limit, connect_report& report) {
    auto ctx = net::make_client_context(true, o.tls.ca_file);
    if (!ctx) co_return "TLS setup: " + ctx.error().message();
    c.context = *ctx;
    c.tls.emplace(c.socket, *c.context);
    SSL* ssl = c.tls->native_handle();
    if (!o.tls.verify) SSL_set_verify(ssl, SSL_VERIFY_NONE, nullptr);  // checked and reported, not enforced
    if (auto r = net::set_server_name(ssl, host); !r) co_return "TLS setup: " + r.error().message();
    asio::steady_timer timer(co_await asio::this_coro::executor, limit);
    auto r = co_await (c.tls->async_handshake(asio::ssl::stream_base::client, as_result) || timer.async_wait(as_result));
    if (r.index() == 1) co_return "TLS handshake timed out";
    if (auto [ec] = std::get<0>(r); ec) {
        const long v = SSL_get_verify_result(ssl);
        if (v != X509_V_OK) co_return std::string("certificate not trusted: ") + X509_verify_cert_error_string(v);
        co_return "TLS handshake failed: " + ec.message();
    }
    const auto info = net::describe(ssl);
    report.tls = tls_report{info.version, info.cipher, net::inspect_peer(ssl, host)};
    co_return std::string{};
}

// The next chunk of the current body into the session; false when the body cannot be read.
bool feed_body(proto::client_session& s, std::vector<body_source*>& bodies, std::size_t& index, std::vector<char>& buf) {
    if (index >= bodies.size()) {
        s.fail(proto::client_failure::local, "no message body to send");
        return false;
    }
    auto n = bodies[index]->read(std::span<char>(buf.data(), buf.size()));
    if (!n) {
        s.fail(proto::client_failure::local, "reading the message: " + n.error().message());
        return false;
    }
    if (*n == 0) {
        s.end_body();
        ++index;
    } else {
        s.body(std::span<const char>(buf.data(), *n));
    }
    return true;
}

}  // namespace

result<std::size_t> memory_body::read(std::span<char> buf) {
    const std::size_t n = std::min(buf.size(), data_.size() - pos_);
    std::copy_n(data_.data() + pos_, n, buf.data());
    pos_ += n;
    return n;
}

result<std::size_t> crlf_body::read(std::span<char> buf) {
    if (buf.empty()) return std::size_t{0};
    while (pending_.empty()) {
        std::array<char, 16 * 1024> in;
        auto n = inner_->read(std::span<char>(in.data(), std::min(in.size(), buf.size())));
        if (!n) return n;
        if (*n == 0) return std::size_t{0};
        for (std::size_t i = 0; i < *n; ++i) {
            if (in[i] == '\n' && last_ != '\r') pending_ += '\r';
            pending_ += in[i];
            last_ = in[i];
        }
    }
    const std::size_t k = std::min(buf.size(), pending_.size());
    std::copy_n(pending_.data(), k, buf.data());
    pending_.erase(0, k);
    return k;
}

result<std::unique_ptr<file_body>> file_body::open(const std::filesystem::path& file) {
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail(std::error_code(errno, std::system_category()));
    return std::unique_ptr<file_body>(new file_body(fd));
}

file_body::~file_body() { ::close(fd_); }

result<std::size_t> file_body::read(std::span<char> buf) {
    for (;;) {
        const ssize_t n = ::read(fd_, buf.data(), buf.size());
        if (n >= 0) return static_cast<std::size_t>(n);
        if (errno != EINTR) return fail(std::error_code(errno, std::system_category()));
    }
}

namespace {

// The session's actions until it is done or failed. One deadline per reply awaited, not per
// read: a server trickling a byte at a time does not get a fresh timeout for each byte.
asio::awaitable<void> drive(connection& c, const session_options& o, const std::string& host, proto::client_session& s,
                            std::vector<body_source*>& bodies, connect_report& report) {
    std::vector<char> buf(64 * 1024);
    std::size_t body_index = 0;
    std::optional<clock::time_point> deadline;
    std::uint64_t replies_seen = s.replies_seen();
    for (;;) {
        const auto limit = wait_for(o, std::chrono::duration_cast<std::chrono::milliseconds>(s.timeout()));
        const auto action = s.next_action();
        if (action == proto::client_action::done || action == proto::client_action::failed) co_return;
        if (action != proto::client_action::read) deadline.reset();
        if (action == proto::client_action::write) {
            const std::string out = s.take_output();
            auto r = co_await write(c, asio::buffer(out), limit);
            if (!r) s.fail(proto::client_failure::timeout, "timed out sending to the server");
            else if (auto [ec, n] = *r; ec) s.fail(proto::client_failure::lost, "connection lost: " + ec.message());
        } else if (action == proto::client_action::read) {
            if (!deadline || s.replies_seen() != replies_seen) deadline = clock::now() + limit;
            replies_seen = s.replies_seen();
            const auto left = std::max(std::chrono::milliseconds(0),
                                       std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - clock::now()));
            auto r = co_await read(c, asio::buffer(buf), left);
            if (!r) s.fail(proto::client_failure::timeout, "no reply within " + std::to_string(limit.count() / 1000) + " s");
            else if (auto [ec, n] = *r; ec) s.fail(proto::client_failure::lost, "connection closed by the server: " + ec.message());
            else s.receive(std::span<const char>(buf.data(), n));
        } else if (action == proto::client_action::start_tls) {
            if (auto err = co_await handshake(c, o, host, limit, report); !err.empty()) {
                report.error = err;
                s.fail(proto::client_failure::tls, err);
            } else {
                s.tls_started();
            }
        } else {
            feed_body(s, bodies, body_index, buf);
        }
    }
}

}  // namespace

asio::awaitable<connect_report> run_session(tcp::endpoint to, session_options o, proto::client_session* session,
                                            std::vector<body_source*> bodies) {
    connection c(co_await asio::this_coro::executor);
    connect_report report;
    report.address = to.address().to_string();
    report.port = to.port();
    const std::string host = o.tls.server_name.empty() ? report.address : o.tls.server_name;
    proto::client_session& s = *session;
    if (auto err = co_await connect(c, to, o, report); !err.empty()) {
        report.error = err;
        s.fail(proto::client_failure::connect, err);
        co_return report;
    }
    const bool implicit = s.config().tls == proto::client_tls::implicit;
    if (implicit) {  // RFC 8314: TLS from the first byte, then the greeting
        if (auto err = co_await handshake(c, o, host, wait_for(o, std::chrono::seconds(300)), report); !err.empty()) {
            report.error = err;
            s.fail(proto::client_failure::tls, err);
            co_return report;
        }
    }
    s.start(implicit);
    co_await drive(c, o, host, s, bodies, report);
    boost::system::error_code ignored;
    c.socket.shutdown(tcp::socket::shutdown_both, ignored);
    c.socket.close(ignored);
    co_return report;
}

}  // namespace postern::client
