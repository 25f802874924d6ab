// SPDX-License-Identifier: MIT
#include "app/mx_command.hpp"

#include "dns/cares_resolver.hpp"
#include "dns/idna.hpp"
#include "dns/mail_hosts.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace postern::app {
namespace {

namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;

constexpr int exit_found = 0, exit_none = 1, exit_usage = 2, exit_dns_error = 3;

struct mx_flags {
    std::string domain;
    std::string dns;
    bool json = false;
    double timeout = 10;
};

// The whole lookup under one deadline: c-ares' own timeout is per query, and the MX lookup and
// the address lookups after it would add up.
asio::awaitable<dns::mail_hosts> lookup(dns::resolver& r, std::string domain, std::mt19937_64& rng,
                                        std::chrono::milliseconds limit) {
    asio::steady_timer deadline(co_await asio::this_coro::executor, limit);
    auto find = dns::find_mail_hosts(r, domain, rng);  // made apart from the co_await: docs/coroutines.md
    auto first = co_await (std::move(find) || deadline.async_wait(asio::use_awaitable));
    if (first.index() == 0) co_return std::get<0>(std::move(first));
    dns::mail_hosts late;
    late.domain = dns::to_a_label(domain).value_or(domain);
    late.status = dns::status::timeout;
    co_return late;
}

bool any_temporary(const dns::mail_hosts& m) {
    for (const auto& h : m.hosts)
        if (dns::is_temporary(h.address_status())) return true;
    return false;
}

// What kept mail from having somewhere to go; empty when a server was found.
std::string error_token(const dns::mail_hosts& m) {
    if (m.status == dns::status::cancelled) return "timeout";  // only our deadline cancels
    if (m.status != dns::status::ok) return std::string(dns::to_string(m.status));
    if (m.null_mx) return "null_mx";
    if (!m.has_address()) return "no_address";
    return {};
}

int exit_status(const dns::mail_hosts& m) {
    switch (m.status) {
        case dns::status::ok: break;
        case dns::status::nxdomain:
        case dns::status::no_records: return exit_none;
        case dns::status::bad_name: return exit_usage;
        default: return exit_dns_error;
    }
    if (m.null_mx) return exit_none;
    if (m.has_address()) return exit_found;
    return any_temporary(m) ? exit_dns_error : exit_none;  // an unknown address might yet exist
}

std::string json_string(const std::string& s) {
    return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The layout of the example (", " and ": "), which a plain json.dump() does not give.
std::string to_json(const dns::mail_hosts& m) {
    std::string out = "{\"domain\": " + json_string(m.domain) + ", \"null_mx\": " + (m.null_mx ? "true" : "false") +
                      ", \"implicit\": " + (m.implicit ? "true" : "false") + ", \"mx\": [";
    for (std::size_t i = 0; i < m.hosts.size(); ++i) {
        const auto& h = m.hosts[i];
        out += std::string(i ? ", " : "") + "{\"preference\": " + std::to_string(h.preference) +
               ", \"host\": " + json_string(h.host) + ", \"addresses\": [";
        for (std::size_t j = 0; j < h.addresses.size(); ++j) out += (j ? ", " : "") + json_string(h.addresses[j].to_string());
        out += "]";
        if (h.addresses.empty()) out += ", \"error\": " + json_string(std::string(dns::to_string(h.address_status())));
        out += "}";
    }
    out += "]";
    if (auto e = error_token(m); !e.empty()) out += ", \"error\": " + json_string(e);
    if (!m.detail.empty()) out += ", \"detail\": " + json_string(m.detail);
    return out + "}";
}

std::string address_list(const dns::mail_host& h) {
    if (h.addresses.empty()) return "(no address: " + std::string(dns::describe(h.address_status())) + ")";
    std::string out;
    for (const auto& a : h.addresses) out += (out.empty() ? "" : ", ") + a.to_string();
    return out;
}

void print_human(const dns::mail_hosts& m) {
    const char* d = m.domain.c_str();
    if (m.status == dns::status::nxdomain) {
        std::printf("%s: no such domain (NXDOMAIN)\n", d);
    } else if (m.status == dns::status::no_records) {
        std::printf("%s: no MX and no address: no mail servers\n", d);
    } else if (m.status != dns::status::ok) {
        // status::error says nothing by itself ("DNS error"): its detail does.
        std::string why(m.status == dns::status::cancelled ? dns::describe(dns::status::timeout) : dns::describe(m.status));
        if (m.status == dns::status::error && !m.detail.empty()) why = m.detail;
        std::fprintf(stderr, "postern mx: %s: DNS error: %s\n", d, why.c_str());
    } else if (m.null_mx) {
        std::printf("%s: null MX (RFC 7505): this domain accepts no mail\n", d);
    } else {
        if (m.implicit)
            std::printf("%s: no MX; the domain's own address is its implicit MX (RFC 5321, 5.1)\n", d);
        else
            std::printf("%s: %zu MX\n", d, m.hosts.size());
        for (const auto& h : m.hosts)
            std::printf("  %u %s  %s\n", static_cast<unsigned>(h.preference), h.host.c_str(), address_list(h).c_str());
    }
}

// --dns "a:p,b:p" to c-ares' form; nullopt (after a message) when one is not an address.
std::optional<std::vector<std::string>> servers_of(const std::string& list) {
    std::vector<std::string> out;
    if (list.empty()) return out;
    for (std::size_t start = 0;;) {
        const auto comma = list.find(',', start);
        const auto item = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        auto parsed = dns::parse_server_address(item);
        if (!parsed) {
            std::fprintf(stderr, "postern mx: --dns: not ADDR or ADDR:PORT (an IP address): %s\n", item.c_str());
            return std::nullopt;
        }
        out.push_back(std::move(*parsed));
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return out;
}

int run_mx(const mx_flags& f) {
    if (!dns::to_a_label(f.domain)) {
        std::fprintf(stderr, "postern mx: not a domain name: %s\n", f.domain.c_str());
        return exit_usage;
    }
    auto servers = servers_of(f.dns);
    if (!servers) return exit_usage;
    const auto limit = std::chrono::milliseconds(std::llround(f.timeout * 1000));
    dns::resolver_options options;
    options.servers = std::move(*servers);
    options.tries = 2;  // c-ares waits t, then 2t: a third of the budget for the first try
    options.timeout = std::max(limit / 3, std::chrono::milliseconds(1));
    asio::io_context io;
    auto made = dns::cares_resolver::create(io.get_executor(), options);
    if (!made) {
        std::fprintf(stderr, "postern mx: cannot start the resolver: %s\n", made.error().message().c_str());
        return exit_dns_error;
    }
    std::unique_ptr<dns::cares_resolver> resolver = std::move(*made);
    std::mt19937_64 rng{std::random_device{}()};
    std::optional<dns::mail_hosts> found;
    asio::co_spawn(io, lookup(*resolver, f.domain, rng, limit), [&](std::exception_ptr e, dns::mail_hosts m) {
        if (!e) found = std::move(m);
        io.stop();  // the resolver's sockets would keep run() going
    });
    io.run();
    resolver.reset();
    if (!found) {
        std::fprintf(stderr, "postern mx: %s: internal error\n", f.domain.c_str());
        return exit_dns_error;
    }
    if (f.json)
        std::printf("%s\n", to_json(*found).c_str());
    else
        print_human(*found);
    return exit_status(*found);
}

}  // namespace

void add_mx_command(CLI::App& app, int& exit_code) {
    auto f = std::make_shared<mx_flags>();
    auto* mx = app.add_subcommand("mx", "Show where mail for a domain goes: MX hosts and their addresses (RFC 5321 5.1)");
    mx->add_option("DOMAIN", f->domain, "The domain (UTF-8 or A-label)")->required();
    mx->add_option("--dns", f->dns, "DNS server ADDR:PORT (comma-separated for several) instead of /etc/resolv.conf");
    mx->add_flag("--json", f->json, "JSON: {\"domain\", \"null_mx\", \"implicit\", \"mx\": [{\"preference\", \"host\", \"addresses\"}]}");
    mx->add_option("--timeout", f->timeout, "Give up on the DNS after SECONDS (default 10)")
        ->check(CLI::Range(0.001, 3600.0));
    mx->callback([f, &exit_code] { exit_code = run_mx(*f); });
}

}  // namespace postern::app
