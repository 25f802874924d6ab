// SPDX-License-Identifier: MIT
// The coroutine side: async_* over the c-ares backend, a watchdog's `||` cancelling a lookup
// at once, and find_mail_hosts over real sockets (fake_dns_server).
#include "dns/cares_resolver.hpp"
#include "dns/mail_hosts.hpp"
#include "coro_support.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

namespace postern::dns {
namespace {

using namespace postern::dns::testing;
using namespace std::chrono_literals;
using namespace boost::asio::experimental::awaitable_operators;

constexpr std::uint16_t t_a = 1, t_mx = 15, t_aaaa = 28;

class awaitable_test : public ::testing::Test {
protected:
    void SetUp() override {
        resolver_options o;
        o.servers = {dns_.address()};
        o.timeout = 2s;  // far longer than any test waits: cancellation must not wait for it
        auto made = cares_resolver::create(io_.get_executor(), o);
        ASSERT_TRUE(made) << made.error().message();
        r_ = std::move(*made);
    }
    asio::io_context io_;
    fake_dns_server dns_{io_};
    std::unique_ptr<cares_resolver> r_;
};

asio::awaitable<std::string> first_exchange(resolver& r, std::string domain) {
    auto mx = co_await async_mx(r, std::move(domain));
    co_return mx.ok() ? mx.records.at(0).host : std::string(to_string(mx.status));
}

TEST_F(awaitable_test, async_mx_in_a_coroutine) {
    dns_.on("example.test", t_mx, {0, {mx_rr(10, "mx.example.test")}});
    EXPECT_EQ(run_awaitable(io_, first_exchange(*r_, "example.test")), "mx.example.test");
    EXPECT_EQ(run_awaitable(io_, first_exchange(*r_, "unlisted.test")), "refused");
}

asio::awaitable<int> lookup_or_deadline(resolver& r, std::chrono::milliseconds limit) {
    asio::steady_timer t(co_await asio::this_coro::executor, limit);
    auto v = co_await (async_mx(r, "slow.test") || t.async_wait(asio::use_awaitable));
    co_return static_cast<int>(v.index());
}

TEST_F(awaitable_test, a_watchdog_cancels_the_lookup_at_once) {
    dns_.on("slow.test", t_mx, {0, {}, true});
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(run_awaitable(io_, lookup_or_deadline(*r_, 50ms)), 1);  // the timer won
    EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
}

TEST_F(awaitable_test, find_mail_hosts_over_the_wire) {
    dns_.on("example.test", t_mx, {0, {mx_rr(20, "mx2.example.test"), mx_rr(10, "mx1.example.test")}});
    dns_.on("mx1.example.test", t_a, {0, {a_rr("192.0.2.1")}});
    dns_.on("mx1.example.test", t_aaaa, {0, {aaaa_rr("2001:db8::1")}});
    dns_.on("mx2.example.test", t_a, {rcode_servfail, {}});
    dns_.on("mx2.example.test", t_aaaa, {rcode_servfail, {}});
    std::mt19937_64 rng{1};
    auto m = run_awaitable(io_, find_mail_hosts(*r_, "example.test", rng));
    ASSERT_EQ(m.status, status::ok);
    ASSERT_EQ(m.hosts.size(), 2u);
    EXPECT_EQ(m.hosts[0].host, "mx1.example.test");
    ASSERT_EQ(m.hosts[0].addresses.size(), 2u);
    EXPECT_EQ(m.hosts[0].addresses[0].to_string(), "192.0.2.1");
    EXPECT_EQ(m.hosts[0].addresses[1].to_string(), "2001:db8::1");
    EXPECT_EQ(m.hosts[1].address_status(), status::servfail);
}

TEST_F(awaitable_test, find_mail_hosts_ends_cancelled_when_cancelled) {
    dns_.on("slow.test", t_mx, {0, {}, true});
    std::mt19937_64 rng{1};
    asio::cancellation_signal stop;
    std::optional<mail_hosts> got;
    asio::co_spawn(io_, find_mail_hosts(*r_, "slow.test", rng),
                   asio::bind_cancellation_slot(stop.slot(), [&](std::exception_ptr e, mail_hosts m) {
                       EXPECT_FALSE(e);
                       got = std::move(m);
                   }));
    run_until(io_, [&] { return !dns_.seen.empty(); });
    stop.emit(asio::cancellation_type::terminal);
    ASSERT_TRUE(run_until(io_, [&] { return got.has_value(); }, 1s));
    EXPECT_EQ(got->status, status::cancelled);
}

TEST_F(awaitable_test, destroying_the_resolver_resumes_the_coroutine_cancelled) {
    dns_.on("slow.test", t_mx, {0, {}, true});
    std::optional<std::string> got;
    asio::co_spawn(io_, first_exchange(*r_, "slow.test"), [&](std::exception_ptr, std::string s) { got = s; });
    run_until(io_, [&] { return !dns_.seen.empty(); });
    r_.reset();
    ASSERT_TRUE(run_until(io_, [&] { return got.has_value(); }, 1s));
    EXPECT_EQ(*got, "cancelled");
}

}  // namespace
}  // namespace postern::dns
