// SPDX-License-Identifier: MIT
// static_resolver: NXDOMAIN versus NODATA, forced statuses, the table format, IDN names, and
// answers that arrive through the executor like the real resolver's.
#include "dns/static_resolver.hpp"
#include "fake_dns_server.hpp"

#include <gtest/gtest.h>

#include <optional>

namespace postern::dns {
namespace {

using testing::run_until;

class static_resolver_test : public ::testing::Test {
protected:
    template <class Record>
    answer<Record> ask(void (resolver::*fn)(std::string_view, callback<Record>), std::string_view name) {
        std::optional<answer<Record>> got;
        (r_.*fn)(name, [&](answer<Record> a) { got = std::move(a); });
        EXPECT_FALSE(got.has_value()) << "answered inside the call";
        EXPECT_TRUE(run_until(io_, [&] { return got.has_value(); }));
        return got.value_or(answer<Record>{});
    }
    asio::io_context io_;
    static_resolver r_{io_.get_executor()};
};

TEST_F(static_resolver_test, records_nodata_and_nxdomain) {
    r_.add_mx("example.test", 10, "mx1.example.test").add_address("mx1.example.test", "192.0.2.1");
    auto mx = ask(&resolver::query_mx, "example.test");
    ASSERT_EQ(mx.status, status::ok);
    EXPECT_EQ(mx.records, (std::vector<mx_record>{{10, "mx1.example.test"}}));
    EXPECT_EQ(ask(&resolver::query_a, "example.test").status, status::no_records);
    EXPECT_EQ(ask(&resolver::query_aaaa, "mx1.example.test").status, status::no_records);
    EXPECT_EQ(ask(&resolver::query_mx, "other.test").status, status::nxdomain);
    auto a = ask(&resolver::query_a, "MX1.example.test.");
    ASSERT_EQ(a.status, status::ok);
    EXPECT_EQ(a.records.at(0).to_string(), "192.0.2.1");
}

TEST_F(static_resolver_test, addresses_go_to_a_or_aaaa_by_family) {
    r_.add_address("h.test", "2001:db8::5").add_address("h.test", "192.0.2.5");
    EXPECT_EQ(ask(&resolver::query_a, "h.test").records.at(0).to_string(), "192.0.2.5");
    EXPECT_EQ(ask(&resolver::query_aaaa, "h.test").records.at(0).to_string(), "2001:db8::5");
}

TEST_F(static_resolver_test, forced_statuses_per_type_and_for_all) {
    r_.add_mx("a.test", 10, "mx.a.test").set_status("a.test", record_type::mx, status::servfail);
    r_.set_status("b.test", record_type::any, status::timeout);
    EXPECT_EQ(ask(&resolver::query_mx, "a.test").status, status::servfail);
    EXPECT_EQ(ask(&resolver::query_txt, "a.test").status, status::no_records);
    EXPECT_EQ(ask(&resolver::query_mx, "b.test").status, status::timeout);
    EXPECT_EQ(ask(&resolver::query_tlsa, "b.test").status, status::timeout);
    auto e = ask(&resolver::query_mx, "a.test");
    EXPECT_TRUE(e.records.empty());
}

TEST_F(static_resolver_test, idn_names_are_one_entry) {
    r_.add_mx("bücher.test", 5, "mx.bücher.test");
    auto mx = ask(&resolver::query_mx, "xn--bcher-kva.test");
    ASSERT_EQ(mx.status, status::ok);
    EXPECT_EQ(mx.records.at(0).host, "mx.xn--bcher-kva.test");
    EXPECT_EQ(ask(&resolver::query_mx, "BÜCHER.test").status, status::ok);
}

TEST_F(static_resolver_test, bad_names_are_answered_without_a_lookup) {
    EXPECT_EQ(ask(&resolver::query_mx, "no such.test").status, status::bad_name);
    EXPECT_TRUE(r_.queries().empty());
    EXPECT_THROW(r_.add_mx("a..test", 1, "mx.test"), std::invalid_argument);
    EXPECT_THROW(r_.add_address("a.test", "not-an-ip"), std::invalid_argument);
}

TEST_F(static_resolver_test, queries_are_recorded) {
    ask(&resolver::query_mx, "x.test");
    ask(&resolver::query_aaaa, "y.test");
    ASSERT_EQ(r_.queries().size(), 2u);
    EXPECT_EQ(r_.queries()[0], (std::pair<record_type, std::string>{record_type::mx, "x.test"}));
    EXPECT_EQ(r_.queries()[1], (std::pair<record_type, std::string>{record_type::aaaa, "y.test"}));
}

TEST_F(static_resolver_test, table) {
    auto loaded = r_.load(R"(# a test zone
MX     example.test  10 mx1.example.test
MX     example.test  20 mx2.example.test   # backup
dns A  mx1.example.test  192.0.2.1
AAAA   mx1.example.test  2001:db8::1
TXT    example.test  "v=spf1 ip4:192.0.2.0/24 " "-all"
TXT    example.test  plain
TLSA   _25._tcp.mx1.example.test  3 1 1 00ff10
MX     nomail.test  0 .
STATUS MX broken.test servfail
STATUS * slow.test timeout
)");
    ASSERT_TRUE(loaded) << loaded.error();
    EXPECT_EQ(ask(&resolver::query_mx, "example.test").records.size(), 2u);
    auto txt = ask(&resolver::query_txt, "example.test");
    ASSERT_EQ(txt.records.size(), 2u);
    EXPECT_EQ(txt.records[0].text, "v=spf1 ip4:192.0.2.0/24 -all");
    EXPECT_EQ(txt.records[0].strings.size(), 2u);
    EXPECT_EQ(txt.records[1].text, "plain");
    auto tlsa = ask(&resolver::query_tlsa, "_25._tcp.mx1.example.test");
    ASSERT_EQ(tlsa.status, status::ok);
    EXPECT_EQ(tlsa.records.at(0), (tlsa_record{3, 1, 1, {0x00, 0xff, 0x10}}));
    EXPECT_EQ(ask(&resolver::query_mx, "nomail.test").records.at(0).host, ".");
    EXPECT_EQ(ask(&resolver::query_mx, "broken.test").status, status::servfail);
    EXPECT_EQ(ask(&resolver::query_a, "slow.test").status, status::timeout);
    EXPECT_EQ(ask(&resolver::query_aaaa, "mx1.example.test").records.at(0).to_string(), "2001:db8::1");
}

TEST_F(static_resolver_test, table_errors_name_the_line) {
    EXPECT_EQ(r_.load("MX a.test ten mx.test").error(), "line 1: MX: expected MX NAME PREFERENCE HOST");
    EXPECT_EQ(r_.load("\n\nA a.test 2001:db8::1").error(), "line 3: A: address of the other family");
    EXPECT_EQ(r_.load("TXT a.test \"open").error(), "line 1: unterminated string");
    EXPECT_EQ(r_.load("SRV a.test 1 2 3 x").error(), "line 1: SRV: unknown record type");
    EXPECT_EQ(r_.load("TLSA a.test 3 1 1 abc").error(), "line 1: TLSA: expected TLSA NAME USAGE SELECTOR MATCHING-TYPE HEX");
    EXPECT_EQ(r_.load("STATUS MX a.test ok").error(),
              "line 1: STATUS: expected STATUS TYPE|* NAME nxdomain|no_records|servfail|refused|timeout|error");
    auto bad_name = r_.load("A a..test 192.0.2.1");
    ASSERT_FALSE(bad_name);
    EXPECT_NE(bad_name.error().find("line 1: static_resolver: not a domain name"), std::string::npos);
}

}  // namespace
}  // namespace postern::dns
