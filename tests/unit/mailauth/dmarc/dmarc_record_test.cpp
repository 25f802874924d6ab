// SPDX-License-Identifier: MIT
#include "mailauth/dmarc_record.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace postern::mailauth {
namespace {

dmarc_record parsed(std::string_view txt) {
    auto r = parse_dmarc_record(txt);
    EXPECT_TRUE(r) << txt << ": " << (r ? "" : r.error().message());
    return r ? *r : dmarc_record{};
}

std::error_code error_of(std::string_view txt) {
    auto r = parse_dmarc_record(txt);
    return r ? std::error_code{} : r.error();
}

TEST(dmarc_record, defaults) {
    // RFC 7489 §6.3: pct 100, adkim and aspf relaxed, fo 0, rf afrf, ri 86400.
    const dmarc_record r = parsed("v=DMARC1; p=quarantine");
    EXPECT_EQ(r.p, dmarc_policy::quarantine);
    EXPECT_FALSE(r.sp);
    EXPECT_EQ(r.pct, 100u);
    EXPECT_EQ(r.adkim, alignment_mode::relaxed);
    EXPECT_EQ(r.aspf, alignment_mode::relaxed);
    EXPECT_EQ(r.fo, "0");
    EXPECT_EQ(r.rf, "afrf");
    EXPECT_EQ(r.ri, 86400u);
    EXPECT_TRUE(r.rua.empty());
    EXPECT_FALSE(r.policy_from_rua);
    EXPECT_TRUE(r.warnings.empty());
}

TEST(dmarc_record, every_tag) {
    const dmarc_record r = parsed(
        "v=DMARC1;p=reject;sp=none;pct=25;adkim=s;aspf=s;rua=mailto:a@example.com!10m,mailto:b@example.com;"
        "ruf=mailto:f@example.com!2k;fo=1:d:s;rf=afrf;ri=3600");
    EXPECT_EQ(r.p, dmarc_policy::reject);
    ASSERT_TRUE(r.sp);
    EXPECT_EQ(*r.sp, dmarc_policy::none);
    EXPECT_EQ(r.pct, 25u);
    EXPECT_EQ(r.adkim, alignment_mode::strict);
    EXPECT_EQ(r.aspf, alignment_mode::strict);
    ASSERT_EQ(r.rua.size(), 2u);
    EXPECT_EQ(r.rua[0], (report_uri{"mailto:a@example.com", 10ull << 20}));
    EXPECT_EQ(r.rua[1], (report_uri{"mailto:b@example.com", std::nullopt}));
    ASSERT_EQ(r.ruf.size(), 1u);
    EXPECT_EQ(r.ruf[0].max_size, 2048u);
    EXPECT_EQ(r.fo, "1:d:s");
    EXPECT_EQ(r.ri, 3600u);
    EXPECT_TRUE(r.warnings.empty());
    EXPECT_EQ(r.policy_for(true), dmarc_policy::none);
    EXPECT_EQ(r.policy_for(false), dmarc_policy::reject);
}

TEST(dmarc_record, whitespace_case_and_empty_specs) {
    // Tag names and keyword values are ABNF quoted strings: case-insensitive. WSP around '='.
    const dmarc_record r = parsed("  v = DMARC1 ;  P = Reject ; ADKIM=S;; ");
    EXPECT_EQ(r.p, dmarc_policy::reject);
    EXPECT_EQ(r.adkim, alignment_mode::strict);
    EXPECT_TRUE(r.warnings.empty());
}

TEST(dmarc_record, version_must_be_first_and_exact) {
    EXPECT_EQ(error_of("p=reject; v=DMARC1"), dmarc_record_errc::not_dmarc);
    EXPECT_EQ(error_of("v=DMARC2; p=reject"), dmarc_record_errc::not_dmarc);
    EXPECT_EQ(error_of("v=DMARC10; p=reject"), dmarc_record_errc::not_dmarc);
    EXPECT_EQ(error_of("v=dmarc1; p=reject"), dmarc_record_errc::not_dmarc);  // %x44.4d.41.52.43.31
    EXPECT_EQ(error_of("v=DMARC1 x; p=reject"), dmarc_record_errc::not_dmarc);
    EXPECT_EQ(error_of(""), dmarc_record_errc::not_dmarc);
    EXPECT_EQ(error_of("v=spf1 -all"), dmarc_record_errc::not_dmarc);
    EXPECT_TRUE(is_dmarc_record("v=DMARC1"));
    EXPECT_TRUE(is_dmarc_record("V=DMARC1;"));
    EXPECT_TRUE(is_dmarc_record(" v=DMARC1 ; p=none"));
    EXPECT_FALSE(is_dmarc_record("v=DMARC1p=none"));
}

TEST(dmarc_record, missing_or_bad_policy) {
    // §6.6.3 step 6.
    EXPECT_EQ(error_of("v=DMARC1"), dmarc_record_errc::bad_policy);
    EXPECT_EQ(error_of("v=DMARC1; p=rejected"), dmarc_record_errc::bad_policy);
    EXPECT_EQ(error_of("v=DMARC1; p="), dmarc_record_errc::bad_policy);
    EXPECT_EQ(error_of("v=DMARC1; p=reject; sp=maybe"), dmarc_record_errc::bad_policy);
    EXPECT_EQ(error_of("v=DMARC1; sp=reject"), dmarc_record_errc::bad_policy);
    EXPECT_EQ(error_of("v=DMARC1; rua=nonsense"), dmarc_record_errc::bad_policy);
    const dmarc_record r = parsed("v=DMARC1; sp=reject; rua=mailto:d@example.com");
    EXPECT_TRUE(r.policy_from_rua);
    EXPECT_EQ(r.p, dmarc_policy::none);
    EXPECT_FALSE(r.sp);
}

TEST(dmarc_record, bad_values_keep_defaults_with_a_warning) {
    // §6.3: "Syntax errors in the remainder of the record SHOULD be discarded in favor of
    // default values (if any) or ignored outright."
    for (const char* txt : {"v=DMARC1; p=none; pct=101", "v=DMARC1; p=none; pct=-1", "v=DMARC1; p=none; pct=1000",
                            "v=DMARC1; p=none; pct=abc", "v=DMARC1; p=none; pct="}) {
        const dmarc_record r = parsed(txt);
        EXPECT_EQ(r.pct, 100u) << txt;
        EXPECT_EQ(r.warnings.size(), 1u) << txt;
    }
    const dmarc_record r = parsed("v=DMARC1; p=none; adkim=x; aspf=relaxed; fo=2; rf=!; ri=soon; junk; =x; 9x=1");
    EXPECT_EQ(r.adkim, alignment_mode::relaxed);
    EXPECT_EQ(r.aspf, alignment_mode::relaxed);
    EXPECT_EQ(r.fo, "0");
    EXPECT_EQ(r.rf, "afrf");
    EXPECT_EQ(r.ri, 86400u);
    EXPECT_EQ(r.warnings.size(), 8u);
    EXPECT_EQ(parsed("v=DMARC1; p=none; pct=0").pct, 0u);
    EXPECT_EQ(parsed("v=DMARC1; p=none; pct=007").pct, 7u);
}

TEST(dmarc_record, unknown_tags_ignored_silently) {
    const dmarc_record r = parsed("v=DMARC1; p=reject; np=reject; psd=y; t=n; future_tag=anything at all");
    EXPECT_EQ(r.p, dmarc_policy::reject);
    EXPECT_TRUE(r.warnings.empty());
}

TEST(dmarc_record, repeated_tag_keeps_the_first) {
    const dmarc_record r = parsed("v=DMARC1; p=none; p=reject; v=DMARC1");
    EXPECT_EQ(r.p, dmarc_policy::none);
    EXPECT_EQ(r.warnings.size(), 2u);
}

TEST(dmarc_record, report_uris) {
    const dmarc_record r = parsed(
        "v=DMARC1; p=none; rua=mailto:a@example.com!1t, https://r.example/x , bad uri,mailto:b@example.com!5x,"
        "mailto:c@example.com!99999999999999999999,:nothing,mailto:");
    ASSERT_EQ(r.rua.size(), 2u);
    EXPECT_EQ(r.rua[0].max_size, 1ull << 40);
    EXPECT_EQ(r.rua[1].uri, "https://r.example/x");
    EXPECT_EQ(r.warnings.size(), 5u);
    // The list is bounded.
    std::string many = "v=DMARC1; p=none; rua=";
    for (int i = 0; i < 100; ++i) many += "mailto:r" + std::to_string(i) + "@example.com,";
    EXPECT_EQ(parsed(many).rua.size(), max_report_uris);
}

TEST(dmarc_record, ri_saturates) {
    EXPECT_EQ(parsed("v=DMARC1; p=none; ri=99999999999999999999999999").ri, 4294967295u);
}

TEST(dmarc_record, hostile_inputs_never_crash) {
    EXPECT_EQ(error_of(std::string(max_dmarc_record + 1, 'a')), dmarc_record_errc::too_long);
    std::string nul("v=DMARC1; p=reject; rua=mailto:a\0b@example.com", 46);
    EXPECT_TRUE(parse_dmarc_record(nul));
    std::string warnings = "v=DMARC1; p=none";
    for (int i = 0; i < 1000; ++i) warnings += "; pct=x";
    EXPECT_LE(parsed(warnings).warnings.size(), max_warnings);
    std::mt19937 rng(7489);
    static constexpr char chars[] = "v=DMARC1;p rejctquaS,!:@\t\r\n\"\\\x00\xff";
    const std::string alphabet(chars, sizeof chars - 1);
    for (int i = 0; i < 5000; ++i) {
        std::string s = i % 2 ? "v=DMARC1;" : "";
        const std::size_t n = rng() % 80;
        for (std::size_t k = 0; k < n; ++k) s += alphabet[rng() % alphabet.size()];
        (void)parse_dmarc_record(s);
        (void)is_dmarc_record(s);
    }
}

}  // namespace
}  // namespace postern::mailauth
