// SPDX-License-Identifier: MIT
// cares_resolver against fake_dns_server: each status told apart, records parsed (MX, A, AAAA,
// TXT with several strings, TLSA), names sent as A-labels, the timeout, and destruction with
// queries in flight.
#include "dns/cares_resolver.hpp"
#include "fake_dns_server.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>

namespace postern::dns {
namespace {

using namespace postern::dns::testing;
using namespace std::chrono_literals;

constexpr std::uint16_t t_a = 1, t_mx = 15, t_txt = 16, t_aaaa = 28, t_tlsa = 52;

class cares_resolver_test : public ::testing::Test {
protected:
    void SetUp() override { make({}); }

    void make(resolver_options o) {
        r_.reset();
        o.servers = {dns_.address()};
        if (o.timeout == resolver_options{}.timeout) o.timeout = 300ms;
        auto made = cares_resolver::create(io_.get_executor(), o);
        ASSERT_TRUE(made) << made.error().message();
        r_ = std::move(*made);
    }

    template <class Record>
    answer<Record> ask(void (resolver::*fn)(std::string_view, callback<Record>), std::string_view name) {
        std::optional<answer<Record>> got;
        (r_.get()->*fn)(name, [&](answer<Record> a) { got = std::move(a); });
        EXPECT_TRUE(run_until(io_, [&] { return got.has_value(); })) << name;
        return got.value_or(answer<Record>{std::string(name), status::error, {}, "no answer"});
    }

    asio::io_context io_;
    fake_dns_server dns_{io_};
    std::unique_ptr<cares_resolver> r_;
};

TEST_F(cares_resolver_test, mx_records_come_back_lower_case_without_the_dot) {
    dns_.on("example.test", t_mx, {0, {mx_rr(20, "MX2.Example.TEST"), mx_rr(10, "mx1.example.test")}});
    auto a = ask(&resolver::query_mx, "example.test");
    ASSERT_EQ(a.status, status::ok);
    EXPECT_EQ(a.name, "example.test");
    ASSERT_EQ(a.records.size(), 2u);
    EXPECT_EQ(a.records[0], (mx_record{20, "mx2.example.test"}));
    EXPECT_EQ(a.records[1], (mx_record{10, "mx1.example.test"}));
}

TEST_F(cares_resolver_test, null_mx_target_is_the_root) {
    dns_.on("nomail.test", t_mx, {0, {mx_rr(0, ".")}});
    auto a = ask(&resolver::query_mx, "nomail.test");
    ASSERT_EQ(a.status, status::ok);
    ASSERT_EQ(a.records.size(), 1u);
    EXPECT_EQ(a.records[0], (mx_record{0, "."}));
}

TEST_F(cares_resolver_test, nxdomain_nodata_servfail_and_refused_are_told_apart) {
    dns_.on("gone.test", t_mx, {rcode_nxdomain, {}});
    dns_.on("empty.test", t_mx, {rcode_noerror, {}});
    dns_.on("broken.test", t_mx, {rcode_servfail, {}});
    EXPECT_EQ(ask(&resolver::query_mx, "gone.test").status, status::nxdomain);
    EXPECT_EQ(ask(&resolver::query_mx, "empty.test").status, status::no_records);
    EXPECT_EQ(ask(&resolver::query_mx, "broken.test").status, status::servfail);
    EXPECT_EQ(ask(&resolver::query_mx, "unlisted.test").status, status::refused);
}

TEST_F(cares_resolver_test, servfail_is_final_not_retried) {
    // c-ares 1.18 would otherwise retry and then call it ECONNREFUSED (docs/dns.md).
    make({{}, 300ms, 3});
    dns_.on("broken.test", t_mx, {rcode_servfail, {}});
    EXPECT_EQ(ask(&resolver::query_mx, "broken.test").status, status::servfail);
    EXPECT_EQ(dns_.seen.size(), 1u);
}

TEST_F(cares_resolver_test, a_closed_port_is_an_error_not_a_timeout) {
    asio::ip::udp::socket probe(io_, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    const auto port = probe.local_endpoint().port();
    probe.close();  // nothing listens there now: ICMP port unreachable
    resolver_options o;
    o.timeout = 2s;
    o.servers = {"127.0.0.1:" + std::to_string(port)};
    auto made = cares_resolver::create(io_.get_executor(), o);
    ASSERT_TRUE(made);
    r_ = std::move(*made);
    const auto start = std::chrono::steady_clock::now();
    auto a = ask(&resolver::query_mx, "example.test");
    EXPECT_EQ(a.status, status::error);
    EXPECT_EQ(a.detail, "Could not contact DNS servers");
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST_F(cares_resolver_test, a_cname_alone_is_no_records) {
    dns_.on("alias.test", t_mx, {0, {cname_rr("target.test")}});
    EXPECT_EQ(ask(&resolver::query_mx, "alias.test").status, status::no_records);
}

TEST_F(cares_resolver_test, a_and_aaaa) {
    dns_.on("mx1.test", t_a, {0, {a_rr("192.0.2.1"), a_rr("192.0.2.2")}});
    dns_.on("mx1.test", t_aaaa, {0, {aaaa_rr("2001:db8::1")}});
    auto a = ask(&resolver::query_a, "mx1.test");
    ASSERT_EQ(a.status, status::ok);
    ASSERT_EQ(a.records.size(), 2u);
    EXPECT_EQ(a.records[0].to_string(), "192.0.2.1");
    EXPECT_EQ(a.records[1].to_string(), "192.0.2.2");
    auto six = ask(&resolver::query_aaaa, "mx1.test");
    ASSERT_EQ(six.status, status::ok);
    ASSERT_EQ(six.records.size(), 1u);
    EXPECT_TRUE(six.records[0].is_v6());
    EXPECT_EQ(six.records[0].to_string(), "2001:db8::1");
}

TEST_F(cares_resolver_test, txt_keeps_each_record_and_its_strings) {
    dns_.on("example.test", t_txt, {0, {txt_rr({"v=spf1 ip4:192.0.2.0/24", " -all"}), txt_rr({"other"})}});
    auto a = ask(&resolver::query_txt, "example.test");
    ASSERT_EQ(a.status, status::ok);
    ASSERT_EQ(a.records.size(), 2u);
    EXPECT_EQ(a.records[0].text, "v=spf1 ip4:192.0.2.0/24 -all");
    EXPECT_EQ(a.records[0].strings, (std::vector<std::string>{"v=spf1 ip4:192.0.2.0/24", " -all"}));
    EXPECT_EQ(a.records[1].text, "other");
}

TEST_F(cares_resolver_test, tlsa_records_are_parsed) {
    const bytes digest{0xde, 0xad, 0xbe, 0xef, 0x00, 0x01};
    dns_.on("_25._tcp.mx1.test", t_tlsa, {0, {tlsa_rr(3, 1, 1, digest), tlsa_rr(2, 0, 2, {0x42})}});
    auto a = ask(&resolver::query_tlsa, "_25._tcp.mx1.test");
    ASSERT_EQ(a.status, status::ok);
    ASSERT_EQ(a.records.size(), 2u);
    EXPECT_EQ(a.records[0], (tlsa_record{3, 1, 1, digest}));
    EXPECT_EQ(a.records[1], (tlsa_record{2, 0, 2, {0x42}}));
}

TEST_F(cares_resolver_test, a_malformed_answer_is_an_error_with_detail) {
    dns_.on("bad.test", t_mx, {0, {rr{t_mx, {0x00}}}});  // a preference cut short, no exchange
    auto a = ask(&resolver::query_mx, "bad.test");
    EXPECT_EQ(a.status, status::error);
    EXPECT_FALSE(a.detail.empty());
    EXPECT_TRUE(a.records.empty());
}

TEST_F(cares_resolver_test, silence_is_a_timeout_within_the_budget) {
    make({{}, 100ms, 2});  // 100 ms, then 200 ms
    dns_.on("slow.test", t_mx, {0, {}, true});
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(ask(&resolver::query_mx, "slow.test").status, status::timeout);
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_GE(took, 250ms);
    EXPECT_LT(took, 3s);
    EXPECT_EQ(dns_.seen.size(), 2u);
}

TEST_F(cares_resolver_test, names_go_out_as_a_labels) {
    dns_.on("xn--bcher-kva.test", t_mx, {0, {mx_rr(10, "mx.xn--bcher-kva.test")}});
    auto a = ask(&resolver::query_mx, "Bücher.test.");
    ASSERT_EQ(a.status, status::ok);
    EXPECT_EQ(a.name, "xn--bcher-kva.test");
    ASSERT_EQ(dns_.seen.size(), 1u);
    EXPECT_EQ(dns_.seen[0].first, "xn--bcher-kva.test");
}

TEST_F(cares_resolver_test, a_bad_name_never_reaches_the_wire) {
    EXPECT_EQ(ask(&resolver::query_mx, "a..b").status, status::bad_name);
    EXPECT_EQ(ask(&resolver::query_a, "☃.test").status, status::bad_name);
    EXPECT_TRUE(dns_.seen.empty());
}

TEST_F(cares_resolver_test, callbacks_never_run_inside_the_query_call) {
    dns_.on("example.test", t_mx, {0, {mx_rr(10, "mx.test")}});
    bool called = false;
    r_->query_mx("a..b", [&](mx_answer) { called = true; });
    EXPECT_FALSE(called);
    EXPECT_TRUE(run_until(io_, [&] { return called; }));
}

TEST_F(cares_resolver_test, destroying_the_resolver_cancels_what_is_in_flight) {
    dns_.on("slow.test", t_mx, {0, {}, true});
    int calls = 0;
    std::optional<status> got;
    r_->query_mx("slow.test", [&](mx_answer a) { ++calls, got = a.status; });
    r_->query_txt("slow.test", [&](txt_answer) { ++calls; });
    run_until(io_, [&] { return dns_.seen.size() >= 2; });
    r_.reset();
    EXPECT_EQ(calls, 0);  // posted, not run inside the destructor
    run_until(io_, [&] { return calls == 2; }, 1s);
    EXPECT_EQ(calls, 2);
    EXPECT_EQ(got, status::cancelled);
    io_.run_for(50ms);  // the aborted waits and the timer find nothing to touch
    EXPECT_EQ(calls, 2);
}

TEST_F(cares_resolver_test, a_callback_may_destroy_the_resolver) {
    dns_.on("example.test", t_mx, {0, {mx_rr(10, "mx.test")}});
    bool done = false;
    r_->query_mx("example.test", [&](mx_answer) {
        r_.reset();
        done = true;
    });
    EXPECT_TRUE(run_until(io_, [&] { return done; }));
    io_.run_for(50ms);
}

TEST_F(cares_resolver_test, many_queries_at_once) {
    for (int i = 0; i < 50; ++i)
        dns_.on("h" + std::to_string(i) + ".test", t_a, {0, {a_rr("192.0.2." + std::to_string(i + 1))}});
    int ok = 0;
    for (int i = 0; i < 50; ++i)
        r_->query_a("h" + std::to_string(i) + ".test", [&, i](address_answer a) {
            if (a.ok() && a.records.at(0).to_string() == "192.0.2." + std::to_string(i + 1)) ++ok;
        });
    EXPECT_TRUE(run_until(io_, [&] { return ok == 50; }));
}

TEST(cares_resolver_create, server_addresses) {
    EXPECT_EQ(parse_server_address("192.0.2.53").value_or(""), "192.0.2.53:53");
    EXPECT_EQ(parse_server_address("127.0.0.1:5353").value_or(""), "127.0.0.1:5353");
    EXPECT_EQ(parse_server_address("::1").value_or(""), "[::1]:53");
    EXPECT_EQ(parse_server_address("[::1]:5353").value_or(""), "[::1]:5353");
    for (const char* bad : {"", "dns.example", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "[::1", "[::1]x",
                            "1.2.3.4:53x", "300.1.1.1"})
        EXPECT_FALSE(parse_server_address(bad)) << bad;
}

TEST(cares_resolver_create, a_bad_server_is_invalid_argument) {
    asio::io_context io;
    resolver_options o;
    o.servers = {"dns.example:53"};
    auto r = cares_resolver::create(io.get_executor(), o);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::invalid_argument);
}

}  // namespace
}  // namespace postern::dns
