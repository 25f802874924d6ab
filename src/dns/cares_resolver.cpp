// SPDX-License-Identifier: MIT
// Theory of operation. c-ares owns the queries and their sockets; we own the waiting. After
// every call into c-ares (a new query, a readable or writable socket, the timer) we ask
// ares_timeout() when c-ares next needs to run and set the one timer to that. c-ares reports
// socket interest through sock_state_cb, synchronously, from inside those calls: a socket it
// opens gets a stream_descriptor (which only watches: it never reads, and it is released, not
// closed, when c-ares says the socket is going away, since c-ares closes it itself).
//
// Handlers that Asio runs later (a socket wait, the timer) may outlive the resolver, so they
// hold a small shared `anchor` that the destructor clears, plus their own watch record; they
// touch nothing else. Answers are posted to the executor, never run inside c-ares, so user
// code cannot re-enter c-ares or destroy the channel while c-ares is on the stack.
#include "dns/cares_resolver.hpp"

#include "dns/cares_parse.hpp"

#include <ares.h>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <charconv>
#include <mutex>
#include <optional>
#include <unordered_map>

namespace postern::dns {
namespace {

constexpr int edns_udp_size = 1232;  // DNS flag day 2020: no IP fragmentation on common paths
constexpr int class_in = 1;

class cares_error_category final : public std::error_category {
public:
    const char* name() const noexcept override { return "c-ares"; }
    std::string message(int v) const override { return ares_strerror(v); }
};

// The query in flight: owned by c-ares (as its `arg`) until the callback runs, exactly once.
template <class Record>
struct pending_query {
    asio::any_io_executor ex;
    std::string name;
    callback<Record> done;
    status (*parse)(const unsigned char*, int, std::vector<Record>&);
};

template <class Record>
void on_answer(void* arg, int code, int /*timeouts*/, unsigned char* abuf, int alen) {
    std::unique_ptr<pending_query<Record>> q(static_cast<pending_query<Record>*>(arg));
    answer<Record> a;
    a.name = std::move(q->name);
    a.status = code == ARES_SUCCESS ? q->parse(abuf, alen, a.records) : detail::from_ares(code);
    if (a.status == status::error) a.detail = code == ARES_SUCCESS ? "malformed answer" : ares_strerror(code);
    if (!a.ok()) a.records.clear();
    asio::post(q->ex, [done = std::move(q->done), a = std::move(a)]() mutable { done(std::move(a)); });
}

std::optional<std::uint16_t> parse_port(std::string_view s) {
    unsigned v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || v == 0 || v > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(v);
}

}  // namespace

const std::error_category& cares_category() noexcept {
    static const cares_error_category c;
    return c;
}

result<std::string> parse_server_address(std::string_view text) {
    std::string_view host = text, port = "53";
    if (text.starts_with('[')) {  // [v6] or [v6]:port
        const auto close = text.find(']');
        if (close == std::string_view::npos) return fail(std::errc::invalid_argument);
        host = text.substr(1, close - 1);
        const auto rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (!rest.starts_with(':')) return fail(std::errc::invalid_argument);
            port = rest.substr(1);
        }
    } else if (std::count(text.begin(), text.end(), ':') == 1) {  // v4:port; more colons: a bare v6
        host = text.substr(0, text.find(':'));
        port = text.substr(text.find(':') + 1);
    }
    boost::system::error_code ec;
    const auto addr = asio::ip::make_address(std::string(host), ec);
    const auto p = parse_port(port);
    if (ec || !p) return fail(std::errc::invalid_argument);
    const std::string a = addr.to_string();
    return (addr.is_v6() ? "[" + a + "]" : a) + ":" + std::to_string(*p);
}

struct cares_resolver::impl {
    struct anchor {
        impl* self;
    };
    // One socket c-ares asked us to watch.
    struct watch {
        explicit watch(const asio::any_io_executor& ex) : sd(ex) {}
        ~watch() {
            if (sd.is_open()) sd.release();  // c-ares closes its sockets itself
        }
        asio::posix::stream_descriptor sd;
        bool want_read = false, want_write = false, reading = false, writing = false, closed = false;
    };

    explicit impl(asio::any_io_executor e) : ex(std::move(e)), timer(ex) {}
    ~impl();

    static void socket_state(void* data, ares_socket_t fd, int readable, int writable) {
        static_cast<impl*>(data)->on_socket_state(fd, readable != 0, writable != 0);
    }
    void on_socket_state(ares_socket_t fd, bool readable, bool writable);
    void arm(const std::shared_ptr<watch>& w);
    static void on_ready(const std::shared_ptr<anchor>& a, const std::shared_ptr<watch>& w, bool read,
                         const boost::system::error_code& ec);
    void process(ares_socket_t read_fd, ares_socket_t write_fd);
    void schedule_timer();

    template <class Record>
    void query(std::string name, int type, callback<Record> done,
               status (*parse)(const unsigned char*, int, std::vector<Record>&)) {
        auto* q = new pending_query<Record>{ex, name, std::move(done), parse};
        ares_query(channel, name.c_str(), class_in, type, &on_answer<Record>, q);  // q is c-ares' now
        schedule_timer();
    }

    asio::any_io_executor ex;
    asio::steady_timer timer;
    ares_channel channel = nullptr;
    std::unordered_map<ares_socket_t, std::shared_ptr<watch>> watches;
    std::shared_ptr<anchor> anchor_ = std::make_shared<anchor>(anchor{this});
};

cares_resolver::impl::~impl() {
    anchor_->self = nullptr;
    // Runs every query's callback with ARES_EDESTRUCTION (posted as cancelled) and reports each
    // socket closed through socket_state, while *this is still whole.
    if (channel) ares_destroy(channel);
    for (auto& [fd, w] : watches) {
        w->closed = true;
        if (w->sd.is_open()) w->sd.release();
    }
}

void cares_resolver::impl::on_socket_state(ares_socket_t fd, bool readable, bool writable) {
    auto it = watches.find(fd);
    if (!readable && !writable) {  // c-ares is about to close fd
        if (it != watches.end()) {
            it->second->closed = true;
            it->second->sd.release();  // pending waits end with operation_aborted
            watches.erase(it);
        }
        return;
    }
    if (it == watches.end()) {
        auto w = std::make_shared<watch>(ex);
        boost::system::error_code ec;
        w->sd.assign(fd, ec);
        // Unwatchable (should not happen for a fresh socket): the query then ends in a timeout
        // through the timer, which is still an answer.
        if (ec) return;
        it = watches.emplace(fd, std::move(w)).first;
    }
    it->second->want_read = readable;
    it->second->want_write = writable;
    arm(it->second);
}

void cares_resolver::impl::arm(const std::shared_ptr<watch>& w) {
    if (w->closed) return;
    if (w->want_read && !w->reading) {
        w->reading = true;
        w->sd.async_wait(asio::posix::stream_descriptor::wait_read,
                         [a = anchor_, w](const boost::system::error_code& ec) { on_ready(a, w, true, ec); });
    }
    if (w->want_write && !w->writing) {
        w->writing = true;
        w->sd.async_wait(asio::posix::stream_descriptor::wait_write,
                         [a = anchor_, w](const boost::system::error_code& ec) { on_ready(a, w, false, ec); });
    }
}

void cares_resolver::impl::on_ready(const std::shared_ptr<anchor>& a, const std::shared_ptr<watch>& w, bool read,
                                    const boost::system::error_code& ec) {
    (read ? w->reading : w->writing) = false;
    if (ec || w->closed || a->self == nullptr) return;
    const auto fd = w->sd.native_handle();
    a->self->process(read ? fd : ARES_SOCKET_BAD, read ? ARES_SOCKET_BAD : fd);
    a->self->arm(w);  // no-op if c-ares closed the socket meanwhile
}

void cares_resolver::impl::process(ares_socket_t read_fd, ares_socket_t write_fd) {
    ares_process_fd(channel, read_fd, write_fd);
    schedule_timer();
}

void cares_resolver::impl::schedule_timer() {
    timeval tv{};
    if (ares_timeout(channel, nullptr, &tv) == nullptr) {  // nothing in flight
        timer.cancel();
        return;
    }
    timer.expires_after(std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec));
    timer.async_wait([a = anchor_](const boost::system::error_code& ec) {
        // Both "bad" descriptors: c-ares only checks for queries whose time is up.
        if (!ec && a->self) a->self->process(ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    });
}

cares_resolver::cares_resolver(std::unique_ptr<impl> i) : impl_(std::move(i)) {}
cares_resolver::~cares_resolver() = default;

result<std::unique_ptr<cares_resolver>> cares_resolver::create(asio::any_io_executor ex, const resolver_options& options) {
    static std::once_flag once;
    static int library_status = ARES_SUCCESS;
    std::call_once(once, [] { library_status = ares_library_init(ARES_LIB_INIT_ALL); });
    if (library_status != ARES_SUCCESS) return fail(std::error_code(library_status, cares_category()));

    std::string servers;
    for (const auto& s : options.servers) {
        auto normal = parse_server_address(s);
        if (!normal) return fail(normal.error());
        servers += (servers.empty() ? "" : ",") + *normal;
    }
    auto im = std::make_unique<impl>(std::move(ex));
    ares_options o{};
    // NOCHECKRESP: without it c-ares 1.18 drops a SERVFAIL or REFUSED answer, tries again, and
    // in the end reports ECONNREFUSED ("could not contact DNS servers"), so a broken zone and a
    // dead server would look the same. With it, ares_query maps the RCODE (ESERVFAIL,
    // EREFUSED); the cost is that the next server is not asked after such an answer.
    o.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_EDNS | ARES_FLAG_NOCHECKRESP;
    o.timeout = static_cast<int>(options.timeout.count());
    o.tries = options.tries > 0 ? options.tries : 1;
    o.ednspsz = edns_udp_size;
    o.sock_state_cb = &impl::socket_state;
    o.sock_state_cb_data = im.get();
    const int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_EDNSPSZ | ARES_OPT_SOCK_STATE_CB;
    if (int rc = ares_init_options(&im->channel, &o, mask); rc != ARES_SUCCESS) {
        im->channel = nullptr;
        return fail(std::error_code(rc, cares_category()));
    }
    if (!servers.empty()) {
        if (int rc = ares_set_servers_ports_csv(im->channel, servers.c_str()); rc != ARES_SUCCESS)
            return fail(std::error_code(rc, cares_category()));
    }
    return std::unique_ptr<cares_resolver>(new cares_resolver(std::move(im)));
}

resolver::executor_type cares_resolver::get_executor() const { return impl_->ex; }

void cares_resolver::start_mx(std::string name, callback<mx_record> done) {
    impl_->query<mx_record>(std::move(name), static_cast<int>(record_type::mx), std::move(done), &detail::parse_mx);
}

void cares_resolver::start_address(record_type type, std::string name, callback<asio::ip::address> done) {
    const bool v6 = type == record_type::aaaa;
    impl_->query<asio::ip::address>(std::move(name), static_cast<int>(v6 ? record_type::aaaa : record_type::a),
                                    std::move(done), v6 ? &detail::parse_aaaa : &detail::parse_a);
}

void cares_resolver::start_txt(std::string name, callback<txt_record> done) {
    impl_->query<txt_record>(std::move(name), static_cast<int>(record_type::txt), std::move(done), &detail::parse_txt);
}

void cares_resolver::start_tlsa(std::string name, callback<tlsa_record> done) {
    impl_->query<tlsa_record>(std::move(name), static_cast<int>(record_type::tlsa), std::move(done), &detail::parse_tlsa);
}

void cares_resolver::start_ptr(std::string name, callback<std::string> done) {
    impl_->query<std::string>(std::move(name), static_cast<int>(record_type::ptr), std::move(done), &detail::parse_ptr);
}

}  // namespace postern::dns
