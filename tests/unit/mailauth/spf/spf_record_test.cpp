// SPDX-License-Identifier: MIT
// spf_record: record selection (§4.5), the term grammar (§4.6, §5, §6, §12) with every
// mechanism, qualifier and cidr form, the syntax errors that make a permerror, macro expansion
// with the examples of RFC 7208 §7.4, and hostile input (huge records, long macro chains, NUL
// bytes, lengths out of range).
#include "mailauth/spf_record.hpp"

#include <gtest/gtest.h>

#include <string>

namespace postern::mailauth {
namespace {

spf_record parse_ok(std::string_view text) {
    auto r = parse_spf_record(text);
    EXPECT_TRUE(r) << text << ": " << (r ? "" : r.error().message());
    return r ? *r : spf_record{};
}

spf_errc parse_error(std::string_view text) {
    auto r = parse_spf_record(text);
    EXPECT_FALSE(r) << "parsed: " << text;
    return r ? spf_errc{} : r.error().code;
}

spf_ip ip(const char* s) {
    auto a = parse_spf_ip(s);
    EXPECT_TRUE(a) << s;
    return a.value_or(spf_ip{});
}

TEST(spf_select, exactly_one_v_spf1_record) {
    EXPECT_EQ(*select_spf_record({"hello", "v=spf1 -all", "google-site-verification=x"}), "v=spf1 -all");
    EXPECT_EQ(*select_spf_record({"v=spf1"}), "v=spf1");
    EXPECT_EQ(*select_spf_record({"V=SPF1 +all"}), "V=SPF1 +all");  // ABNF strings: case-insensitive
    EXPECT_EQ(select_spf_record({"v=spf10 -all", "v=spf1x", "spf1", " v=spf1 -all"}).error().code,
              spf_errc::no_record);
    EXPECT_EQ(select_spf_record({}).error().code, spf_errc::no_record);
    EXPECT_EQ(select_spf_record({"v=spf1 -all", "v=spf1 +all"}).error().code, spf_errc::multiple_records);
}

TEST(spf_parse, every_mechanism_and_qualifier) {
    auto r = parse_ok("v=spf1 +all -include:_spf.example.com ~a ?a:mail.example.com/24//64 mx mx:%{d}/30 "
                      "ptr ptr:example.com ip4:192.0.2.0/24 ip6:2001:db8::/32 exists:%{ir}.x.example.com "
                      "IP4:192.0.2.1 MX//126");
    ASSERT_EQ(r.mechanisms.size(), 13u);
    const auto& m = r.mechanisms;
    EXPECT_EQ(m[0].kind, spf_mechanism_kind::all);
    EXPECT_EQ(m[0].qualifier, spf_qualifier::pass);
    EXPECT_EQ(m[1].kind, spf_mechanism_kind::include);
    EXPECT_EQ(m[1].qualifier, spf_qualifier::fail);
    EXPECT_EQ(m[1].domain_spec, "_spf.example.com");
    EXPECT_EQ(m[2].kind, spf_mechanism_kind::a);
    EXPECT_EQ(m[2].qualifier, spf_qualifier::softfail);
    EXPECT_EQ(m[2].domain_spec, "");
    EXPECT_EQ(m[3].qualifier, spf_qualifier::neutral);
    EXPECT_EQ(m[3].domain_spec, "mail.example.com");
    EXPECT_EQ(m[3].cidr4, 24u);
    EXPECT_EQ(m[3].cidr6, 64u);
    EXPECT_EQ(m[4].kind, spf_mechanism_kind::mx);
    EXPECT_EQ(m[4].cidr4, 32u);
    EXPECT_EQ(m[4].cidr6, 128u);
    EXPECT_EQ(m[5].domain_spec, "%{d}");
    EXPECT_EQ(m[5].cidr4, 30u);
    EXPECT_EQ(m[6].kind, spf_mechanism_kind::ptr);
    EXPECT_EQ(m[7].domain_spec, "example.com");
    EXPECT_EQ(m[8].kind, spf_mechanism_kind::ip4);
    EXPECT_EQ(m[8].network, ip("192.0.2.0"));
    EXPECT_EQ(m[8].cidr4, 24u);
    EXPECT_EQ(m[9].kind, spf_mechanism_kind::ip6);
    EXPECT_EQ(m[9].cidr6, 32u);
    EXPECT_EQ(m[10].kind, spf_mechanism_kind::exists);
    EXPECT_EQ(m[11].kind, spf_mechanism_kind::ip4);  // mechanism names are case-insensitive
    EXPECT_EQ(m[11].cidr4, 32u);
    EXPECT_EQ(m[12].cidr6, 126u);
    EXPECT_EQ(m[12].text, "MX//126");
    EXPECT_TRUE(r.has_all());
}

TEST(spf_parse, modifiers) {
    auto r = parse_ok("v=spf1 redirect=_spf.example.com exp=explain.%{d} moo=%{l}.x foo.bar-baz_1= ");
    EXPECT_TRUE(r.mechanisms.empty());
    EXPECT_EQ(r.redirect, "_spf.example.com");
    EXPECT_EQ(r.exp, "explain.%{d}");
    EXPECT_FALSE(r.has_all());
    EXPECT_EQ(parse_ok("v=spf1 REDIRECT=a.example").redirect, "a.example");
    EXPECT_EQ(parse_ok("v=spf1 a=b.example").mechanisms.size(), 0u);  // a modifier, not "a"
    EXPECT_EQ(parse_error("v=spf1 redirect=a.example redirect=b.example"), spf_errc::duplicate_modifier);
    EXPECT_EQ(parse_error("v=spf1 exp=a.example exp=a.example"), spf_errc::duplicate_modifier);
    EXPECT_EQ(parse_error("v=spf1 redirect="), spf_errc::bad_domain_spec);
    EXPECT_EQ(parse_error("v=spf1 exp="), spf_errc::bad_domain_spec);
    EXPECT_EQ(parse_error("v=spf1 redirect=nodot"), spf_errc::bad_domain_spec);
    EXPECT_EQ(parse_error("v=spf1 moo=%x"), spf_errc::bad_macro);
    EXPECT_EQ(parse_error("v=spf1 redirect=%{t}.example.com"), spf_errc::forbidden_macro);
    EXPECT_EQ(parse_ok("v=spf1 moo=%{t}").mechanisms.size(), 0u);  // unknown modifiers: any letter
}

TEST(spf_parse, spaces_and_versions) {
    EXPECT_TRUE(parse_ok("v=spf1").mechanisms.empty());
    EXPECT_EQ(parse_ok("v=spf1    -all   ").mechanisms.size(), 1u);
    EXPECT_EQ(parse_error("v=spf10 -all"), spf_errc::not_spf1);
    EXPECT_EQ(parse_error("spf1 -all"), spf_errc::not_spf1);
    EXPECT_EQ(parse_error(""), spf_errc::not_spf1);
    EXPECT_EQ(parse_error("v=spf1 -all\t"), spf_errc::bad_character);  // only SP separates terms
    EXPECT_EQ(parse_error("v=spf1\t-all"), spf_errc::not_spf1);
}

TEST(spf_parse, syntax_errors) {
    struct bad {
        const char* record;
        spf_errc code;
    };
    const bad cases[] = {
        {"v=spf1 foo", spf_errc::unknown_mechanism},
        {"v=spf1 allx", spf_errc::unknown_mechanism},
        {"v=spf1 -", spf_errc::unknown_mechanism},
        {"v=spf1 +-all", spf_errc::unknown_mechanism},
        {"v=spf1 all:example.com", spf_errc::bad_mechanism},
        {"v=spf1 all/24", spf_errc::bad_mechanism},
        {"v=spf1 include", spf_errc::bad_mechanism},
        {"v=spf1 include:", spf_errc::bad_domain_spec},
        {"v=spf1 include:example.com/24", spf_errc::bad_domain_spec},
        {"v=spf1 exists", spf_errc::bad_mechanism},
        {"v=spf1 ptr/24", spf_errc::bad_mechanism},
        {"v=spf1 a:", spf_errc::bad_domain_spec},
        {"v=spf1 a:1.2.3.4", spf_errc::bad_domain_spec},   // an all-numeric top label
        {"v=spf1 a:example.-com", spf_errc::bad_domain_spec},
        {"v=spf1 a:example", spf_errc::bad_domain_spec},
        {"v=spf1 a/33", spf_errc::bad_cidr},
        {"v=spf1 a//129", spf_errc::bad_cidr},
        {"v=spf1 a/024", spf_errc::bad_cidr},
        {"v=spf1 mx/1000", spf_errc::bad_cidr},
        {"v=spf1 ax", spf_errc::unknown_mechanism},
        {"v=spf1 ip4", spf_errc::bad_mechanism},
        {"v=spf1 ip4:", spf_errc::bad_ip},
        {"v=spf1 ip4:192.0.2.256", spf_errc::bad_ip},
        {"v=spf1 ip4:192.0.2", spf_errc::bad_ip},
        {"v=spf1 ip4:192.0.02.1", spf_errc::bad_ip},
        {"v=spf1 ip4:192.0.2.1/33", spf_errc::bad_cidr},
        {"v=spf1 ip4:192.0.2.1/", spf_errc::bad_cidr},
        {"v=spf1 ip4:192.0.2.1//64", spf_errc::bad_cidr},
        {"v=spf1 ip4:2001:db8::1", spf_errc::bad_ip},
        {"v=spf1 ip6:192.0.2.1", spf_errc::bad_ip},
        {"v=spf1 ip6:2001:db8::1/129", spf_errc::bad_cidr},
        {"v=spf1 ip6:2001:db8:::1", spf_errc::bad_ip},
        {"v=spf1 exists:%{x}.example.com", spf_errc::bad_macro},
        {"v=spf1 exists:%{d0}.example.com", spf_errc::bad_macro},
        {"v=spf1 exists:%{d", spf_errc::bad_macro},
        {"v=spf1 exists:%{d}.%", spf_errc::bad_macro},
        {"v=spf1 exists:%{c}.example.com", spf_errc::forbidden_macro},
        {"v=spf1 exists:%{r}.example.com", spf_errc::forbidden_macro},
        {"v=spf1 a:ex\xc3\xa9.com", spf_errc::bad_character},
    };
    for (const auto& c : cases) EXPECT_EQ(parse_error(c.record), c.code) << c.record;
}

TEST(spf_parse, domain_ends) {
    EXPECT_EQ(parse_ok("v=spf1 a:example.com.").mechanisms.at(0).domain_spec, "example.com.");
    EXPECT_EQ(parse_ok("v=spf1 a:example.x-1").mechanisms.size(), 1u);
    EXPECT_EQ(parse_ok("v=spf1 a:example.1-2").mechanisms.size(), 1u);
    EXPECT_EQ(parse_ok("v=spf1 exists:%{l}%%").mechanisms.size(), 1u);  // "%%" is a macro-expand
    EXPECT_EQ(parse_ok("v=spf1 a:%{d}/24").mechanisms.at(0).cidr4, 24u);
}

TEST(spf_parse, hostile_inputs) {
    std::string huge = "v=spf1";
    for (int i = 0; i < 20000; ++i) huge += " ip4:192.0.2." + std::to_string(i % 256);
    EXPECT_EQ(parse_ok(huge).mechanisms.size(), 20000u);
    std::string nul("v=spf1 ip4:192.0.2.1\0 -all", 26);
    EXPECT_EQ(parse_error(nul), spf_errc::bad_character);
    EXPECT_EQ(parse_error(std::string("v=spf1 ip6:::1\0:1", 17)), spf_errc::bad_character);
    EXPECT_EQ(parse_error("v=spf1 a/99999999999999999999"), spf_errc::bad_cidr);
    EXPECT_EQ(parse_ok("v=spf1 exists:%{d99999999999999999999}").mechanisms.size(), 1u);  // digits saturate
    std::string long_term = "v=spf1 a:" + std::string(100000, 'x') + ".com";
    EXPECT_EQ(parse_ok(long_term).mechanisms.size(), 1u);
    auto e = parse_spf_record("v=spf1 " + std::string(500, '\x01'));
    ASSERT_FALSE(e);
    EXPECT_LT(e.error().message().size(), 120u);  // the context is cut and made printable
}

TEST(spf_ip, parse_and_match) {
    EXPECT_FALSE(parse_spf_ip("1.2.3"));
    EXPECT_FALSE(parse_spf_ip("01.2.3.4"));
    EXPECT_FALSE(parse_spf_ip("1.2.3.4 "));
    EXPECT_FALSE(parse_spf_ip("::g"));
    EXPECT_TRUE(parse_spf_ip("::ffff:192.0.2.1"));
    EXPECT_TRUE(spf_ip_in_network(ip("192.0.2.200"), ip("192.0.2.0"), 24));
    EXPECT_FALSE(spf_ip_in_network(ip("192.0.3.1"), ip("192.0.2.0"), 24));
    EXPECT_TRUE(spf_ip_in_network(ip("203.0.113.9"), ip("0.0.0.0"), 0));
    EXPECT_TRUE(spf_ip_in_network(ip("192.0.2.129"), ip("192.0.2.128"), 25));
    EXPECT_FALSE(spf_ip_in_network(ip("192.0.2.127"), ip("192.0.2.128"), 25));
    EXPECT_TRUE(spf_ip_in_network(ip("2001:db8:1::5"), ip("2001:db8::"), 32));
    EXPECT_FALSE(spf_ip_in_network(ip("2001:db9::5"), ip("2001:db8::"), 32));
    EXPECT_FALSE(spf_ip_in_network(ip("192.0.2.1"), ip("::"), 0));  // families never match
}

// RFC 7208 §7.4.
class spf_macro_test : public ::testing::Test {
protected:
    spf_macro_context ctx_{"strong-bad@email.example.com", "email.example.com", *parse_spf_ip("192.0.2.3"),
                           "mx.example.org", "mx.example.net", 1700000000, ""};
    std::string expand(std::string_view s, spf_macro_use use = spf_macro_use::domain_spec) {
        auto r = expand_spf_macro(s, ctx_, use);
        EXPECT_TRUE(r) << s << ": " << (r ? "" : r.error().message());
        return r ? *r : "<error>";
    }
};

TEST_F(spf_macro_test, rfc7208_section_7_4_examples) {
    EXPECT_EQ(expand("%{s}"), "strong-bad@email.example.com");
    EXPECT_EQ(expand("%{o}"), "email.example.com");
    EXPECT_EQ(expand("%{d}"), "email.example.com");
    EXPECT_EQ(expand("%{d4}"), "email.example.com");
    EXPECT_EQ(expand("%{d3}"), "email.example.com");
    EXPECT_EQ(expand("%{d2}"), "example.com");
    EXPECT_EQ(expand("%{d1}"), "com");
    EXPECT_EQ(expand("%{dr}"), "com.example.email");
    EXPECT_EQ(expand("%{d2r}"), "example.email");
    EXPECT_EQ(expand("%{l}"), "strong-bad");
    EXPECT_EQ(expand("%{l-}"), "strong.bad");
    EXPECT_EQ(expand("%{lr}"), "strong-bad");
    EXPECT_EQ(expand("%{lr-}"), "bad.strong");
    EXPECT_EQ(expand("%{l1r-}"), "strong");
    EXPECT_EQ(expand("%{ir}.%{v}._spf.%{d2}"), "3.2.0.192.in-addr._spf.example.com");
    EXPECT_EQ(expand("%{lr-}.lp._spf.%{d2}"), "bad.strong.lp._spf.example.com");
    EXPECT_EQ(expand("%{lr-}.lp.%{ir}.%{v}._spf.%{d2}"), "bad.strong.lp.3.2.0.192.in-addr._spf.example.com");
    EXPECT_EQ(expand("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}"), "3.2.0.192.in-addr.strong.lp._spf.example.com");
    EXPECT_EQ(expand("%{d2}.trusted-domains.example.net"), "example.com.trusted-domains.example.net");
}

TEST_F(spf_macro_test, rfc7208_section_7_4_ipv6) {
    ctx_.ip = *parse_spf_ip("2001:db8::cb01");
    // The RFC prints the nibbles in upper case; DNS names compare case-insensitively.
    EXPECT_EQ(expand("%{ir}.%{v}._spf.%{d2}"),
              "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com");
    EXPECT_EQ(expand("%{c}", spf_macro_use::explanation), "2001:db8::cb01");
    EXPECT_EQ(expand("%{i}"), "2.0.0.1.0.d.b.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.c.b.0.1");
}

TEST_F(spf_macro_test, escapes_url_encoding_and_explanation_letters) {
    EXPECT_EQ(expand("%%%_%-", spf_macro_use::explanation), "% %20");
    EXPECT_EQ(expand("%{S}"), "strong-bad%40email.example.com");
    EXPECT_EQ(expand("%{L}"), "strong-bad");
    EXPECT_EQ(expand("%{c} %{r} %{t}", spf_macro_use::explanation), "192.0.2.3 mx.example.net 1700000000");
    EXPECT_EQ(expand("%{h}.%{v}"), "mx.example.org.in-addr");
    EXPECT_EQ(expand("%{p}"), "unknown");
    ctx_.validated_ptr = "mx.example.org";
    EXPECT_EQ(expand("%{p2}"), "example.org");
    EXPECT_EQ(expand_spf_macro("%{c}", ctx_, spf_macro_use::domain_spec).error().code, spf_errc::forbidden_macro);
    EXPECT_EQ(expand_spf_macro("%{t}", ctx_, spf_macro_use::domain_spec).error().code, spf_errc::forbidden_macro);
    EXPECT_EQ(expand_spf_macro("a b", ctx_, spf_macro_use::domain_spec).error().code, spf_errc::bad_character);
    EXPECT_EQ(expand("a b", spf_macro_use::explanation), "a b");
}

TEST_F(spf_macro_test, local_part_defaults_and_delimiters) {
    ctx_.sender = "@email.example.com";
    EXPECT_EQ(expand("%{l}"), "postmaster");
    ctx_.sender = "a+b=c/d_e,f@x.example";
    EXPECT_EQ(expand("%{lr+=/_,}"), "f.e.d.c.b.a");
    EXPECT_EQ(expand("%{l1+}"), "b=c/d_e,f");
    EXPECT_EQ(expand("%{l2+}"), "a.b=c/d_e,f");
    EXPECT_EQ(expand("%{o}"), "x.example");
    EXPECT_EQ(expand("%{d200r}"), "com.example.email");  // more parts asked than there are
}

TEST_F(spf_macro_test, long_domain_specs_are_cut_not_refused) {
    std::string many;
    for (int i = 0; i < 5000; ++i) many += "%{d}.";
    many += "end.example";
    const auto r = expand(many);
    EXPECT_LE(r.size(), 253u);
    EXPECT_TRUE(r.ends_with("email.example.com.end.example")) << r;
    EXPECT_TRUE(r.starts_with("email.") || r.starts_with("example.") || r.starts_with("com.")) << r;
}

TEST_F(spf_macro_test, domain_specs_are_cut_to_253_from_the_left) {
    ctx_.domain = std::string(60, 'a') + "." + std::string(60, 'b') + "." + std::string(60, 'c') + ".example.com";
    const std::string r = expand("%{d}.%{d}");
    EXPECT_LE(r.size(), 253u);
    EXPECT_TRUE(r.ends_with(".example.com")) << r;
    EXPECT_FALSE(r.starts_with("."));
    EXPECT_EQ(expand("example.com."), "example.com");  // one trailing dot goes
}

TEST_F(spf_macro_test, hostile_macros) {
    std::string many;
    for (int i = 0; i < 10000; ++i) many += "%{s}";
    EXPECT_EQ(expand_spf_macro(many, ctx_, spf_macro_use::explanation).error().code, spf_errc::too_long);
    EXPECT_EQ(expand_spf_macro("%{d0}", ctx_, spf_macro_use::domain_spec).error().code, spf_errc::bad_macro);
    EXPECT_EQ(expand_spf_macro("%{d", ctx_, spf_macro_use::domain_spec).error().code, spf_errc::bad_macro);
    EXPECT_EQ(expand_spf_macro("%", ctx_, spf_macro_use::domain_spec).error().code, spf_errc::bad_macro);
    EXPECT_EQ(expand_spf_macro("%{}", ctx_, spf_macro_use::domain_spec).error().code, spf_errc::bad_macro);
    EXPECT_EQ(expand_spf_macro("%{d.x}", ctx_, spf_macro_use::domain_spec).error().code, spf_errc::bad_macro);
    EXPECT_EQ(expand_spf_macro(std::string("a\0b", 3), ctx_, spf_macro_use::explanation).error().code,
              spf_errc::bad_character);
    EXPECT_EQ(expand("%{d99999999999999999999}"), "email.example.com");
    ctx_.sender = std::string(5000, 'x') + "@a.example";
    EXPECT_EQ(expand_spf_macro("%{l}", ctx_, spf_macro_use::explanation).error().code, spf_errc::too_long);
}

TEST(spf_macro_uses, finds_letters_not_escapes) {
    EXPECT_TRUE(spf_macro_uses("%{p}.example.com", 'p'));
    EXPECT_TRUE(spf_macro_uses("x.%{P2r}", 'p'));
    EXPECT_FALSE(spf_macro_uses("%%{p}", 'p'));
    EXPECT_TRUE(spf_macro_uses("%%%{p}", 'p'));
    EXPECT_FALSE(spf_macro_uses("%{d}.p", 'p'));
}

}  // namespace
}  // namespace postern::mailauth
