// SPDX-License-Identifier: MIT
#include "dns/mail_hosts.hpp"

#include "dns/await_callback.hpp"
#include "dns/idna.hpp"

#include <algorithm>
#include <functional>
#include <memory>

namespace postern::dns {
namespace {

// Every A and AAAA lookup of a host list, all in flight at once; `done` gets the list back
// with addresses and statuses filled in when the last one answers.
struct address_gather {
    std::vector<mail_host> hosts;
    std::vector<std::vector<asio::ip::address>> v4, v6;
    std::size_t remaining = 0;
    std::function<void(std::vector<mail_host>)> done;

    void finish_one() {
        if (--remaining != 0) return;
        for (std::size_t i = 0; i < hosts.size(); ++i) {
            auto& a = hosts[i].addresses;
            a.insert(a.end(), v4[i].begin(), v4[i].end());
            a.insert(a.end(), v6[i].begin(), v6[i].end());
        }
        done(std::move(hosts));
    }
};

void start_address_lookups(resolver& r, std::vector<mail_host> hosts, std::function<void(std::vector<mail_host>)> done) {
    if (hosts.empty()) {  // no lookup would ever call finish_one(); answer later, like a lookup
        asio::post(r.get_executor(), [done = std::move(done)] { done({}); });
        return;
    }
    auto g = std::make_shared<address_gather>();
    g->v4.resize(hosts.size());
    g->v6.resize(hosts.size());
    g->remaining = 2 * hosts.size();
    g->hosts = std::move(hosts);
    g->done = std::move(done);
    for (std::size_t i = 0; i < g->hosts.size(); ++i) {
        r.query_a(g->hosts[i].host, [g, i](address_answer a) {
            g->hosts[i].a_status = a.status;
            g->v4[i] = std::move(a.records);
            g->finish_one();
        });
        r.query_aaaa(g->hosts[i].host, [g, i](address_answer a) {
            g->hosts[i].aaaa_status = a.status;
            g->v6[i] = std::move(a.records);
            g->finish_one();
        });
    }
}

asio::awaitable<std::vector<mail_host>> lookup_addresses(resolver& r, std::vector<mail_host> hosts) {
    auto on_cancel = hosts;
    for (auto& h : on_cancel) h.a_status = h.aaaa_status = status::cancelled;
    auto start = [&r, hosts = std::move(hosts)](std::function<void(std::vector<mail_host>)> done) mutable {
        start_address_lookups(r, std::move(hosts), std::move(done));
    };
    return detail::await_callback<std::vector<mail_host>>(r.get_executor(), std::move(start), std::move(on_cancel));
}

bool cancelled(const std::vector<mail_host>& hosts) {
    return std::any_of(hosts.begin(), hosts.end(), [](const mail_host& h) {
        return h.a_status == status::cancelled || h.aaaa_status == status::cancelled;
    });
}

// RFC 5321 §5.1: "If an empty list of MXs is returned, the address is treated as if it was
// associated with an implicit MX RR, with a preference of 0, pointing to that host."
asio::awaitable<mail_hosts> implicit_mx(resolver& r, mail_hosts out) {
    std::vector<mail_host> self(1);
    self[0].host = out.domain;
    self = co_await lookup_addresses(r, std::move(self));
    const status s = self[0].address_status();
    if (s == status::ok) {
        out.implicit = true;
        out.hosts = std::move(self);
    } else {
        // The domain exists (it answered NODATA for MX), so "no such host" means "no address".
        out.status = s == status::nxdomain ? status::no_records : s;
    }
    co_return out;
}

}  // namespace

status mail_host::address_status() const noexcept {
    if (!addresses.empty()) return status::ok;
    for (auto s : {a_status, aaaa_status})
        if (s != status::ok && s != status::nxdomain && s != status::no_records) return s;
    if (a_status == status::nxdomain || aaaa_status == status::nxdomain) return status::nxdomain;
    return status::no_records;
}

bool mail_hosts::has_address() const noexcept {
    return std::any_of(hosts.begin(), hosts.end(), [](const mail_host& h) { return !h.addresses.empty(); });
}

asio::awaitable<mail_host> find_host_addresses(resolver& r, std::string host) {
    std::vector<mail_host> one(1);
    one[0].host = std::move(host);
    auto lookup = lookup_addresses(r, std::move(one));  // made apart from the co_await: docs/coroutines.md
    auto found = co_await std::move(lookup);
    co_return std::move(found.front());
}

std::vector<mail_host> order_by_preference(const std::vector<mx_record>& records, std::mt19937_64& rng) {
    std::vector<mail_host> hosts;
    for (const auto& mx : records)
        if (mx.host != ".") hosts.push_back({mx.preference, mx.host, {}, status::ok, status::ok});
    // Shuffle, then a stable sort: equal preferences keep the shuffled order.
    std::shuffle(hosts.begin(), hosts.end(), rng);
    std::stable_sort(hosts.begin(), hosts.end(),
                     [](const mail_host& a, const mail_host& b) { return a.preference < b.preference; });
    return hosts;
}

asio::awaitable<mail_hosts> find_mail_hosts(resolver& r, std::string domain, std::mt19937_64& rng) {
    mail_hosts out;
    auto name = to_a_label(domain);
    if (!name) {
        out.domain = std::move(domain);
        out.status = status::bad_name;
        co_return out;
    }
    out.domain = std::move(*name);
    auto mx = co_await async_mx(r, out.domain);
    if (mx.status == status::no_records) {
        auto implicit = implicit_mx(r, std::move(out));  // made apart from the co_await: docs/coroutines.md
        co_return co_await std::move(implicit);
    }
    if (!mx.ok()) {
        out.status = mx.status;
        out.detail = std::move(mx.detail);
        co_return out;
    }
    out.hosts = order_by_preference(mx.records, rng);
    if (out.hosts.empty()) {  // only root exchanges: RFC 7505 §3
        out.null_mx = true;
        co_return out;
    }
    out.hosts = co_await lookup_addresses(r, std::move(out.hosts));
    if (cancelled(out.hosts)) out.status = status::cancelled;
    co_return out;
}

}  // namespace postern::dns
