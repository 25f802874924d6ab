// SPDX-License-Identifier: MIT
// find_mail_hosts (RFC 5321 §5.1, RFC 7505) against static_resolver: order by preference,
// shuffling of equal preferences with a seeded engine, the implicit MX, the null MX, and each
// kind of failure.
#include "dns/mail_hosts.hpp"
#include "dns/static_resolver.hpp"
#include "coro_support.hpp"

#include <gtest/gtest.h>

#include <set>

namespace postern::dns {
namespace {

using testing::run_awaitable;

std::vector<std::string> names(const mail_hosts& m) {
    std::vector<std::string> out;
    for (const auto& h : m.hosts) out.push_back(h.host);
    return out;
}

std::vector<std::string> addresses(const mail_host& h) {
    std::vector<std::string> out;
    for (const auto& a : h.addresses) out.push_back(a.to_string());
    return out;
}

class mail_hosts_test : public ::testing::Test {
protected:
    mail_hosts find(std::string domain) { return run_awaitable(io_, find_mail_hosts(r_, std::move(domain), rng_)); }
    asio::io_context io_;
    static_resolver r_{io_.get_executor()};
    std::mt19937_64 rng_{42};
};

TEST_F(mail_hosts_test, hosts_by_preference_with_their_addresses) {
    auto ok = r_.load(R"(
MX   example.test 30 mx3.example.test
MX   example.test 10 mx1.example.test
MX   example.test 20 mx2.example.test
A    mx1.example.test 192.0.2.1
AAAA mx1.example.test 2001:db8::1
A    mx1.example.test 192.0.2.11
AAAA mx2.example.test 2001:db8::2
A    mx3.example.test 192.0.2.3
)");
    ASSERT_TRUE(ok) << ok.error();
    auto m = find("example.test");
    ASSERT_EQ(m.status, status::ok);
    EXPECT_FALSE(m.null_mx);
    EXPECT_FALSE(m.implicit);
    EXPECT_EQ(names(m), (std::vector<std::string>{"mx1.example.test", "mx2.example.test", "mx3.example.test"}));
    EXPECT_EQ(m.hosts[0].preference, 10);
    // IPv4 first, then IPv6, each in the order the DNS gave.
    EXPECT_EQ(addresses(m.hosts[0]), (std::vector<std::string>{"192.0.2.1", "192.0.2.11", "2001:db8::1"}));
    EXPECT_EQ(addresses(m.hosts[1]), (std::vector<std::string>{"2001:db8::2"}));
    EXPECT_EQ(m.hosts[1].a_status, status::no_records);
    EXPECT_EQ(m.hosts[1].address_status(), status::ok);
    EXPECT_TRUE(m.has_address());
}

TEST_F(mail_hosts_test, all_address_lookups_are_in_flight_at_once) {
    r_.add_mx("example.test", 10, "a.test").add_mx("example.test", 20, "b.test");
    r_.add_address("a.test", "192.0.2.1").add_address("b.test", "192.0.2.2");
    find("example.test");
    ASSERT_EQ(r_.queries().size(), 5u);  // MX, then A and AAAA for each host
    EXPECT_EQ(r_.queries()[0].first, record_type::mx);
}

TEST_F(mail_hosts_test, equal_preferences_are_shuffled_by_the_engine) {
    for (const char* h : {"a.test", "b.test", "c.test"}) r_.add_mx("example.test", 10, h).add_address(h, "192.0.2.1");
    r_.add_mx("example.test", 5, "first.test").add_address("first.test", "192.0.2.9");
    std::set<std::vector<std::string>> orders;
    for (int i = 0; i < 40; ++i) {
        auto m = find("example.test");
        ASSERT_EQ(m.hosts.size(), 4u);
        EXPECT_EQ(m.hosts[0].host, "first.test");
        orders.insert(names(m));
    }
    EXPECT_GT(orders.size(), 2u);  // 6 orders are possible; 40 draws see several
    // The same seed gives the same order: tests downstream can rely on it.
    std::mt19937_64 one{7}, two{7};
    EXPECT_EQ(names(run_awaitable(io_, find_mail_hosts(r_, "example.test", one))),
              names(run_awaitable(io_, find_mail_hosts(r_, "example.test", two))));
}

TEST_F(mail_hosts_test, order_by_preference_alone) {
    std::mt19937_64 rng{1};
    auto h = order_by_preference({{20, "b"}, {10, "a"}, {0, "."}, {30, "c"}}, rng);
    ASSERT_EQ(h.size(), 3u);
    EXPECT_EQ(h[0].host, "a");
    EXPECT_EQ(h[2].host, "c");
}

TEST_F(mail_hosts_test, no_mx_means_the_implicit_mx) {
    r_.add_address("plain.test", "192.0.2.7").add_address("plain.test", "2001:db8::7");
    auto m = find("plain.test");
    ASSERT_EQ(m.status, status::ok);
    EXPECT_TRUE(m.implicit);
    ASSERT_EQ(m.hosts.size(), 1u);
    EXPECT_EQ(m.hosts[0].preference, 0);
    EXPECT_EQ(m.hosts[0].host, "plain.test");
    EXPECT_EQ(addresses(m.hosts[0]), (std::vector<std::string>{"192.0.2.7", "2001:db8::7"}));
}

TEST_F(mail_hosts_test, no_mx_and_no_address_is_no_records) {
    r_.add_txt("bare.test", {"v=spf1 -all"});
    auto m = find("bare.test");
    EXPECT_EQ(m.status, status::no_records);
    EXPECT_FALSE(m.implicit);
    EXPECT_TRUE(m.hosts.empty());
}

TEST_F(mail_hosts_test, implicit_mx_lookup_failure_is_reported) {
    r_.add_txt("flaky.test", {"x"}).set_status("flaky.test", record_type::a, status::servfail);
    EXPECT_EQ(find("flaky.test").status, status::servfail);
    // One family failing, the other answering: the implicit MX stands.
    r_.add_address("half.test", "2001:db8::9").set_status("half.test", record_type::a, status::timeout);
    auto m = find("half.test");
    ASSERT_EQ(m.status, status::ok);
    EXPECT_TRUE(m.implicit);
    EXPECT_EQ(m.hosts.at(0).a_status, status::timeout);
    EXPECT_EQ(addresses(m.hosts[0]), (std::vector<std::string>{"2001:db8::9"}));
}

TEST_F(mail_hosts_test, null_mx_accepts_no_mail) {
    r_.add_mx("nomail.test", 0, ".").add_address("nomail.test", "192.0.2.1");
    auto m = find("nomail.test");
    EXPECT_EQ(m.status, status::ok);
    EXPECT_TRUE(m.null_mx);
    EXPECT_FALSE(m.implicit);
    EXPECT_TRUE(m.hosts.empty());
    EXPECT_FALSE(m.has_address());
    EXPECT_EQ(r_.queries().size(), 1u);  // no address lookups, not even of the domain
}

TEST_F(mail_hosts_test, a_root_exchange_among_others_is_dropped) {
    r_.add_mx("mixed.test", 0, ".").add_mx("mixed.test", 10, "mx.mixed.test").add_address("mx.mixed.test", "192.0.2.1");
    auto m = find("mixed.test");
    EXPECT_FALSE(m.null_mx);
    EXPECT_EQ(names(m), (std::vector<std::string>{"mx.mixed.test"}));
}

TEST_F(mail_hosts_test, nxdomain_and_mx_errors) {
    auto gone = find("gone.test");
    EXPECT_EQ(gone.status, status::nxdomain);
    EXPECT_TRUE(gone.hosts.empty());
    for (auto s : {status::servfail, status::refused, status::timeout, status::error}) {
        r_.set_status("broken.test", record_type::mx, s);
        auto m = find("broken.test");
        EXPECT_EQ(m.status, s);
        EXPECT_TRUE(m.hosts.empty());
    }
    EXPECT_FALSE(find("broken.test").detail.empty());  // status::error carries the resolver's words
}

TEST_F(mail_hosts_test, hosts_whose_lookups_fail_stay_with_their_error) {
    r_.add_mx("example.test", 10, "dead.test").add_mx("example.test", 20, "gone.test").add_mx("example.test", 30, "ok.test");
    r_.set_status("dead.test", record_type::any, status::servfail);
    r_.add_address("ok.test", "192.0.2.3");
    auto m = find("example.test");
    ASSERT_EQ(m.status, status::ok);
    ASSERT_EQ(m.hosts.size(), 3u);
    EXPECT_TRUE(m.hosts[0].addresses.empty());
    EXPECT_EQ(m.hosts[0].address_status(), status::servfail);
    EXPECT_EQ(m.hosts[1].address_status(), status::nxdomain);
    EXPECT_EQ(m.hosts[2].address_status(), status::ok);
    EXPECT_TRUE(m.has_address());
}

TEST_F(mail_hosts_test, one_host_s_addresses_ipv4_first_or_why_none) {
    ASSERT_TRUE(r_.load(R"(
AAAA smtp.example.test 2001:db8::25
A    smtp.example.test 192.0.2.25
STATUS A broken.example.test servfail
AAAA broken.example.test 2001:db8::26
)"));
    auto h = run_awaitable(io_, find_host_addresses(r_, "smtp.example.test"));
    EXPECT_EQ(addresses(h), (std::vector<std::string>{"192.0.2.25", "2001:db8::25"}));
    EXPECT_EQ(h.address_status(), status::ok);
    h = run_awaitable(io_, find_host_addresses(r_, "nowhere.example.test"));
    EXPECT_TRUE(h.addresses.empty());
    EXPECT_EQ(h.address_status(), status::nxdomain);
    h = run_awaitable(io_, find_host_addresses(r_, "broken.example.test"));
    EXPECT_EQ(addresses(h), (std::vector<std::string>{"2001:db8::26"}));  // the AAAA answer still counts
    EXPECT_EQ(h.a_status, status::servfail);
}

TEST_F(mail_hosts_test, idn_domains_and_bad_names) {
    r_.add_mx("bücher.test", 10, "mx.bücher.test").add_address("mx.bücher.test", "192.0.2.4");
    auto m = find("Bücher.test");
    ASSERT_EQ(m.status, status::ok);
    EXPECT_EQ(m.domain, "xn--bcher-kva.test");
    EXPECT_EQ(m.hosts.at(0).host, "mx.xn--bcher-kva.test");
    auto bad = find("not a domain");
    EXPECT_EQ(bad.status, status::bad_name);
    EXPECT_EQ(bad.domain, "not a domain");
}

}  // namespace
}  // namespace postern::dns
