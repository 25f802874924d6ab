// SPDX-License-Identifier: MIT
#include "app/client_common.hpp"

#include "dns/cares_resolver.hpp"
#include "dns/idna.hpp"
#include "dns/mail_hosts.hpp"
#include "message/address.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/address.hpp>
#include <netdb.h>
#include <unistd.h>

#include <charconv>
#include <random>
#include <cstdio>
#include <stdexcept>

namespace postern::app {

namespace asio = boost::asio;

client_runtime::client_runtime(const std::string& dns_server, double timeout_seconds) {
    dns::resolver_options o;
    if (!dns_server.empty()) o.servers.push_back(dns_server);
    // A third of the command's timeout per try: with 2 tries c-ares gives up after 3 x that.
    o.timeout = std::chrono::milliseconds(std::max<long long>(200, static_cast<long long>(timeout_seconds * 1000 / 3)));
    auto r = dns::cares_resolver::create(io_.get_executor(), o);
    if (!r) throw std::runtime_error("--dns " + dns_server + ": " + r.error().message());
    resolver_ = std::move(*r);
}

client_runtime::~client_runtime() { resolver_.reset(); }  // before the io_context goes

void client_runtime::run(asio::awaitable<void> task) {
    std::exception_ptr failure;
    asio::co_spawn(io_, std::move(task), [&failure](std::exception_ptr e) { failure = e; });
    io_.run();
    io_.restart();
    if (failure) std::rethrow_exception(failure);
}

namespace {

// A host from DNS as a place to connect (addresses IPv4 first, as dns::mail_host has them).
client::probe_target target_of(const dns::mail_host& h, std::uint16_t port) {
    client::probe_target t;
    t.host = h.host;
    t.port = port;
    t.addresses = h.addresses;
    if (h.addresses.empty()) t.dns_error = "DNS: " + h.host + ": " + std::string(dns::describe(h.address_status()));
    return t;
}

}  // namespace

asio::awaitable<target_list> mx_targets(dns::resolver& r, std::string domain, std::uint16_t port) {
    // Outside the coroutine frame (GCC 12 mis-warns on a large local there): hosts of equal
    // preference are shuffled with it (RFC 5321 §5.1).
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    auto lookup = dns::find_mail_hosts(r, domain, rng);  // made apart from the co_await: see docs/coroutines.md
    const dns::mail_hosts found = co_await std::move(lookup);
    target_list out;
    if (found.status != dns::status::ok || found.null_mx) {
        out.decided = true;
        if (found.null_mx) {
            out.verdict = client::verdict::undeliverable;
            out.reason = domain + " accepts no mail (null MX, RFC 7505)";
        } else if (found.status == dns::status::nxdomain || found.status == dns::status::no_records) {
            out.verdict = client::verdict::undeliverable;
            out.reason = found.status == dns::status::nxdomain ? "no such domain: " + domain
                                                               : domain + " has no MX and no address";
        } else {
            out.reason = "DNS: " + domain + ": " + std::string(dns::describe(found.status)) +
                         (found.detail.empty() ? "" : " (" + found.detail + ")");
        }
        co_return out;
    }
    for (const auto& h : found.hosts) {
        out.list.push_back(target_of(h, port));
        if (!found.implicit) out.list.back().preference = h.preference;
    }
    co_return out;
}

asio::awaitable<target_list> server_target(dns::resolver& r, std::string host_port) {
    std::string host = host_port;
    std::uint16_t port = 25;
    const auto colon = host_port.rfind(':');
    const bool bracketed = !host_port.empty() && host_port.front() == '[';
    if (colon != std::string::npos && (bracketed || host_port.find(':') == colon)) {
        const std::string_view p = std::string_view(host_port).substr(colon + 1);
        unsigned v = 0;
        auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
        if (ec != std::errc{} || end != p.data() + p.size() || v == 0 || v > 65535)
            co_return target_list{{}, true, client::verdict::unknown, "bad port in --server " + host_port};
        port = static_cast<std::uint16_t>(v);
        host = host_port.substr(0, colon);
    }
    if (bracketed) host = host.substr(1, host.size() > 2 ? host.size() - 2 : 0);
    boost::system::error_code ec;
    const auto literal = asio::ip::make_address(host, ec);
    if (!ec) {
        client::probe_target t;
        t.host = host;
        t.port = port;
        t.addresses.push_back(literal);
        co_return target_list{{std::move(t)}, false, client::verdict::unknown, {}};
    }
    auto lookup = dns::find_host_addresses(r, host);  // made apart from the co_await: docs/coroutines.md
    const dns::mail_host found = co_await std::move(lookup);
    co_return target_list{{target_of(found, port)}, false, client::verdict::unknown, {}};
}

std::string system_host_name() {
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0 || !name[0]) return "localhost";
    return name;
}

result<std::string> a_label(const std::string& domain) { return dns::to_a_label(domain); }

bool valid_helo_name(const std::string& name) {
    // RFC 5321 §4.1.1.1: Domain or address-literal, checked with the path parser.
    auto p = message::parse_path("<x@" + name + ">", message::path_kind::forward, false);
    return !name.empty() && p && p->consumed == name.size() + 4;
}

int usage_error(const char* command, const std::string& text) {
    std::fprintf(stderr, "postern %s: %s\n", command, text.c_str());
    return 2;
}

}  // namespace postern::app
