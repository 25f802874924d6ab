// SPDX-License-Identifier: MIT
// tls_load: an SMTP STARTTLS load generator for bench/tls_bench.sh. Not part of postern.
//
// Theory of operation. Each thread runs one epoll loop over its share of the sessions. A session
// is a small state machine: it sends one command, waits for the whole reply (the line whose
// fourth octet is a space), and on that reply decides what to send next. It never pipelines
// (smtp-source, the load of bench/run.sh, does not either). Sockets are non-blocking and
// registered edge-triggered for input and output; on every event the session is driven until
// the socket or OpenSSL would block, so no edge is lost.
//
//   handshake mode: connect, 220, EHLO, 250, STARTTLS, 220, TLS handshake, QUIT (inside TLS),
//                   221, close; again on a new connection. Every handshake is a full one: the
//                   client has no session cache and never offers a ticket or a PSK.
//   mail mode:      connect, 220, EHLO, STARTTLS, handshake, EHLO, then --messages transactions
//                   of MAIL, RCPT, DATA, the --size octets and ".", each ending in 250; QUIT.
//
// --seconds is a soft limit: after it no new connection (handshake mode) or transaction (mail
// mode) starts, and those under way finish, so every count is of complete exchanges and the
// server has stored every message the client counted. --grace bounds that finish (then the run
// stops and the unfinished sessions count as errors). The JSON on stdout has the counts, the wall
// time from the first connect to the last completion, the client's own CPU and what was
// negotiated.
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using steady = std::chrono::steady_clock;

enum class load_mode { handshake, mail };

struct options {
    std::string host = "127.0.0.1";
    int port = 0;
    load_mode mode = load_mode::handshake;
    int sessions = 20;
    int threads = 1;
    double seconds = 10;       // soft limit: nothing new starts after it
    double grace = 10;         // how long the exchanges under way may take to finish
    long messages = 1000000;   // per session, mail mode
    std::size_t size = 1024;   // octets of each message, headers included
    int tls_version = 0;       // 0: what both sides prefer; 12 or 13: only that version
    std::string helo = "client.bench.example";
    std::string from = "bench@bench.example";
    std::string to = "bench@bench.example";
};

template <auto Free>
struct c_deleter {
    void operator()(auto* p) const noexcept { Free(p); }
};
using ssl_ptr = std::unique_ptr<SSL, c_deleter<&SSL_free>>;
using ssl_ctx_ptr = std::unique_ptr<SSL_CTX, c_deleter<&SSL_CTX_free>>;

class unique_fd {
    int fd_ = -1;

public:
    unique_fd() = default;
    explicit unique_fd(int fd) noexcept : fd_{fd} {}
    unique_fd(unique_fd&& o) noexcept : fd_{o.fd_} { o.fd_ = -1; }
    unique_fd& operator=(unique_fd&& o) noexcept {
        if (this != &o) {
            reset();
            fd_ = o.fd_;
            o.fd_ = -1;
        }
        return *this;
    }
    ~unique_fd() { reset(); }
    int get() const noexcept { return fd_; }
    void reset() noexcept {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }
};

// What the first completed handshake negotiated: the same for every connection of a run.
struct negotiated {
    std::string version, cipher, group, signature;
};

struct counters {
    long connections = 0, handshakes = 0, messages = 0, errors = 0, new_sessions = 0;
    std::vector<std::string> error_samples;
    steady::time_point last_done{};
    void error(std::string what) {
        ++errors;
        if (error_samples.size() < 5) error_samples.push_back(std::move(what));
    }
};

// The whole message, CRLF line endings, no line starting with '.', ending in CRLF "." CRLF.
std::string make_message(const options& o) {
    std::string m = "From: <" + o.from + ">\r\nTo: <" + o.to +
                    ">\r\nSubject: tls_load\r\nDate: Mon, 23 Nov 2026 12:00:00 +0000\r\n"
                    "Message-ID: <tls-load@bench.example>\r\n\r\n";
    const std::string line(76, 'x');
    while (m.size() + line.size() + 2 <= o.size) m += line + "\r\n";
    if (m.size() + 3 <= o.size) m += std::string(o.size - m.size() - 2, 'y') + "\r\n";
    return m + ".\r\n";
}

class session;

struct loop_context {
    const options& opt;
    SSL_CTX* tls;
    const std::string& message;
    steady::time_point soft_end;
    counters stats;
    negotiated tls_info;
    int epoll_fd;
    sockaddr_in peer;
    int active = 0;   // sessions still running
};

class session {
public:
    explicit session(loop_context& ctx) : ctx_{ctx} {}
    bool running() const { return state_ != state::finished; }
    void start();
    void on_event();
    void abandon(const char* why);

private:
    enum class state { connecting, banner, ehlo, starttls, handshake, ehlo_tls, mail, rcpt, data, body, quit, finished };

    void drive();
    bool flush_output();           // false: would block
    bool read_input();             // false: would block
    bool tls_handshake();          // false: would block
    bool take_reply(int& code);    // one whole reply from in_, if there is one
    void on_reply(int code);
    void next_transaction();
    void send(std::string text, state next);
    void close_connection();
    void fail(std::string why);
    void record_negotiated();

    loop_context& ctx_;
    unique_fd fd_;
    ssl_ptr ssl_;
    state state_ = state::finished;
    std::string in_, out_;
    std::size_t out_pos_ = 0;
    long sent_ = 0;   // messages acknowledged on this connection
};

void session::start() {
    in_.clear();
    out_.clear();
    out_pos_ = 0;
    sent_ = 0;
    ssl_.reset();
    fd_ = unique_fd{::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)};
    if (fd_.get() < 0) return fail(std::string("socket: ") + std::strerror(errno));
    int one = 1;
    ::setsockopt(fd_.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (state_ == state::finished) ++ctx_.active;
    state_ = state::connecting;
    ++ctx_.stats.connections;
    if (::connect(fd_.get(), reinterpret_cast<const sockaddr*>(&ctx_.peer), sizeof ctx_.peer) != 0 &&
        errno != EINPROGRESS)
        return fail(std::string("connect: ") + std::strerror(errno));
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLET | EPOLLRDHUP;
    ev.data.ptr = this;
    if (::epoll_ctl(ctx_.epoll_fd, EPOLL_CTL_ADD, fd_.get(), &ev) != 0)
        return fail(std::string("epoll_ctl: ") + std::strerror(errno));
}

void session::on_event() {
    if (state_ == state::connecting) {
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &err, &len);
        if (err == EINPROGRESS) return;
        if (err != 0) return fail(std::string("connect: ") + std::strerror(err));
        state_ = state::banner;
    }
    drive();
}

// Progress until the socket or OpenSSL would block. Output first: a reply is only awaited once
// the command is out.
void session::drive() {
    while (running() && state_ != state::connecting) {
        if (out_pos_ < out_.size()) {
            if (!flush_output()) return;
            continue;
        }
        if (state_ == state::handshake) {
            if (!tls_handshake()) return;
            continue;
        }
        int code = 0;
        if (take_reply(code)) {
            on_reply(code);
            continue;
        }
        if (!read_input()) return;
    }
}

bool session::flush_output() {
    const char* p = out_.data() + out_pos_;
    const std::size_t left = out_.size() - out_pos_;
    if (ssl_) {
        std::size_t n = 0;
        int r = SSL_write_ex(ssl_.get(), p, left, &n);
        if (r == 1) {
            out_pos_ += n;
            return true;
        }
        int e = SSL_get_error(ssl_.get(), r);
        if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) return false;
        fail("SSL_write: error " + std::to_string(e));
        return false;
    }
    ssize_t n = ::send(fd_.get(), p, left, MSG_NOSIGNAL);
    if (n >= 0) {
        out_pos_ += static_cast<std::size_t>(n);
        return true;
    }
    if (errno == EAGAIN || errno == EINTR) return false;
    fail(std::string("send: ") + std::strerror(errno));
    return false;
}

bool session::read_input() {
    char buf[16384];
    if (ssl_) {
        std::size_t n = 0;
        int r = SSL_read_ex(ssl_.get(), buf, sizeof buf, &n);
        if (r == 1) {
            in_.append(buf, n);
            return true;
        }
        int e = SSL_get_error(ssl_.get(), r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return false;
        fail("SSL_read: error " + std::to_string(e) + " in state " + std::to_string(static_cast<int>(state_)));
        return false;
    }
    ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
    if (n > 0) {
        in_.append(buf, static_cast<std::size_t>(n));
        return true;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return false;
    fail(n == 0 ? "connection closed by the server" : std::string("recv: ") + std::strerror(errno));
    return false;
}

bool session::tls_handshake() {
    int r = SSL_connect(ssl_.get());
    if (r == 1) {
        ++ctx_.stats.handshakes;
        if (ctx_.tls_info.version.empty()) record_negotiated();
        if (ctx_.opt.mode == load_mode::handshake)
            send("QUIT\r\n", state::quit);
        else
            send("EHLO " + ctx_.opt.helo + "\r\n", state::ehlo_tls);
        return true;
    }
    int e = SSL_get_error(ssl_.get(), r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return false;
    unsigned long code = ERR_get_error();
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    ERR_clear_error();
    fail(std::string("TLS handshake: ") + text);
    return false;
}

bool session::take_reply(int& code) {
    // A reply ends with the line "DDD text": its fourth octet is a space (RFC 5321 §4.2.1).
    std::size_t start = 0;
    for (;;) {
        const std::size_t eol = in_.find("\r\n", start);
        if (eol == std::string::npos) return false;
        if (eol - start < 3) {
            fail("short reply line: " + in_.substr(start, eol - start));
            return false;
        }
        if (eol - start == 3 || in_[start + 3] == ' ') {
            code = std::atoi(in_.substr(start, 3).c_str());
            in_.erase(0, eol + 2);
            return true;
        }
        start = eol + 2;
    }
}

void session::send(std::string text, state next) {
    out_ = std::move(text);
    out_pos_ = 0;
    state_ = next;
}

void session::on_reply(int code) {
    const auto expect = [&](int want) {
        if (code == want) return true;
        fail("reply " + std::to_string(code) + " in state " + std::to_string(static_cast<int>(state_)));
        return false;
    };
    switch (state_) {
    case state::banner:
        if (expect(220)) send("EHLO " + ctx_.opt.helo + "\r\n", state::ehlo);
        break;
    case state::ehlo:
        if (expect(250)) send("STARTTLS\r\n", state::starttls);
        break;
    case state::starttls:
        if (!expect(220)) break;
        // RFC 3207 §4.2 / CVE-2011-0411: nothing may follow the 220 in clear.
        if (!in_.empty()) return fail("octets after the STARTTLS 220");
        ssl_.reset(SSL_new(ctx_.tls));
        SSL_set_fd(ssl_.get(), fd_.get());
        SSL_set_app_data(ssl_.get(), &ctx_.stats);
        state_ = state::handshake;
        break;
    case state::ehlo_tls:
        if (expect(250)) next_transaction();
        break;
    case state::mail:
        if (expect(250)) send("RCPT TO:<" + ctx_.opt.to + ">\r\n", state::rcpt);
        break;
    case state::rcpt:
        if (expect(250)) send("DATA\r\n", state::data);
        break;
    case state::data:
        if (expect(354)) send(ctx_.message, state::body);
        break;
    case state::body:
        if (!expect(250)) break;
        ++sent_;
        ++ctx_.stats.messages;
        ctx_.stats.last_done = steady::now();
        next_transaction();
        break;
    case state::quit:
        if (!expect(221)) break;
        ctx_.stats.last_done = steady::now();
        close_connection();
        if (ctx_.opt.mode == load_mode::handshake && steady::now() < ctx_.soft_end) {
            start();
        } else {
            state_ = state::finished;
            --ctx_.active;
        }
        break;
    default:
        fail("reply " + std::to_string(code) + " in an unexpected state");
    }
}

void session::next_transaction() {
    if (sent_ < ctx_.opt.messages && steady::now() < ctx_.soft_end)
        send("MAIL FROM:<" + ctx_.opt.from + "> SIZE=" + std::to_string(ctx_.message.size()) + "\r\n", state::mail);
    else
        send("QUIT\r\n", state::quit);
}

void session::record_negotiated() {
    SSL* s = ssl_.get();
    ctx_.tls_info.version = SSL_get_version(s);
    ctx_.tls_info.cipher = SSL_get_cipher_name(s);
    const int group = SSL_get_negotiated_group(s);
    // TLS 1.2 reports the curve with the TLSEXT_nid_unknown bit clear; both are plain NIDs here.
    const char* gname = OBJ_nid2sn(group & ~TLSEXT_nid_unknown);
    ctx_.tls_info.group = gname ? gname : std::to_string(group);
    int sig = 0;
    if (SSL_get_peer_signature_type_nid(s, &sig) == 1 && OBJ_nid2sn(sig)) ctx_.tls_info.signature = OBJ_nid2sn(sig);
}

void session::close_connection() {
    // No close_notify: the 221 is in, and the server closes its side after it anyway.
    ssl_.reset();
    fd_.reset();   // closing the descriptor removes it from the epoll set
}

// A failed session is not retried: in a benchmark any error means the figures are suspect, and
// the JSON reports it (and tls_load exits 1).
void session::fail(std::string why) {
    ctx_.stats.error(std::move(why));
    close_connection();
    if (state_ != state::finished) {
        state_ = state::finished;
        --ctx_.active;
    }
}

void session::abandon(const char* why) {
    if (running()) fail(why);
}

int count_new_session(SSL* ssl, SSL_SESSION*) {
    if (auto* stats = static_cast<counters*>(SSL_get_app_data(ssl))) ++stats->new_sessions;
    return 0;   // not kept: OpenSSL frees it
}

ssl_ctx_ptr make_client_context(const options& o) {
    ssl_ctx_ptr ctx{SSL_CTX_new(TLS_client_method())};
    if (!ctx) throw std::runtime_error("SSL_CTX_new failed");
    SSL_CTX_set_min_proto_version(ctx.get(), o.tls_version == 13 ? TLS1_3_VERSION : TLS1_2_VERSION);
    if (o.tls_version == 12) SSL_CTX_set_max_proto_version(ctx.get(), TLS1_2_VERSION);
    // Full handshakes only: no session is ever offered back (SSL_set_session is never called),
    // and no ticket is asked for in TLS 1.2 (RFC 5077). The callback only counts the sessions the
    // server hands out (TLS 1.3 NewSessionTicket messages): issuing them is part of its cost.
    SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx.get(), count_new_session);
    SSL_CTX_set_options(ctx.get(), SSL_OP_NO_TICKET | SSL_OP_NO_COMPRESSION);
    // Both servers use a self-signed certificate: the client checks the handshake's signature
    // (OpenSSL always does) but not the chain, as an opportunistic MTA does.
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
    SSL_CTX_set_mode(ctx.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    return ctx;
}

struct thread_result {
    counters stats;
    negotiated tls_info;
};

void run_loop(const options& o, SSL_CTX* tls, const std::string& message, int sessions, steady::time_point soft_end,
              thread_result& out) {
    unique_fd ep{::epoll_create1(EPOLL_CLOEXEC)};
    loop_context ctx{o, tls, message, soft_end, {}, {}, ep.get(), {}, 0};
    ctx.peer.sin_family = AF_INET;
    ctx.peer.sin_port = htons(static_cast<std::uint16_t>(o.port));
    ::inet_pton(AF_INET, o.host.c_str(), &ctx.peer.sin_addr);
    std::vector<std::unique_ptr<session>> all;
    for (int i = 0; i < sessions; ++i) {
        all.push_back(std::make_unique<session>(ctx));
        all.back()->start();
    }
    const auto hard_end = soft_end + std::chrono::milliseconds(static_cast<long>(o.grace * 1000));
    epoll_event events[256];
    while (ctx.active > 0 && steady::now() < hard_end) {
        const int n = ::epoll_wait(ep.get(), events, 256, 100);
        for (int i = 0; i < n; ++i) static_cast<session*>(events[i].data.ptr)->on_event();
    }
    for (auto& s : all) s->abandon("unfinished when the grace period ended");
    out.stats = std::move(ctx.stats);
    out.tls_info = ctx.tls_info;
}

std::string json_string(std::string_view s) {
    std::string r = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') r += '\\';
        if (static_cast<unsigned char>(c) < 0x20) {
            r += ' ';
            continue;
        }
        r += c;
    }
    return r + "\"";
}

double cpu_seconds_self() {
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

void print_json(const options& o, const std::vector<thread_result>& results, double wall, double cpu) {
    counters total;
    negotiated tls;
    for (const auto& r : results) {
        total.connections += r.stats.connections;
        total.handshakes += r.stats.handshakes;
        total.messages += r.stats.messages;
        total.errors += r.stats.errors;
        total.new_sessions += r.stats.new_sessions;
        for (const auto& e : r.stats.error_samples)
            if (total.error_samples.size() < 5) total.error_samples.push_back(e);
        if (tls.version.empty()) tls = r.tls_info;
    }
    std::string samples;
    for (const auto& e : total.error_samples) samples += (samples.empty() ? "" : ", ") + json_string(e);
    std::printf(
        "{\"mode\": \"%s\", \"port\": %d, \"sessions\": %d, \"threads\": %d, \"seconds_limit\": %.1f, "
        "\"message_size\": %zu, \"connections\": %ld, \"handshakes\": %ld, \"messages\": %ld, \"errors\": %ld, "
        "\"sessions_issued\": %ld, "
        "\"wall_s\": %.3f, \"handshakes_per_s\": %.1f, \"messages_per_s\": %.1f, \"client_cpu_s\": %.3f, "
        "\"tls_version\": %s, \"cipher\": %s, \"group\": %s, \"signature\": %s, \"error_samples\": [%s]}\n",
        o.mode == load_mode::handshake ? "handshake" : "mail", o.port, o.sessions, o.threads, o.seconds,
        o.mode == load_mode::mail ? o.size : 0, total.connections, total.handshakes, total.messages, total.errors,
        total.new_sessions,
        wall, wall > 0 ? total.handshakes / wall : 0.0, wall > 0 ? total.messages / wall : 0.0, cpu,
        json_string(tls.version).c_str(), json_string(tls.cipher).c_str(), json_string(tls.group).c_str(),
        json_string(tls.signature).c_str(), samples.c_str());
}

[[noreturn]] void usage(const char* why) {
    std::fprintf(stderr,
                 "tls_load: %s\n"
                 "usage: tls_load --port PORT [--host 127.0.0.1] [--mode handshake|mail] [--sessions 20]\n"
                 "                [--threads 1] [--seconds 10] [--grace 10] [--messages PER_SESSION]\n"
                 "                [--size OCTETS] [--tls 1.2|1.3] [--helo NAME] [--from ADDR] [--to ADDR]\n",
                 why);
    std::exit(2);
}

options parse_options(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (i + 1 >= argc) usage("every option takes a value");
        const char* v = argv[++i];
        if (a == "--host") o.host = v;
        else if (a == "--port") o.port = std::atoi(v);
        else if (a == "--mode" && std::string_view(v) == "handshake") o.mode = load_mode::handshake;
        else if (a == "--mode" && std::string_view(v) == "mail") o.mode = load_mode::mail;
        else if (a == "--sessions") o.sessions = std::atoi(v);
        else if (a == "--threads") o.threads = std::atoi(v);
        else if (a == "--seconds") o.seconds = std::atof(v);
        else if (a == "--grace") o.grace = std::atof(v);
        else if (a == "--messages") o.messages = std::atol(v);
        else if (a == "--size") o.size = static_cast<std::size_t>(std::atol(v));
        else if (a == "--tls") o.tls_version = std::string_view(v) == "1.2" ? 12 : std::string_view(v) == "1.3" ? 13 : -1;
        else if (a == "--helo") o.helo = v;
        else if (a == "--from") o.from = v;
        else if (a == "--to") o.to = v;
        else usage(("unknown option or value: " + std::string(a) + " " + v).c_str());
    }
    if (o.port <= 0 || o.port > 65535) usage("--port is required");
    if (o.sessions < 1 || o.threads < 1 || o.threads > o.sessions) usage("need 1 <= --threads <= --sessions");
    if (o.tls_version < 0) usage("--tls takes 1.2 or 1.3");
    if (o.size < 256) usage("--size must be at least 256");
    return o;
}

}  // namespace

int main(int argc, char** argv) {
    const options o = parse_options(argc, argv);
    ssl_ctx_ptr tls = make_client_context(o);
    const std::string message = make_message(o);
    const auto t0 = steady::now();
    const auto soft_end = t0 + std::chrono::milliseconds(static_cast<long>(o.seconds * 1000));
    const double cpu0 = cpu_seconds_self();
    std::vector<thread_result> results(static_cast<std::size_t>(o.threads));
    std::vector<std::thread> threads;
    for (int t = 0; t < o.threads; ++t) {
        const int share = o.sessions / o.threads + (t < o.sessions % o.threads ? 1 : 0);
        threads.emplace_back(run_loop, std::cref(o), tls.get(), std::cref(message), share, soft_end,
                             std::ref(results[static_cast<std::size_t>(t)]));
    }
    for (auto& t : threads) t.join();
    steady::time_point last = t0;
    for (const auto& r : results)
        if (r.stats.last_done > last) last = r.stats.last_done;
    const double wall = std::chrono::duration<double>(last - t0).count();
    print_json(o, results, wall, cpu_seconds_self() - cpu0);
    long errors = 0;
    for (const auto& r : results) errors += r.stats.errors;
    return errors == 0 ? 0 : 1;
}
