// SPDX-License-Identifier: MIT
// The tag-list (RFC 6376 §3.2), signature field (§3.5) and key record (§3.6.1) parsers.
#include "mailauth/dkim_tags.hpp"

#include <gtest/gtest.h>

#include <string>

namespace postern::mailauth {
namespace {

constexpr std::string_view good =
    "v=1; a=rsa-sha256; c=relaxed/simple; d=Example.COM; s=Sel;\r\n"
    "\th=From : To:subject; bh=MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI=;\r\n"
    "\tb=dGVzdCBzaWdu\r\n YXR1cmU=";

std::string with(std::string_view tag_to_replace, std::string_view replacement) {
    std::string s(good);
    const auto at = s.find(tag_to_replace);
    if (at == std::string::npos) return s;
    const auto end = s.find(';', at);
    s.replace(at, end == std::string::npos ? std::string::npos : end + 1 - at, replacement);
    return s;
}

dkim_errc error_of(std::string_view value) {
    auto r = parse_dkim_signature(value);
    return r ? dkim_errc{} : static_cast<dkim_errc>(r.error().value());
}

TEST(dkim_tag_list, splits_names_and_values_around_folding_whitespace) {
    auto tags = parse_tag_list("  a = 1 ;\r\n b=two words\t; c= ; d=x;");
    ASSERT_TRUE(tags);
    ASSERT_EQ(tags->size(), 4u);
    EXPECT_EQ((*tags)[0].name, "a");
    EXPECT_EQ((*tags)[0].value, "1");
    EXPECT_EQ((*tags)[1].value, "two words");
    EXPECT_EQ((*tags)[2].value, "");
    EXPECT_EQ((*tags)[3].value, "x");
}

TEST(dkim_tag_list, value_span_covers_surrounding_whitespace) {
    const std::string_view text = "a=1; b= xyz \r\n ;c=2";
    auto tags = parse_tag_list(text);
    ASSERT_TRUE(tags);
    EXPECT_EQ(text.substr((*tags)[1].value_begin, (*tags)[1].value_end - (*tags)[1].value_begin), " xyz \r\n ");
}

TEST(dkim_tag_list, empty_text_is_an_empty_list) {
    auto tags = parse_tag_list(" \r\n ");
    ASSERT_TRUE(tags);
    EXPECT_TRUE(tags->empty());
}

TEST(dkim_tag_list, refuses_what_the_grammar_does_not_allow) {
    EXPECT_EQ(parse_tag_list("a=1; a=2").error(), dkim_errc::duplicate_tag);  // §3.2
    EXPECT_FALSE(parse_tag_list("1a=1"));
    EXPECT_FALSE(parse_tag_list("a"));
    EXPECT_FALSE(parse_tag_list("a=1;;b=2"));
    EXPECT_FALSE(parse_tag_list("a=\x01"));
    EXPECT_FALSE(parse_tag_list("a=\xc3\xa9"));  // VALCHAR is %x21-7E
    EXPECT_FALSE(parse_tag_list("=1"));
    std::string many;
    for (int i = 0; i < 65; ++i) many += "t" + std::to_string(i) + "=1;";
    EXPECT_EQ(parse_tag_list(many).error(), dkim_errc::too_many_tags);
}

TEST(dkim_signature_field, parses_every_tag) {
    auto sig = parse_dkim_signature(good);
    ASSERT_TRUE(sig) << sig.error().message();
    EXPECT_EQ(sig->algorithm, dkim_algorithm::rsa_sha256);
    EXPECT_EQ(sig->header_canon, dkim_canon::relaxed);
    EXPECT_EQ(sig->body_canon, dkim_canon::simple);
    EXPECT_EQ(sig->domain, "example.com");
    EXPECT_EQ(sig->selector, "sel");
    EXPECT_EQ(sig->signed_headers, (std::vector<std::string>{"from", "to", "subject"}));
    EXPECT_EQ(sig->identity, "@example.com");
    EXPECT_EQ(sig->b, "test signature");
    EXPECT_EQ(sig->b_text, "dGVzdCBzaWduYXR1cmU=");
    EXPECT_EQ(sig->bh.size(), 32u);
    EXPECT_EQ(good.substr(sig->b_value_begin), "dGVzdCBzaWdu\r\n YXR1cmU=");
}

TEST(dkim_signature_field, canonicalization_defaults_to_simple) {
    auto sig = parse_dkim_signature(with("c=", ""));
    ASSERT_TRUE(sig);
    EXPECT_EQ(sig->header_canon, dkim_canon::simple);
    EXPECT_EQ(sig->body_canon, dkim_canon::simple);
    sig = parse_dkim_signature(with("c=", "c=relaxed;"));
    ASSERT_TRUE(sig);
    EXPECT_EQ(sig->header_canon, dkim_canon::relaxed);
    EXPECT_EQ(sig->body_canon, dkim_canon::simple);  // §3.5 c=: "If only one algorithm is named, ... body"
}

TEST(dkim_signature_field, required_tags) {  // §6.1.1
    for (std::string_view tag : {"v=", "a=", "d=", "s=", "h=", "bh="})
        EXPECT_EQ(error_of(with(tag, "")), dkim_errc::missing_tag) << tag;
    EXPECT_EQ(error_of("v=1; a=rsa-sha256; d=example.com; s=s; h=from; bh=YWJj"), dkim_errc::missing_tag);
}

TEST(dkim_signature_field, rejects_bad_values) {
    EXPECT_EQ(error_of(with("v=", "v=2;")), dkim_errc::bad_version);
    EXPECT_EQ(error_of(with("a=", "a=rsa-md5;")), dkim_errc::unknown_algorithm);
    EXPECT_EQ(error_of(with("c=", "c=relaxed/fancy;")), dkim_errc::bad_canonicalization);
    EXPECT_EQ(error_of(with("h=", "h=to:subject;")), dkim_errc::from_not_signed);
    EXPECT_EQ(error_of(with("h=", "h=from::to;")), dkim_errc::bad_tag_list);
    EXPECT_EQ(error_of(with("bh=", "bh=not*base64;")), dkim_errc::bad_base64);
    EXPECT_EQ(error_of(with("d=", "d=exa mple.com;")), dkim_errc::bad_domain);
    EXPECT_EQ(error_of(with("d=", "d=-example.com;")), dkim_errc::bad_domain);
    EXPECT_EQ(error_of(with("v=", "v=1; l=12a;")), dkim_errc::bad_number);
    EXPECT_EQ(error_of(with("v=", "v=1; t=-5;")), dkim_errc::bad_number);
    EXPECT_EQ(error_of(with("v=", "v=1; t=100; x=99;")), dkim_errc::expiry_before_timestamp);
    EXPECT_EQ(error_of(with("v=", "v=1; q=http/well-known;")), dkim_errc::bad_query_method);
    EXPECT_TRUE(parse_dkim_signature(with("v=", "v=1; q=dns/txt;")));
    EXPECT_EQ(error_of(with("v=", "v=1; l=" + std::string(77, '9') + ";")), dkim_errc::bad_number);
}

TEST(dkim_signature_field, huge_numbers_are_clamped_not_wrapped) {
    auto sig = parse_dkim_signature(with("v=", "v=1; l=" + std::string(40, '9') + "; x=" + std::string(30, '9') + ";"));
    ASSERT_TRUE(sig);
    EXPECT_EQ(*sig->body_length, std::numeric_limits<std::uint64_t>::max());
    EXPECT_EQ(*sig->expiration, std::numeric_limits<std::int64_t>::max());
}

TEST(dkim_signature_field, identity_must_be_d_or_below) {  // §6.1.1
    EXPECT_TRUE(parse_dkim_signature(with("v=", "v=1; i=@example.com;")));
    EXPECT_TRUE(parse_dkim_signature(with("v=", "v=1; i=joe@news.EXAMPLE.com;")));
    EXPECT_TRUE(parse_dkim_signature(with("v=", "v=1; i=\"odd@local\"@example.com;")));
    EXPECT_EQ(error_of(with("v=", "v=1; i=joe@badexample.com;")), dkim_errc::identity_mismatch);
    EXPECT_EQ(error_of(with("v=", "v=1; i=joe@example.org;")), dkim_errc::identity_mismatch);
    EXPECT_EQ(error_of(with("v=", "v=1; i=joe@com;")), dkim_errc::identity_mismatch);
    EXPECT_EQ(error_of(with("v=", "v=1; i=example.com;")), dkim_errc::bad_tag_list);
}

TEST(dkim_key_record, parses_tags_and_ignores_unknown_ones) {
    auto key = parse_dkim_key("v=DKIM1; k=Ed25519; h=sha1:SHA256; s=email:*; t=y:s; n=notes; zz=1; p=YWJj");
    ASSERT_TRUE(key);
    EXPECT_EQ(key->key_type, "ed25519");
    EXPECT_EQ(key->hashes, (std::vector<std::string>{"sha1", "sha256"}));
    EXPECT_EQ(key->services, (std::vector<std::string>{"email", "*"}));
    EXPECT_TRUE(key->testing);
    EXPECT_TRUE(key->strict);
    EXPECT_EQ(key->public_key, "abc");
}

TEST(dkim_key_record, defaults) {
    auto key = parse_dkim_key("p=YWJj");
    ASSERT_TRUE(key);
    EXPECT_EQ(key->key_type, "rsa");
    EXPECT_TRUE(key->hashes.empty());
    EXPECT_FALSE(key->testing);
}

TEST(dkim_key_record, empty_p_is_revoked_not_an_error) {
    auto key = parse_dkim_key("v=DKIM1; p=");
    ASSERT_TRUE(key);
    EXPECT_TRUE(key->public_key.empty());
}

TEST(dkim_key_record, rejects_bad_records) {  // §3.6.1
    EXPECT_FALSE(parse_dkim_key("k=rsa; v=DKIM1; p=YWJj"));  // v= must come first
    EXPECT_FALSE(parse_dkim_key("v=DKIM2; p=YWJj"));
    EXPECT_FALSE(parse_dkim_key("v=DKIM1; k=rsa"));  // p= is required
    EXPECT_FALSE(parse_dkim_key("v=DKIM1; p=YWJ"));
    EXPECT_FALSE(parse_dkim_key("v=spf1 -all"));
}

TEST(dkim_errors, every_code_has_a_reason) {
    for (int e = 1; e <= static_cast<int>(dkim_errc::bad_pem); ++e)
        EXPECT_NE(make_error_code(static_cast<dkim_errc>(e)).message(), "unknown DKIM error") << e;
}

}  // namespace
}  // namespace postern::mailauth
