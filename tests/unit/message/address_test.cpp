// SPDX-License-Identifier: MIT
#include "message/address.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace postern::message {
namespace {

using enum address_errc;

/// One row of the table: an input and what parse_path must make of it.
struct path_case {
    std::string name;
    std::string input;
    std::optional<address_errc> error;  // set: parse_path must fail with exactly this
    std::string local;                   // else: the canonical local part ("" for <>, <Postmaster>)
    std::string domain;
    path_kind kind = path_kind::forward;
    bool allow_utf8 = false;
    bool literal = false;
    bool postmaster = false;
    std::size_t consumed = 0;  // 0: the whole input

    path_case reverse() const { auto c = *this; c.kind = path_kind::reverse; return c; }
    path_case utf8() const { auto c = *this; c.allow_utf8 = true; return c; }
    path_case lit() const { auto c = *this; c.literal = true; return c; }
    path_case takes(std::size_t n) const { auto c = *this; c.consumed = n; return c; }
    std::size_t expected_consumed() const { return consumed ? consumed : input.size(); }
};

void PrintTo(const path_case& c, std::ostream* os) { *os << c.name; }

path_case ok(std::string name, std::string in, std::string local, std::string domain) {
    return {std::move(name), std::move(in), std::nullopt, std::move(local), std::move(domain)};
}
path_case bad(std::string name, std::string in, address_errc e) {
    return {std::move(name), std::move(in), e, {}, {}};
}
path_case null_path(std::string name, std::string in) {
    return ok(std::move(name), std::move(in), "", "").reverse();
}
path_case postmaster(std::string name, std::string in) {
    auto c = ok(std::move(name), std::move(in), "", "");
    c.postmaster = true;
    return c;
}

// Joins by appending: g++ 12 at -O3 gives a false -Wrestrict warning for
// "literal" + std::string(n, c) (GCC bug 105329).
template <class... Parts>
std::string cat(const Parts&... parts) {
    std::string s;
    (s += ... += parts);
    return s;
}

const std::string local64(64, 'l');
const std::string label63(63, 'x');
// "<" + 64 + "@" + 189 + ">" = 256 octets, RFC 5321 §4.5.3.1.3's limit.
const std::string domain189 = cat(std::string(63, 'a'), ".", std::string(63, 'b'), ".", std::string(61, 'c'));
const std::string label64(64, 'x');

std::vector<path_case> valid_cases() {
    return {
        ok("plain", "<user@example.com>", "user", "example.com"),
        ok("plain_reverse", "<user@example.com>", "user", "example.com").reverse(),
        ok("case_kept", "<User@Example.COM>", "User", "Example.COM"),
        ok("dotted_local", "<first.last@sub.example.com>", "first.last", "sub.example.com"),
        ok("atext_specials", "<a!#$%&'*+-/=?^_`{|}~b@example.com>", "a!#$%&'*+-/=?^_`{|}~b", "example.com"),
        ok("single_label_domain", "<a@localhost>", "a", "localhost"),
        ok("hyphen_digit_labels", "<a@mx-1.ex--ample.com>", "a", "mx-1.ex--ample.com"),
        ok("numeric_labels", "<a@1.2.3.4>", "a", "1.2.3.4"),
        ok("quoted_space", "<\"john doe\"@example.com>", "\"john doe\"", "example.com"),
        ok("quoted_escaped_quote", "<\"a\\\"b\"@example.com>", "\"a\\\"b\"", "example.com"),
        ok("quoted_escaped_backslash", "<\"a\\\\b\"@example.com>", "\"a\\\\b\"", "example.com"),
        ok("quoted_canonicalises", "<\"john.doe\"@example.com>", "john.doe", "example.com"),
        ok("quoted_needless_pair", "<\"j\\ohn\"@example.com>", "john", "example.com"),
        ok("quoted_pair_space", "<\"a\\ b\"@example.com>", "\"a b\"", "example.com"),
        ok("quoted_leading_dot", "<\".a\"@example.com>", "\".a\"", "example.com"),
        ok("quoted_double_dot", "<\"a..b\"@example.com>", "\"a..b\"", "example.com"),
        ok("quoted_angle", "<\"a>b\"@example.com>", "\"a>b\"", "example.com"),
        ok("quoted_at", "<\"a@b\"@example.com>", "\"a@b\"", "example.com"),
        ok("quoted_paren", "<\"a(b)\"@example.com>", "\"a(b)\"", "example.com"),
        ok("ipv4_literal", "<user@[192.0.2.1]>", "user", "[192.0.2.1]").lit(),
        ok("ipv4_literal_zero", "<user@[0.0.0.0]>", "user", "[0.0.0.0]").lit(),
        ok("ipv4_literal_max", "<user@[255.255.255.255]>", "user", "[255.255.255.255]").lit(),
        ok("ipv6_literal", "<user@[IPv6:2001:db8::1]>", "user", "[IPv6:2001:db8::1]").lit(),
        ok("ipv6_literal_lower_tag", "<user@[ipv6:::1]>", "user", "[ipv6:::1]").lit(),
        ok("ipv6_literal_full", "<u@[IPv6:2001:db8:0:0:0:0:0:1]>", "u", "[IPv6:2001:db8:0:0:0:0:0:1]").lit(),
        ok("ipv6_literal_v4", "<u@[IPv6:::ffff:192.0.2.1]>", "u", "[IPv6:::ffff:192.0.2.1]").lit(),
        ok("general_literal", "<u@[x-tag:some-content]>", "u", "[x-tag:some-content]").lit(),
        ok("general_literal_angle", "<u@[x:a>b]>", "u", "[x:a>b]").lit(),
        ok("utf8", "<用户@例子.广告>", "用户", "例子.广告").utf8(),
        ok("utf8_quoted", "<\"用户 名\"@例子.广告>", "\"用户 名\"", "例子.广告").utf8(),
        ok("utf8_quoted_canonicalises", "<\"用户\"@example.com>", "用户", "example.com").utf8(),
        ok("utf8_four_octets", "<\xF0\x9F\x93\xA7@example.com>", "\xF0\x9F\x93\xA7", "example.com").utf8(),
        ok("ascii_with_utf8_allowed", "<user@example.com>", "user", "example.com").utf8(),
        postmaster("postmaster_mixed", "<Postmaster>"),
        postmaster("postmaster_lower", "<postmaster>"),
        postmaster("postmaster_upper", "<POSTMASTER>"),
        ok("postmaster_with_domain", "<Postmaster@example.com>", "Postmaster", "example.com"),
        ok("source_route", "<@a.example,@b.example:user@c.example>", "user", "c.example"),
        ok("source_route_single", "<@a.example:user@c.example>", "user", "c.example").reverse(),
        ok("source_route_literal_after", "<@a.example:u@[IPv6:::1]>", "u", "[IPv6:::1]").lit(),
        null_path("null_reverse", "<>"),
        null_path("null_reverse_params", "<> SIZE=10").takes(2),
        ok("params_after_path", "<a@b> SIZE=10", "a", "b").takes(5),
        ok("several_params", "<user@example.com> SIZE=1000 BODY=8BITMIME", "user", "example.com").takes(18),
        ok("local_part_64", "<" + local64 + "@example.com>", local64, "example.com"),
        ok("quoted_66_canonical_64", "<\"" + local64 + "\"@example.com>", local64, "example.com"),
        ok("path_256", "<" + local64 + "@" + domain189 + ">", local64, domain189),
        ok("label_63", cat("<a@", label63, ".example>"), "a", cat(label63, ".example")),
    };
}

std::vector<path_case> invalid_structure_cases() {
    return {
        bad("empty", "", empty),
        bad("no_bracket", "user@example.com", missing_bracket),
        bad("leading_space", " <a@b>", missing_bracket),
        bad("unterminated", "<a@b", unterminated),
        bad("lone_bracket", "<", unterminated),
        bad("unterminated_params", "<a@b SIZE=10", unterminated),
        bad("unterminated_quote", "<\"a>@b", unterminated),
        bad("extra_bracket", "<a@b>>", trailing_garbage),
        bad("doubled_brackets", "<<a@b>>", trailing_garbage),
        bad("text_after_path", "<a@b>x", trailing_garbage),
        bad("tab_after_path", "<a@b>\tSIZE=1", trailing_garbage),
        bad("null_then_text", "<>x", trailing_garbage).reverse(),
        bad("null_forward", "<>", null_path_not_allowed),
        bad("null_forward_params", "<> SIZE=10", null_path_not_allowed),
    };
}

std::vector<path_case> invalid_local_part_cases() {
    return {
        bad("space_in_local", "<a b@c.example>", bad_local_part),
        bad("space_before_local", "< a@b>", bad_local_part),
        bad("leading_dot", "<.a@b>", bad_local_part),
        bad("trailing_dot", "<a.@b>", bad_local_part),
        bad("double_dot", "<a..b@c>", bad_local_part),
        bad("control_in_local", "<a\x01" "b@c>", bad_local_part),
        bad("crlf_in_local", "<a\r\n@b>", bad_local_part),
        bad("nul_in_local", std::string("<a\0b@c>", 7), bad_local_part),
        bad("del_in_local", "<a\x7f@b>", bad_local_part),
        bad("control_in_quoted", "<\"a\x01\"@b>", bad_local_part),
        bad("quoted_pair_control", "<\"a\\\x01\"@b>", bad_local_part),
        bad("empty_quoted", "<\"\"@b>", bad_local_part),
        bad("text_after_quoted", "<\"a\"b@c>", bad_local_part),
        bad("quote_inside_atom", "<a\"b\"@c>", bad_local_part),
        bad("bracket_in_local", "<a<b@c>", bad_local_part),
        bad("route_empty_mailbox", "<@b.example:>", bad_local_part),
        bad("route_twice", "<@a.example:@b:u@c>", bad_local_part),
        bad("utf8_quoted_pair", "<\"\\\xC3\xA9\"@b>", bad_local_part).utf8(),
    };
}

std::vector<path_case> invalid_domain_cases() {
    return {
        bad("no_domain", "<a>", bad_domain),
        bad("no_domain_reverse", "<a>", bad_domain).reverse(),
        bad("postmaster_reverse", "<Postmaster>", bad_domain).reverse(),
        bad("empty_label_middle", "<a@b..c>", bad_domain),
        bad("empty_label_first", "<a@.b>", bad_domain),
        bad("empty_label_last", "<a@b.>", bad_domain),
        bad("at_only", "<@>", bad_domain),
        bad("empty_domain", "<a@>", bad_domain),
        bad("label_leading_hyphen", "<a@-b.example>", bad_domain),
        bad("label_trailing_hyphen", "<a@b-.example>", bad_domain),
        bad("last_label_trailing_hyphen", "<a@b.example->", bad_domain),
        bad("underscore_in_domain", "<a@b_c.example>", bad_domain),
        bad("space_in_domain", "<a@b >", bad_domain),
        bad("del_in_domain", "<a@b\x7f>", bad_domain),
        bad("two_ats", "<a@b@c>", bad_domain),
        bad("comma_in_domain", "<a@b,c>", bad_domain),
        bad("label_64", "<a@" + label64 + ".example>", bad_domain),
        bad("route_bad_domain", "<@-a:u@c>", bad_domain),
        bad("route_no_colon", "<@b>", bad_source_route),
        bad("route_missing_at", "<@a.example,b.example:u@c>", bad_source_route),
        bad("route_semicolon", "<@a.example;u@c>", bad_source_route),
    };
}

std::vector<path_case> invalid_literal_cases() {
    return {
        bad("ipv4_octet_256", "<a@[192.0.2.256]>", bad_address_literal),
        bad("ipv4_three_parts", "<a@[192.0.2]>", bad_address_literal),
        bad("ipv4_five_parts", "<a@[192.0.2.1.5]>", bad_address_literal),
        bad("ipv4_four_digits", "<a@[1234.0.0.1]>", bad_address_literal),
        bad("ipv4_empty_part", "<a@[192..2.1]>", bad_address_literal),
        bad("ipv6_bad_hex", "<a@[IPv6:2001:db8::g]>", bad_address_literal),
        bad("ipv6_is_ipv4", "<a@[IPv6:192.0.2.1]>", bad_address_literal),
        bad("ipv6_empty", "<a@[IPv6:]>", bad_address_literal),
        bad("ipv6_two_gaps", "<a@[IPv6:1::2::3]>", bad_address_literal),
        bad("ipv6_zone", "<a@[IPv6:fe80::1%eth0]>", bad_address_literal),
        bad("literal_empty", "<a@[]>", bad_address_literal),
        bad("literal_unclosed", "<a@[192.0.2.1>", bad_address_literal),
        bad("literal_then_text", "<a@[192.0.2.1]x>", bad_address_literal),
        bad("general_empty_tag", "<a@[:content]>", bad_address_literal),
        bad("general_empty_content", "<a@[tag:]>", bad_address_literal),
        bad("general_bracket", "<a@[tag:a[b]>", bad_address_literal),
        bad("general_tag_hyphen_end", "<a@[tag-:x]>", bad_address_literal),
        bad("literal_utf8", "<a@[192.0.2.1\xC3\xA9]>", bad_address_literal).utf8(),
    };
}

std::vector<path_case> invalid_encoding_and_length_cases() {
    return {
        bad("utf8_not_allowed", "<用户@例子.广告>", non_ascii),
        bad("utf8_domain_not_allowed", "<a@例子.广告>", non_ascii),
        bad("latin1_not_allowed", "<caf\xE9@example.com>", non_ascii),
        bad("overlong_slash", "<a\xC0\xAF@b>", bad_utf8).utf8(),
        bad("overlong_three", "<a\xE0\x80\xAF@b>", bad_utf8).utf8(),
        bad("overlong_four", "<a\xF0\x80\x80\xAF@b>", bad_utf8).utf8(),
        bad("surrogate", "<a\xED\xA0\x80@b>", bad_utf8).utf8(),
        bad("above_10ffff", "<a\xF4\x90\x80\x80@b>", bad_utf8).utf8(),
        bad("f5_lead", "<a\xF5\x80\x80\x80@b>", bad_utf8).utf8(),
        bad("truncated_sequence", "<a\xE4\xB8@b>", bad_utf8).utf8(),
        bad("stray_continuation", "<a\x80@b>", bad_utf8).utf8(),
        bad("latin1_with_utf8", "<caf\xE9@example.com>", bad_utf8).utf8(),
        bad("bad_utf8_in_domain", "<a@b\xFF.example>", bad_utf8).utf8(),
        bad("local_part_65", cat("<", std::string(65, 'l'), "@example.com>"), too_long),
        bad("quoted_local_part_65", cat("<\"", local64, " \"@example.com>"), too_long),
        bad("path_257", "<" + local64 + "@" + domain189 + "c>", too_long),
        bad("path_huge", cat("<", std::string(5000, 'a'), "@b>"), too_long),
    };
}

std::string case_name(const testing::TestParamInfo<path_case>& info) { return info.param.name; }

// "<" + p.to_string() + ">", built by appending: g++ 12 at -O3 gives a false -Wrestrict
// warning for "<" + std::string (GCC bug 105329).
std::string bracketed(const path& p) {
    std::string s = "<";
    s += p.to_string();
    s += '>';
    return s;
}

void expect_matches(const path_case& c, const result<parsed_path>& r) {
    if (c.error) {
        ASSERT_FALSE(r) << "accepted as " << r->value.to_string();
        EXPECT_EQ(r.error(), *c.error) << r.error().message();
        return;
    }
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->consumed, c.expected_consumed());
    EXPECT_EQ(r->value.postmaster, c.postmaster);
    if (c.local.empty()) {
        EXPECT_FALSE(r->value.mbox);
        return;
    }
    ASSERT_TRUE(r->value.mbox);
    EXPECT_EQ(r->value.mbox->local_part, c.local);
    EXPECT_EQ(r->value.mbox->domain, c.domain);
    EXPECT_EQ(r->value.mbox->address_literal, c.literal);
}

class parse_path_table : public testing::TestWithParam<path_case> {};

TEST_P(parse_path_table, whole_input) {
    const path_case& c = GetParam();
    expect_matches(c, parse_path(c.input, c.kind, c.allow_utf8));
}

INSTANTIATE_TEST_SUITE_P(valid, parse_path_table, testing::ValuesIn(valid_cases()), case_name);
INSTANTIATE_TEST_SUITE_P(invalid_structure, parse_path_table, testing::ValuesIn(invalid_structure_cases()),
                         case_name);
INSTANTIATE_TEST_SUITE_P(invalid_local_part, parse_path_table, testing::ValuesIn(invalid_local_part_cases()),
                         case_name);
INSTANTIATE_TEST_SUITE_P(invalid_domain, parse_path_table, testing::ValuesIn(invalid_domain_cases()), case_name);
INSTANTIATE_TEST_SUITE_P(invalid_literal, parse_path_table, testing::ValuesIn(invalid_literal_cases()), case_name);
INSTANTIATE_TEST_SUITE_P(invalid_encoding_and_length, parse_path_table,
                         testing::ValuesIn(invalid_encoding_and_length_cases()), case_name);

class valid_path : public testing::TestWithParam<path_case> {};

// The parser consumes the path only: parameters after it are the caller's, untouched.
TEST_P(valid_path, with_trailing_parameters) {
    const path_case& c = GetParam();
    for (std::string tail : {" SIZE=100", " ", " BODY=8BITMIME SMTPUTF8", " \r\n"}) {
        SCOPED_TRACE(tail);
        auto r = parse_path(c.input + tail, c.kind, c.allow_utf8);
        expect_matches(c, r);
    }
}

// The valid inputs that end with their path's '>'.
std::vector<path_case> bare_valid_cases() {
    std::vector<path_case> out;
    for (auto& c : valid_cases())
        if (c.expected_consumed() == c.input.size()) out.push_back(std::move(c));
    return out;
}

class bare_path : public testing::TestWithParam<path_case> {};

TEST_P(bare_path, glued_text_is_trailing_garbage) {
    const path_case& c = GetParam();
    for (std::string tail : {"x", ">", "\r\n", "<a@b>"}) {
        auto r = parse_path(c.input + tail, c.kind, c.allow_utf8);
        ASSERT_FALSE(r) << tail;
        EXPECT_EQ(r.error(), trailing_garbage) << tail;
    }
}

// Fed one more byte at a time, no proper prefix of a path is a path.
TEST_P(bare_path, every_prefix_is_refused) {
    const path_case& c = GetParam();
    for (std::size_t n = 0; n < c.input.size(); ++n) {
        EXPECT_FALSE(parse_path(std::string_view(c.input).substr(0, n), c.kind, c.allow_utf8)) << n;
    }
}

// The canonical form parses back to the same value.
TEST_P(valid_path, canonical_form_round_trips) {
    const path_case& c = GetParam();
    auto first = parse_path(c.input, c.kind, c.allow_utf8);
    ASSERT_TRUE(first);
    const std::string canonical = bracketed(first->value);
    auto second = parse_path(canonical, c.kind, c.allow_utf8);
    ASSERT_TRUE(second) << canonical << ": " << second.error().message();
    EXPECT_EQ(second->value, first->value);
    EXPECT_EQ(second->consumed, canonical.size());
}

INSTANTIATE_TEST_SUITE_P(all, valid_path, testing::ValuesIn(valid_cases()), case_name);
INSTANTIATE_TEST_SUITE_P(all, bare_path, testing::ValuesIn(bare_valid_cases()), case_name);

TEST(parse_path, utf8_inputs_are_non_ascii_without_smtputf8) {
    for (const path_case& c : valid_cases()) {
        if (!c.allow_utf8 || !mailbox{c.local, c.domain}.utf8()) continue;
        auto r = parse_path(c.input, c.kind, false);
        ASSERT_FALSE(r) << c.name;
        EXPECT_EQ(r.error(), non_ascii) << c.name;
    }
}

TEST(parse_path, source_route_is_dropped) {
    auto r = parse_path("<@a.example,@b.example:user@c.example>", path_kind::forward, false);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->value.to_string(), "user@c.example");
}

TEST(path, to_string) {
    EXPECT_EQ(path{}.to_string(), "");
    EXPECT_TRUE(path{}.null());
    EXPECT_EQ((path{std::nullopt, true}.to_string()), "Postmaster");
    EXPECT_FALSE((path{std::nullopt, true}.null()));
    const path p{mailbox{"\"john doe\"", "example.com"}, false};
    EXPECT_EQ(p.to_string(), "\"john doe\"@example.com");
    EXPECT_FALSE(p.null());
}

TEST(mailbox, to_string_and_utf8) {
    const mailbox ascii{"user", "[192.0.2.1]", true};
    EXPECT_EQ(ascii.to_string(), "user@[192.0.2.1]");
    EXPECT_FALSE(ascii.utf8());
    EXPECT_TRUE((mailbox{"用户", "example.com"}.utf8()));
    EXPECT_TRUE((mailbox{"user", "例子.广告"}.utf8()));
}

struct mailbox_case {
    std::string input;
    bool allow_utf8;
    std::optional<address_errc> error;
    std::string local, domain;
};

TEST(parse_mailbox, table) {
    const std::vector<mailbox_case> cases = {
        {"user@example.com", false, std::nullopt, "user", "example.com"},
        {"\"john doe\"@example.com", false, std::nullopt, "\"john doe\"", "example.com"},
        {"\"john\"@example.com", false, std::nullopt, "john", "example.com"},
        {"u@[IPv6:2001:db8::1]", false, std::nullopt, "u", "[IPv6:2001:db8::1]"},
        {"用户@例子.广告", true, std::nullopt, "用户", "例子.广告"},
        {"Postmaster@example.com", false, std::nullopt, "Postmaster", "example.com"},
        {"", false, empty, "", ""},
        {"a", false, bad_domain, "", ""},
        {"Postmaster", false, bad_domain, "", ""},
        {"<a@b>", false, bad_local_part, "", ""},
        {"a@b ", false, bad_domain, "", ""},
        {"a b@c", false, bad_local_part, "", ""},
        {"a@b..c", false, bad_domain, "", ""},
        {"@b", false, bad_local_part, "", ""},
        {"用户@例子.广告", false, non_ascii, "", ""},
        {"a\xC0\xAF@b", true, bad_utf8, "", ""},
        {std::string(65, 'l') + "@b", false, too_long, "", ""},
        {cat("a@", std::string(253, 'b')), false, too_long, "", ""},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.input);
        auto r = parse_mailbox(c.input, c.allow_utf8);
        if (c.error) {
            ASSERT_FALSE(r);
            EXPECT_EQ(r.error(), *c.error) << r.error().message();
        } else {
            ASSERT_TRUE(r) << r.error().message();
            EXPECT_EQ(r->local_part, c.local);
            EXPECT_EQ(r->domain, c.domain);
        }
    }
}

TEST(is_valid_domain, table) {
    const std::string l63(63, 'a');
    const std::string d255 = l63 + "." + l63 + "." + l63 + "." + l63;
    const struct {
        std::string domain;
        bool allow_utf8, valid;
    } cases[] = {
        {"example.com", false, true},      {"localhost", false, true},
        {"a-b.c-d.example", false, true},  {"xn--bcher-kva.example", false, true},
        {"1.2.3.4", false, true},          {"例子.广告", true, true},
        {"例子.广告", false, false},       {"a\xC0\xAF.example", true, false},
        {"", false, false},                {"a..b", false, false},
        {".a", false, false},              {"a.", false, false},
        {"-a", false, false},              {"a-", false, false},
        {"a_b", false, false},             {"a b", false, false},
        {"[192.0.2.1]", false, false},     {l63 + ".example", false, true},
        {label64 + ".example", false, false}, {d255, false, true},
        {d255 + "a", false, false},
    };
    for (const auto& c : cases) EXPECT_EQ(is_valid_domain(c.domain, c.allow_utf8), c.valid) << c.domain;
}

TEST(address_category, names_and_messages) {
    EXPECT_STREQ(address_category().name(), "postern.address");
    std::vector<std::string> seen;
    for (int e = static_cast<int>(empty); e <= static_cast<int>(null_path_not_allowed); ++e) {
        const std::string msg = address_category().message(e);
        EXPECT_FALSE(msg.empty()) << e;
        EXPECT_EQ(std::count(seen.begin(), seen.end(), msg), 0) << msg;
        seen.push_back(msg);
    }
    EXPECT_FALSE(address_category().message(999).empty());
    const std::error_code ec = bad_domain;
    EXPECT_EQ(ec.category(), address_category());
    EXPECT_EQ(ec, make_error_code(bad_domain));
    EXPECT_NE(ec, make_error_code(bad_local_part));
}

}  // namespace
}  // namespace postern::message
