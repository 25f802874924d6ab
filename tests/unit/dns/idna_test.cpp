// SPDX-License-Identifier: MIT
// to_a_label: IDNA2008 non-transitional through libidn2, ASCII names only lower-cased, the
// trailing dot dropped, and the shape of a DNS name enforced.
#include "dns/idna.hpp"
#include "dns/types.hpp"

#include <gtest/gtest.h>

namespace postern::dns {
namespace {

std::string a_label(std::string_view s) {
    auto r = to_a_label(s);
    return r ? *r : "<" + r.error().message() + ">";
}

TEST(to_a_label, ascii_names_are_lower_cased_and_lose_the_trailing_dot) {
    EXPECT_EQ(a_label("EXAMPLE.org"), "example.org");
    EXPECT_EQ(a_label("example.org."), "example.org");
    EXPECT_EQ(a_label("mx1.Example.ORG"), "mx1.example.org");
    EXPECT_EQ(a_label("localhost"), "localhost");
}

TEST(to_a_label, unicode_names_become_a_labels) {
    EXPECT_EQ(a_label("bücher.example"), "xn--bcher-kva.example");
    EXPECT_EQ(a_label("Bücher.Example."), "xn--bcher-kva.example");
    EXPECT_EQ(a_label("ÄÖÜ.example"), "xn--4ca0bs.example");
    EXPECT_EQ(a_label("日本語.jp"), "xn--wgv71a119e.jp");
    EXPECT_EQ(a_label("xn--bcher-kva.example"), "xn--bcher-kva.example");
}

TEST(to_a_label, non_transitional_keeps_sharp_s) {
    // IDNA2008 / UTS #46 non-transitional: ß is its own letter; transitional would give fass.de.
    EXPECT_EQ(a_label("faß.de"), "xn--fa-hia.de");
}

TEST(to_a_label, nfc_input_is_normalised) {
    EXPECT_EQ(a_label("bu\xCC\x88" "cher.example"), "xn--bcher-kva.example");  // u + combining diaeresis
}

TEST(to_a_label, service_labels_with_underscores_pass) {
    EXPECT_EQ(a_label("_25._tcp.MX.example"), "_25._tcp.mx.example");
    EXPECT_EQ(a_label("sel._domainkey.example"), "sel._domainkey.example");
}

TEST(to_a_label, what_is_not_a_name_is_bad_name) {
    for (std::string_view bad : std::initializer_list<std::string_view>{"", ".", "..", "a..b", ".a", "exa mple.org", "a/b.example", "a\\.b", "☃.net",
                                 "xn--bcher-kva\xff.example", std::string_view("a\0b.example", 11)}) {
        auto r = to_a_label(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error(), status::bad_name);
        EXPECT_EQ(r.error().category().name(), std::string("dns"));
    }
}

TEST(to_a_label, label_and_name_lengths) {
    const std::string l63(63, 'a'), l64(64, 'a');
    EXPECT_TRUE(to_a_label(l63 + ".example"));
    EXPECT_FALSE(to_a_label(l64 + ".example"));
    std::string name;  // 4 x 63 + 3 dots = 255: too long; 253 is the most
    for (int i = 0; i < 4; ++i) name += (i ? "." : "") + l63;
    EXPECT_FALSE(to_a_label(name));
    EXPECT_TRUE(to_a_label(name.substr(0, 253)));
    EXPECT_TRUE(to_a_label(name.substr(0, 253) + "."));
}

TEST(dns_status, names_and_temporary) {
    EXPECT_EQ(to_string(status::nxdomain), "nxdomain");
    EXPECT_EQ(to_string(status::no_records), "no_records");
    EXPECT_EQ(to_string(record_type::tlsa), "TLSA");
    EXPECT_TRUE(is_temporary(status::servfail));
    EXPECT_TRUE(is_temporary(status::timeout));
    EXPECT_FALSE(is_temporary(status::nxdomain));
    EXPECT_FALSE(is_temporary(status::no_records));
    EXPECT_FALSE(std::error_code(status::ok));
    EXPECT_EQ(std::error_code(status::timeout).message(), "no answer (timeout)");
}

}  // namespace
}  // namespace postern::dns
