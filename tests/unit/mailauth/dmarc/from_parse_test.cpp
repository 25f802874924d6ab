// SPDX-License-Identifier: MIT
#include "mailauth/dmarc_check.hpp"
#include "mailauth/from_parse.hpp"

#include <gtest/gtest.h>

#include <array>
#include <random>
#include <string>

namespace postern::mailauth {
namespace {

std::string domain_of(std::string_view value) {
    auto r = from_domain(value);
    EXPECT_TRUE(r) << value << ": " << (r ? "" : r.error().message());
    return r ? *r : std::string("<error>");
}

std::error_code error_of(std::string_view value) {
    auto r = from_domain(value);
    return r ? std::error_code{} : r.error();
}

TEST(from_domain, forms_of_one_mailbox) {
    EXPECT_EQ(domain_of("user@example.com"), "example.com");
    EXPECT_EQ(domain_of("  <user@example.com>  "), "example.com");
    EXPECT_EQ(domain_of("Jane Doe <jane@Example.COM>"), "example.com");
    EXPECT_EQ(domain_of("\"Doe, Jane\" <jane@example.org>"), "example.org");
    EXPECT_EQ(domain_of("\"jane@bank.example\" <jane@evil.example>"), "evil.example");
    EXPECT_EQ(domain_of("\"odd local\\\"part\"@example.net"), "example.net");
    EXPECT_EQ(domain_of("(comment <x@bank.example>) user@example.com (another)"), "example.com");
    EXPECT_EQ(domain_of("=?UTF-8?Q?Bank_=3Cservice=40bank=2Eexample=3E?= <x@phish.example>"), "phish.example");
    EXPECT_EQ(domain_of("=?utf-8?b?w4lsaXNl?= <elise@example.fr>"), "example.fr");
    EXPECT_EQ(domain_of("Jane\r\n <jane@example.com>"), "example.com");  // folded
    EXPECT_EQ(domain_of("<@relay.example:user@example.com>"), "example.com");  // obs-route dropped
}

TEST(from_domain, idn_domains_are_kept_as_given_and_lower_cased) {
    EXPECT_EQ(domain_of("a@XN--BCHER-KVA.Example"), "xn--bcher-kva.example");
    EXPECT_EQ(domain_of("a@bücher.example"), "bücher.example");
    EXPECT_TRUE(same_domain("Bücher.Example.", "bücher.example"));
    EXPECT_FALSE(same_domain("bücher.example", "xn--bcher-kva.example"));
}

TEST(from_domain, several_fields_or_none) {
    // RFC 7489 §6.6.1, RFC 5322 §3.6: exactly one From field.
    const std::array<std::string_view, 2> two{"a@example.com", "b@example.com"};
    EXPECT_EQ(from_domain(std::span<const std::string_view>(two)).error(), from_errc::multiple_from);
    EXPECT_EQ(from_domain(std::span<const std::string_view>()).error(), from_errc::no_from);
    const std::array<std::string_view, 1> one{"a@example.com"};
    EXPECT_EQ(*from_domain(std::span<const std::string_view>(one)), "example.com");
}

TEST(from_domain, several_mailboxes_or_a_group) {
    EXPECT_EQ(error_of("a@example.com, b@example.org"), from_errc::multiple_addresses);
    EXPECT_EQ(error_of("a@example.com, b@example.com, c@example.com"), from_errc::multiple_addresses);
    EXPECT_EQ(error_of("Undisclosed recipients:;"), from_errc::group);
    EXPECT_EQ(error_of("Team: a@example.com;"), from_errc::group);
    EXPECT_EQ(error_of("Team: a@example.com, b@example.com, c@example.com;"), from_errc::group);
    // A ':' inside quotes or a comment is no group.
    EXPECT_EQ(domain_of("\"Re: you\" <a@example.com>"), "example.com");
    EXPECT_EQ(domain_of("(note: x) a@example.com"), "example.com");
}

TEST(from_domain, no_usable_domain_or_bad_syntax) {
    EXPECT_EQ(error_of("user@[192.0.2.1]"), from_errc::no_domain);
    EXPECT_EQ(error_of("user"), from_errc::bad_syntax);
    EXPECT_EQ(error_of(""), from_errc::bad_syntax);
    EXPECT_EQ(error_of("   "), from_errc::bad_syntax);
    EXPECT_EQ(error_of("<>"), from_errc::bad_syntax);
    EXPECT_EQ(error_of("user@"), from_errc::bad_syntax);
    EXPECT_EQ(error_of("user@-bad-.example"), from_errc::bad_syntax);
    EXPECT_EQ(error_of("Jane <jane@example.com"), from_errc::bad_syntax);
    EXPECT_EQ(error_of("a@example.com b@example.org"), from_errc::bad_syntax);
    EXPECT_EQ(error_of("(unterminated a@example.com"), from_errc::bad_syntax);
    EXPECT_EQ(error_of(std::string(max_from_value + 1, 'a')), from_errc::bad_syntax);
    EXPECT_FALSE(from_errc::group == from_errc::no_domain);
    EXPECT_EQ(make_error_code(from_errc::group).message(), "From is a group");
}

TEST(from_domain, hostile_inputs_never_crash) {
    std::mt19937 rng(5322);
    static constexpr char chars[] = "a@.<>\":;,()\\[] \t\r\n=?\x00\xc3\xa9";
    const std::string alphabet(chars, sizeof chars - 1);
    for (int i = 0; i < 5000; ++i) {
        std::string s;
        const std::size_t n = rng() % 60;
        for (std::size_t k = 0; k < n; ++k) s += alphabet[rng() % alphabet.size()];
        auto r = from_domain(s);
        if (r) {
            EXPECT_FALSE(r->empty());
        }
    }
    EXPECT_FALSE(from_domain(std::string(4000, '(')));
    EXPECT_FALSE(from_domain(std::string(4000, '<')));
}

// RFC 7489 §3.2, with the Public Suffix List.
TEST(organizational_domain, registrable_domains) {
    EXPECT_EQ(organizational_domain("example.com"), "example.com");
    EXPECT_EQ(organizational_domain("a.b.example.com"), "example.com");
    EXPECT_EQ(organizational_domain("example.co.uk"), "example.co.uk");
    EXPECT_EQ(organizational_domain("mail.example.co.uk"), "example.co.uk");
    EXPECT_EQ(organizational_domain("www.xn--85x722f.xn--55qx5d.cn"), "xn--85x722f.xn--55qx5d.cn");
}

TEST(organizational_domain, public_suffixes_are_their_own) {
    EXPECT_EQ(organizational_domain("com"), "com");
    EXPECT_EQ(organizational_domain("co.uk"), "co.uk");
    EXPECT_EQ(organizational_domain("localhost"), "localhost");
}

TEST(organizational_domain, unknown_tld_uses_the_default_rule) {
    // The PSL's implicit "*" rule: the TLD is the public suffix.
    EXPECT_EQ(organizational_domain("a.b.unknowntld"), "b.unknowntld");
    EXPECT_EQ(organizational_domain("unknowntld"), "unknowntld");
}

TEST(organizational_domain, case_and_trailing_dot) {
    EXPECT_EQ(organizational_domain("Mail.Example.CO.UK."), "example.co.uk");
    EXPECT_EQ(organizational_domain("A.B.EXAMPLE.COM"), "example.com");
    EXPECT_EQ(organizational_domain("WWW.XN--85X722F.XN--55QX5D.CN"), "xn--85x722f.xn--55qx5d.cn");
    EXPECT_EQ(organizational_domain(""), "");
    EXPECT_EQ(organizational_domain("."), "");
}

TEST(organizational_domain, odd_input) {
    const std::string nul("a\0b.example.com", 15);
    EXPECT_EQ(organizational_domain(nul), nul);
    const std::string long_name(300, 'a');
    EXPECT_EQ(organizational_domain(long_name), long_name);
    (void)organizational_domain("..");
    (void)organizational_domain("a..b.com");
}

TEST(alignment, relaxed_and_strict) {
    EXPECT_TRUE(is_aligned("mail.example.com", "example.com", alignment_mode::relaxed));
    EXPECT_TRUE(is_aligned("example.com", "news.example.com", alignment_mode::relaxed));
    EXPECT_FALSE(is_aligned("example.com", "news.example.com", alignment_mode::strict));
    EXPECT_TRUE(is_aligned("EXAMPLE.com.", "example.COM", alignment_mode::strict));
    EXPECT_FALSE(is_aligned("example.co.uk", "other.co.uk", alignment_mode::relaxed));
    EXPECT_FALSE(is_aligned("", "", alignment_mode::relaxed));
    EXPECT_FALSE(is_aligned("example.com", "example.net", alignment_mode::relaxed));
}

}  // namespace
}  // namespace postern::mailauth
