// SPDX-License-Identifier: MIT
// PTR look-ups: the reverse names (RFC 1035 §3.5, RFC 3596 §2.5), static_resolver's PTR table
// lines and statuses, cares_resolver against fake_dns_server (several targets, a CNAME in front
// as RFC 2317 delegation uses, NXDOMAIN, SERVFAIL, a malformed answer), and async_ptr.
#include "coro_support.hpp"
#include "dns/cares_resolver.hpp"
#include "dns/static_resolver.hpp"
#include "fake_dns_server.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <optional>

namespace postern::dns {
namespace {

using namespace postern::dns::testing;
using namespace std::chrono_literals;

constexpr std::uint16_t t_ptr = 12;

asio::ip::address ip(const char* s) { return asio::ip::make_address(s); }

rr ptr_rr(std::string_view host) { return {t_ptr, encode_name(host)}; }

template <class Resolver>
ptr_answer ask_ptr(asio::io_context& io, Resolver& r, const char* address) {
    std::optional<ptr_answer> got;
    r.query_ptr(ip(address), [&](ptr_answer a) { got = std::move(a); });
    EXPECT_FALSE(got.has_value()) << "answered inside the call";
    EXPECT_TRUE(run_until(io, [&] { return got.has_value(); }));
    return got.value_or(ptr_answer{"", status::error, {}, "no answer"});
}

TEST(reverse_name, ipv4_and_ipv6) {
    EXPECT_EQ(reverse_name(ip("192.0.2.1")), "1.2.0.192.in-addr.arpa");
    EXPECT_EQ(reverse_name(ip("10.0.0.255")), "255.0.0.10.in-addr.arpa");
    // RFC 3596 §2.5's example shape: nibbles reversed, lower-case hex.
    EXPECT_EQ(reverse_name(ip("2001:db8::567:89ab")),
              "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
    EXPECT_EQ(reverse_name(ip("::ffff:192.0.2.1")),
              "1.0.2.0.0.0.0.c.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa");
}

TEST(record_type_names, ptr) { EXPECT_EQ(to_string(record_type::ptr), "PTR"); }

class static_ptr_test : public ::testing::Test {
protected:
    asio::io_context io_;
    static_resolver r_{io_.get_executor()};
};

TEST_F(static_ptr_test, add_ptr_and_lookup) {
    r_.add_ptr("192.0.2.1", "Mail.Example.test.").add_ptr("192.0.2.1", "other.example.test");
    r_.add_ptr("2001:db8::1", "six.example.test");
    auto a = ask_ptr(io_, r_, "192.0.2.1");
    ASSERT_EQ(a.status, status::ok);
    EXPECT_EQ(a.name, "1.2.0.192.in-addr.arpa");
    EXPECT_EQ(a.records, (std::vector<std::string>{"mail.example.test", "other.example.test"}));
    EXPECT_EQ(ask_ptr(io_, r_, "2001:db8::1").records, (std::vector<std::string>{"six.example.test"}));
    EXPECT_EQ(ask_ptr(io_, r_, "192.0.2.2").status, status::nxdomain);
    ASSERT_FALSE(r_.queries().empty());
    EXPECT_EQ(r_.queries().back().first, record_type::ptr);
    EXPECT_THROW(r_.add_ptr("not-an-ip", "h.test"), std::invalid_argument);
    EXPECT_THROW(r_.add_ptr("192.0.2.9", "a..test"), std::invalid_argument);
}

TEST_F(static_ptr_test, table_lines_and_statuses) {
    auto loaded = r_.load(R"(
dns PTR 192.0.2.1 host.example.test
PTR 2001:db8::2 h6.example.test
STATUS PTR 192.0.2.3 servfail
STATUS PTR 192.0.2.4 timeout
A host.example.test 192.0.2.1
)");
    ASSERT_TRUE(loaded) << loaded.error();
    EXPECT_EQ(ask_ptr(io_, r_, "192.0.2.1").records.at(0), "host.example.test");
    EXPECT_EQ(ask_ptr(io_, r_, "2001:db8::2").records.at(0), "h6.example.test");
    EXPECT_EQ(ask_ptr(io_, r_, "192.0.2.3").status, status::servfail);
    EXPECT_EQ(ask_ptr(io_, r_, "192.0.2.4").status, status::timeout);
    EXPECT_EQ(r_.load("PTR 192.0.2.1").error(), "line 1: PTR: expected TYPE NAME DATA");
    EXPECT_EQ(r_.load("PTR 192.0.2.1 a b").error(), "line 1: PTR: expected PTR ADDRESS HOST");
    EXPECT_NE(r_.load("PTR host.test 192.0.2.1").error().find("not an IP address"), std::string::npos);
    EXPECT_NE(r_.load("STATUS PTR host.test servfail").error().find("not an IP address"), std::string::npos);
}

TEST_F(static_ptr_test, async_ptr_in_a_coroutine) {
    r_.add_ptr("192.0.2.7", "seven.example.test");
    auto a = run_awaitable(io_, async_ptr(r_, ip("192.0.2.7")));
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(a.records.at(0), "seven.example.test");
    EXPECT_EQ(run_awaitable(io_, async_ptr(r_, ip("192.0.2.8"))).status, status::nxdomain);
}

class cares_ptr_test : public ::testing::Test {
protected:
    void SetUp() override {
        resolver_options o;
        o.servers = {dns_.address()};
        o.timeout = 300ms;
        auto made = cares_resolver::create(io_.get_executor(), o);
        ASSERT_TRUE(made) << made.error().message();
        r_ = std::move(*made);
    }
    asio::io_context io_;
    fake_dns_server dns_{io_};
    std::unique_ptr<cares_resolver> r_;
};

TEST_F(cares_ptr_test, every_target_comes_back_normalised) {
    dns_.on("1.2.0.192.in-addr.arpa", t_ptr, {0, {ptr_rr("Mail.Example.TEST"), ptr_rr("second.example.test")}});
    auto a = ask_ptr(io_, *r_, "192.0.2.1");
    ASSERT_EQ(a.status, status::ok) << a.detail;
    EXPECT_EQ(a.name, "1.2.0.192.in-addr.arpa");
    ASSERT_EQ(a.records.size(), 2u);
    EXPECT_EQ(a.records[0], "mail.example.test");
    EXPECT_EQ(a.records[1], "second.example.test");
    ASSERT_EQ(dns_.seen.size(), 1u);
    EXPECT_EQ(dns_.seen[0], (std::pair<std::string, std::uint16_t>{"1.2.0.192.in-addr.arpa", t_ptr}));
}

TEST_F(cares_ptr_test, ipv6_asks_ip6_arpa) {
    const std::string name = reverse_name(ip("2001:db8::1"));
    dns_.on(name, t_ptr, {0, {ptr_rr("six.example.test")}});
    auto a = ask_ptr(io_, *r_, "2001:db8::1");
    ASSERT_EQ(a.status, status::ok) << a.detail;
    EXPECT_EQ(a.records, (std::vector<std::string>{"six.example.test"}));
}

TEST_F(cares_ptr_test, statuses) {
    dns_.on("2.2.0.192.in-addr.arpa", t_ptr, {rcode_nxdomain, {}});
    dns_.on("3.2.0.192.in-addr.arpa", t_ptr, {rcode_servfail, {}});
    dns_.on("4.2.0.192.in-addr.arpa", t_ptr, {rcode_noerror, {}});
    dns_.on("5.2.0.192.in-addr.arpa", t_ptr, {rcode_noerror, {rr{t_ptr, {0x05, 'a'}}}});  // label runs off the end
    EXPECT_EQ(ask_ptr(io_, *r_, "192.0.2.2").status, status::nxdomain);
    EXPECT_EQ(ask_ptr(io_, *r_, "192.0.2.3").status, status::servfail);
    EXPECT_EQ(ask_ptr(io_, *r_, "192.0.2.4").status, status::no_records);
    auto bad = ask_ptr(io_, *r_, "192.0.2.5");
    EXPECT_EQ(bad.status, status::error);
    EXPECT_TRUE(bad.records.empty());
}

TEST_F(cares_ptr_test, async_ptr_over_cares) {
    dns_.on("9.2.0.192.in-addr.arpa", t_ptr, {0, {ptr_rr("nine.example.test")}});
    auto a = run_awaitable(io_, async_ptr(*r_, ip("192.0.2.9")));
    ASSERT_TRUE(a.ok()) << a.detail;
    EXPECT_EQ(a.records.at(0), "nine.example.test");
}

}  // namespace
}  // namespace postern::dns
