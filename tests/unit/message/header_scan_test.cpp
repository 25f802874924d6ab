// SPDX-License-Identifier: MIT
#include "message/header_scan.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <random>
#include <string>
#include <vector>

namespace postern::message {
namespace {

using namespace std::string_literals;
using namespace std::string_view_literals;

// Joins by appending: g++ 12 at -O3 gives a false -Wrestrict warning for
// "literal" + std::string(n, c) (GCC bug 105329).
template <class... Parts>
std::string cat(const Parts&... parts) {
    std::string s;
    (s += ... += parts);
    return s;
}

result<header_authors> scan(std::string_view message, header_scan_limits limits = {}) {
    header_scanner s{limits};
    s.feed(message);
    s.finish();
    return s.authors();
}

// The From (or Sender) mailboxes as "local@domain" strings, or the error's message.
std::vector<std::string> addresses(const std::vector<mailbox>& list) {
    std::vector<std::string> out;
    for (const mailbox& m : list) out.push_back(m.to_string());
    return out;
}
std::vector<std::string> from_of(std::string_view message) {
    auto r = scan(message);
    if (!r) return {cat("error: ", r.error().message())};
    return addresses(r->from);
}
std::error_code error_of(std::string_view message, header_scan_limits limits = {}) {
    auto r = scan(message, limits);
    return r ? std::error_code{} : r.error();
}

using strings = std::vector<std::string>;

TEST(header_scanner, plain_from_ends_at_the_empty_line) {
    header_scanner s;
    s.feed("Subject: hi\r\nFrom: a@b.example\r\nTo: c@d.example\r\n\r\nbody\r\n");
    ASSERT_TRUE(s.done());  // no finish() needed once the empty line is seen
    auto r = s.authors();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->from_fields, 1u);
    EXPECT_EQ(r->sender_fields, 0u);
    EXPECT_EQ(addresses(r->from), strings{"a@b.example"});
    EXPECT_EQ(r->malformed_lines, 0u);
}

TEST(header_scanner, authors_are_incomplete_before_the_header_section_ends) {
    header_scanner s;
    s.feed("From: a@b.example\r\n");
    EXPECT_FALSE(s.done());
    EXPECT_EQ(s.authors().error(), header_errc::incomplete);
}

TEST(header_scanner, folded_from_is_unfolded) {
    EXPECT_EQ(from_of("From: John\r\n Doe\r\n\t<j@x.example>\r\n\r\n"), strings{"j@x.example"});
    EXPECT_EQ(from_of("From:\r\n a\r\n @\r\n x.example\r\n\r\n"), strings{"a@x.example"});
    // RFC 5322 §4.2 obs-FWS: a continuation line of white space only.
    EXPECT_EQ(from_of("From: Mary Smith\r\n  \r\n     <mary@example.net>\r\n\r\n"), strings{"mary@example.net"});
}

// Every split point, in two chunks and in three, must give what the whole message gives.
TEST(header_scanner, every_split_point_gives_the_same_result) {
    const std::string msg =
        "Received: from x\r\n\tby y\r\nfRoM :\"Doe, J\" (c (d)) <j@x.example>,\r\n"
        " G: a@b.example, c@d.example;\r\nSender: s@x.example\r\nX: y\r\n\r\nFrom: evil@x.example\r\n";
    auto whole = scan(msg);
    ASSERT_TRUE(whole);
    ASSERT_EQ(addresses(whole->from), (strings{"j@x.example", "a@b.example", "c@d.example"}));
    ASSERT_EQ(addresses(whole->sender), strings{"s@x.example"});
    for (std::size_t i = 0; i <= msg.size(); ++i) {
        for (std::size_t j = i; j <= msg.size(); ++j) {
            header_scanner s;
            s.feed(std::string_view(msg).substr(0, i));
            s.feed(std::string_view(msg).substr(i, j - i));
            s.feed(std::string_view(msg).substr(j));
            s.finish();
            auto r = s.authors();
            ASSERT_TRUE(r) << "split at " << i << ", " << j;
            ASSERT_EQ(r->from, whole->from) << "split at " << i << ", " << j;
            ASSERT_EQ(r->sender, whole->sender) << "split at " << i << ", " << j;
            ASSERT_EQ(r->from_fields, 1u);
            ASSERT_EQ(r->malformed_lines, 0u);
        }
    }
}

TEST(header_scanner, byte_by_byte_sees_the_empty_line_split_between_cr_and_lf) {
    const std::string msg = "From: a@b.example\r\n\r\nFrom: c@d.example\r\n";
    header_scanner s;
    for (std::size_t i = 0; i < msg.size(); ++i) {
        s.feed(msg.substr(i, 1));
        EXPECT_EQ(s.done(), i >= 20) << i;  // the LF of the empty line is octet 20
    }
    auto r = s.authors();
    ASSERT_TRUE(r);
    EXPECT_EQ(addresses(r->from), strings{"a@b.example"});
}

TEST(header_scanner, several_mailboxes) {
    EXPECT_EQ(from_of("From: a@x.example, \"B\" <b@y.example>,c@z.example\r\n\r\n"),
              (strings{"a@x.example", "b@y.example", "c@z.example"}));
}

TEST(header_scanner, comma_inside_a_quoted_display_name) {
    EXPECT_EQ(from_of("From: \"Doe, John\" <j@x.example>\r\n\r\n"), strings{"j@x.example"});
    // An address in the display name is only a display name.
    EXPECT_EQ(from_of("From: \"boss@corp.example\" <j@x.example>\r\n\r\n"), strings{"j@x.example"});
}

TEST(header_scanner, comments_wherever_cfws_is_allowed) {
    EXPECT_EQ(from_of("From: (x) a@b.example (y)\r\n\r\n"), strings{"a@b.example"});
    // RFC 5322 Appendix A.5.
    EXPECT_EQ(from_of("From: Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>\r\n\r\n"),
              strings{"pete@silly.test"});
    EXPECT_EQ(from_of("From: a@b.example (unclosed \\)\r\n\r\n"),
              strings{cat("error: ", make_error_code(header_errc::unterminated_comment).message())});
}

TEST(header_scanner, nested_comments_with_quoted_pairs) {
    EXPECT_EQ(from_of("From: (a (b \\) (c)) d) x@y.example (e (f (g)))\r\n\r\n"), strings{"x@y.example"});
    EXPECT_EQ(error_of("From: (a (b) x@y.example\r\n\r\n"), header_errc::unterminated_comment);
}

TEST(header_scanner, group_syntax) {
    EXPECT_EQ(from_of("From: Undisclosed: a@b.example, c@d.example;\r\n\r\n"),
              (strings{"a@b.example", "c@d.example"}));
    // RFC 5322 Appendix A.1.3, as a From (RFC 6854).
    EXPECT_EQ(from_of("From: A Group(Some people)\r\n     :Chris Jones <c@(Chris's host.)public.example>,\r\n"
                      "         joe@example.org,\r\n  John <jdoe@one.test> (my dear friend); (the end of the group)\r\n\r\n"),
              (strings{"c@public.example", "joe@example.org", "jdoe@one.test"}));
    EXPECT_EQ(from_of("From: G: a@b.example;, c@d.example\r\n\r\n"), (strings{"a@b.example", "c@d.example"}));
}

TEST(header_scanner, empty_group_has_no_mailbox) {
    auto r = scan("From: Undisclosed recipients:;\r\n\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->from_fields, 1u);
    EXPECT_TRUE(r->from.empty());
    EXPECT_EQ(from_of("From: (Empty list)(start)Hidden recipients  :(nobody(that I know))  ;\r\n\r\n"), strings{});
}

TEST(header_scanner, missing_from) {
    auto r = scan("To: a@b.example\r\nSubject: x\r\n\r\nFrom: a@b.example\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->from_fields, 0u);
    EXPECT_TRUE(r->from.empty());
}

TEST(header_scanner, two_from_fields_are_both_counted_and_parsed) {
    auto r = scan("From: a@b.example\r\nTo: x@y.example\r\nFrom: c@d.example\r\n\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->from_fields, 2u);
    EXPECT_EQ(addresses(r->from), (strings{"a@b.example", "c@d.example"}));
    // A bad second From is an error even when the first one is good.
    EXPECT_EQ(error_of("From: a@b.example\r\nFrom: c@\r\n\r\n"), address_errc::bad_domain);
}

TEST(header_scanner, from_in_the_body_is_ignored) {
    header_scanner s;
    s.feed("Subject: x\r\n\r\nFrom: evil@x.example\r\n");
    s.feed("From: evil@x.example\r\n\r\n");
    s.finish();
    auto r = s.authors();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->from_fields, 0u);
    EXPECT_TRUE(r->from.empty());
}

TEST(header_scanner, field_names_are_case_insensitive_and_obs_whitespace_before_the_colon) {
    EXPECT_EQ(from_of("FROM: a@b.example\r\n\r\n"), strings{"a@b.example"});
    EXPECT_EQ(from_of("from : a@b.example\r\n\r\n"), strings{"a@b.example"});
    EXPECT_EQ(from_of("fRoM\t \t:a@b.example\r\n\r\n"), strings{"a@b.example"});
    auto r = scan("SENDER : s@b.example\r\n\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->sender_fields, 1u);
    EXPECT_EQ(addresses(r->sender), strings{"s@b.example"});
}

TEST(header_scanner, fields_that_only_look_like_from_are_not_from) {
    auto r = scan("From-Foo: a@b.example\r\nResent-From: c@d.example\r\nX-From: e@f.example\r\nFromx: g@h.example\r\n"
                  "Fro: i@j.example\r\nSenders: k@l.example\r\n\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->from_fields, 0u);
    EXPECT_EQ(r->sender_fields, 0u);
    EXPECT_EQ(r->malformed_lines, 0u);
}

TEST(header_scanner, lines_without_a_colon_are_malformed_and_scanning_goes_on) {
    // An mbox "From " line has no colon after the name; the From field after it still counts.
    auto r = scan("From someone Mon Jan 1 00:00:00 2024\r\n continued\r\nFrom: a@b.example\r\nnocolon\r\n\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->from_fields, 1u);
    EXPECT_EQ(addresses(r->from), strings{"a@b.example"});
    EXPECT_EQ(r->malformed_lines, 2u);
    auto lead = scan(" leading continuation\r\n: no name\r\nFrom: a@b.example\r\n\r\n");
    ASSERT_TRUE(lead);
    EXPECT_EQ(lead->malformed_lines, 2u);
    EXPECT_EQ(lead->from_fields, 1u);
}

TEST(header_scanner, encoded_word_display_names_are_atoms) {
    EXPECT_EQ(from_of("From: =?UTF-8?Q?J=C3=B6rg_M=C3=BCller?= <j@x.example>\r\n\r\n"), strings{"j@x.example"});
    EXPECT_EQ(from_of("From: =?iso-8859-1?b?SvZyZw==?= =?utf-8?q?x?= <j@x.example>\r\n\r\n"), strings{"j@x.example"});
}

TEST(header_scanner, utf8_per_rfc_6532) {
    EXPECT_EQ(from_of("From: Jörg <jörg@例子.广告>\r\n\r\n"), strings{"jörg@例子.广告"});
    EXPECT_EQ(from_of("From: \"Jörg, M.\" <j@x.example>\r\n\r\n"), strings{"j@x.example"});
    EXPECT_EQ(error_of("From: j\xC3@x.example\r\n\r\n"), address_errc::bad_utf8);
}

TEST(header_scanner, bare_lf_line_endings) {
    auto r = scan("Subject: x\nFrom: John\n Doe <j@x.example>\nSender: s@x.example\n\nFrom: evil@x.example\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(addresses(r->from), strings{"j@x.example"});
    EXPECT_EQ(addresses(r->sender), strings{"s@x.example"});
}

TEST(header_scanner, a_bare_cr_or_nul_anywhere_in_the_header_section_is_an_error) {
    EXPECT_EQ(error_of("From: a@b.example\rX: y\r\n\r\n"), header_errc::bad_character);
    // Readers that end a line at a bare CR would see a From field hidden in another field.
    EXPECT_EQ(error_of("X-A: y\rFrom: ceo@bank.example\r\nFrom: a@b.example\r\n\r\n"), header_errc::bad_character);
    EXPECT_EQ(error_of("Subject: hi\rFrom: ceo@bank.example\r\n\r\n"), header_errc::bad_character);
    EXPECT_EQ(error_of("\rX: y\r\nFrom: a@b.example\r\n\r\n"), header_errc::bad_character);
    EXPECT_EQ(error_of(std::string("X-A: y") + '\0' + "From: c@d.example\r\nFrom: a@b.example\r\n\r\n"), header_errc::bad_character);
    // In the body it does not matter.
    auto r = scan(std::string("From: a@b.example\r\n\r\nbody\rmore") + '\0' + "\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->from_fields, 1u);
}

TEST(header_scanner, header_section_much_longer_than_the_field_cap) {
    std::string msg;
    for (int i = 0; i < 2000; ++i) msg += cat("X-Filler: ", std::string(60, 'x'), "\r\n");  // about 140 KiB
    msg += cat("X-Long: ", std::string(20000, 'y'), "\r\n");  // one field over max_field
    msg += "From: a@b.example\r\n\r\n";
    header_scanner s;
    for (std::size_t i = 0; i < msg.size(); i += 1000) s.feed(std::string_view(msg).substr(i, 1000));
    ASSERT_TRUE(s.done());
    auto r = s.authors();
    ASSERT_TRUE(r);
    EXPECT_EQ(addresses(r->from), strings{"a@b.example"});
}

TEST(header_scanner, from_over_the_field_cap_is_an_error) {
    std::string list = "From: a@b.example";
    while (list.size() < 11000) list += ",\r\n a@b.example";
    EXPECT_EQ(error_of(list + "\r\n\r\n"), header_errc::field_too_long);
    EXPECT_EQ(error_of(list + "\r\n\r\n", {.max_field = 16 * 1024}), header_errc::too_many_mailboxes);
    EXPECT_FALSE(error_of(list + "\r\n\r\n", {.max_field = 16 * 1024, .max_mailboxes = 1000}));
}

TEST(header_scanner, header_section_over_its_limit_stops_the_scan) {
    header_scanner s{{.max_section = 100}};
    s.feed("From: a@b.example\r\n");
    s.feed(cat("X: ", std::string(100, 'z'), "\r\n"));
    EXPECT_TRUE(s.done());  // done without an empty line: nothing further is looked at
    s.feed("From: c@d.example\r\n\r\n");
    EXPECT_EQ(s.authors().error(), header_errc::section_too_long);
    // The limit counts the empty line, so a section of exactly max_section octets passes.
    EXPECT_FALSE(error_of("From: a@b.example\r\n\r\n", {.max_section = 21}));
    EXPECT_EQ(error_of("From: a@b.example\r\n\r\n", {.max_section = 20}), header_errc::section_too_long);
}

TEST(header_scanner, too_many_mailboxes_over_several_fields) {
    EXPECT_EQ(error_of("From: a@b.example, c@d.example\r\nFrom: e@f.example\r\n\r\n", {.max_mailboxes = 2}),
              header_errc::too_many_mailboxes);
    EXPECT_FALSE(error_of("From: a@b.example, c@d.example\r\nSender: e@f.example\r\n\r\n", {.max_mailboxes = 2}));
}

TEST(header_scanner, message_without_body_needs_finish) {
    for (const std::string msg : {"From: a@b.example", "From: a@b.example\r\n", "From: a@b.example\r",
                                  "To: x@y.example\r\nFrom: a@\r\n b.example\n"}) {
        header_scanner s;
        s.feed(msg);
        EXPECT_FALSE(s.done()) << msg;
        s.finish();
        EXPECT_TRUE(s.done());
        auto r = s.authors();
        ASSERT_TRUE(r) << msg;
        EXPECT_EQ(addresses(r->from), strings{"a@b.example"}) << msg;
    }
    auto r = scan("From: a@b.example\r\nTrunc");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->malformed_lines, 1u);
}

TEST(header_scanner, empty_header_section) {
    auto r = scan("\r\nFrom: a@b.example\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->from_fields, 0u);
    auto nothing = scan("");
    ASSERT_TRUE(nothing);
    EXPECT_EQ(nothing->from_fields, 0u);
}

TEST(header_scanner, sender_is_one_address) {
    auto r = scan("From: a@b.example, c@d.example\r\nSender: (me) Me <s@x.example>\r\n\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->sender_fields, 1u);
    EXPECT_EQ(addresses(r->sender), strings{"s@x.example"});
    EXPECT_EQ(error_of("Sender: s@x.example, t@x.example\r\n\r\n"), header_errc::trailing_garbage);
    EXPECT_EQ(error_of("Sender: , s@x.example\r\n\r\n"), header_errc::expected_address);
    EXPECT_EQ(error_of("Sender:\r\n\r\n"), header_errc::empty_field);
    auto group = scan("Sender: Team: s@x.example;\r\n\r\n");  // RFC 6854 allows a group
    ASSERT_TRUE(group);
    EXPECT_EQ(addresses(group->sender), strings{"s@x.example"});
}

TEST(header_scanner, obs_forms) {
    // RFC 5322 Appendix A.6.1 and A.6.3.
    EXPECT_EQ(from_of("From: Joe Q. Public <john.q.public@example.com>\r\n\r\n"), strings{"john.q.public@example.com"});
    EXPECT_EQ(from_of("From  : John Doe <jdoe@machine(comment).  example>\r\n\r\n"), strings{"jdoe@machine.example"});
    EXPECT_EQ(from_of("From: <@a.example,@b.example:u@c.example>\r\n\r\n"), strings{"u@c.example"});
    EXPECT_EQ(from_of("From: Mary <@machine.tld:mary@example.net>, , jdoe@test  . example\r\n\r\n"),
              (strings{"mary@example.net", "jdoe@test.example"}));
    EXPECT_EQ(from_of("From: john . \"doe\" @ x.example\r\n\r\n"), strings{"john.doe@x.example"});
    EXPECT_EQ(from_of("From: ,a@b.example,\r\n\r\n"), strings{"a@b.example"});
}

TEST(header_scanner, local_part_is_canonical_and_domain_keeps_its_case) {
    auto r = scan("From: \"john.doe\"@X.Example, \"john doe\"@x.example, \"a\\\"b\"@x.example, J@[192.0.2.1]\r\n\r\n");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->from.size(), 4u);
    EXPECT_EQ(r->from[0].local_part, "john.doe");
    EXPECT_EQ(r->from[0].domain, "X.Example");
    EXPECT_EQ(r->from[1].local_part, "\"john doe\"");
    EXPECT_EQ(r->from[2].local_part, "\"a\\\"b\"");
    EXPECT_EQ(r->from[3].domain, "[192.0.2.1]");
    EXPECT_TRUE(r->from[3].address_literal);
}

// Random edits of a message full of structure, fed in random chunks: the result (value or
// error) must be the one the whole message gives, and nothing may crash (run under
// -DPOSTERN_SANITIZE=ON to catch out-of-bounds reads). The seed is fixed so a failure reproduces.
TEST(header_scanner, random_edits_in_random_chunks_agree_with_the_whole) {
    const std::string base =
        "X: a\r\nFrom: \"D, J\" (c (d) \\)) <@r.example:j@x.example>, G: a@b.example;,\r\n"
        " k . l@[192.0.2.1]\r\nSender: s@x.example\r\n\r\nFrom: z@z.example\r\n";
    constexpr std::string_view alphabet = "\r\n \t:<>@,;.()\"\\[]aF\0\xC3\x80"sv;
    std::mt19937 rng(20240607);
    int accepted = 0;
    for (int it = 0; it < 3000; ++it) {
        std::string msg = base;
        for (int k = std::uniform_int_distribution<int>(0, 3)(rng); k > 0; --k) {
            const std::size_t at = std::uniform_int_distribution<std::size_t>(0, msg.size() - 1)(rng);
            msg[at] = alphabet[std::uniform_int_distribution<std::size_t>(0, alphabet.size() - 1)(rng)];
        }
        const auto whole = scan(msg);
        header_scanner s;
        for (std::size_t i = 0; i < msg.size();) {
            const std::size_t n = std::uniform_int_distribution<std::size_t>(0, 7)(rng);
            s.feed(std::string_view(msg).substr(i, n));
            i += n;
        }
        s.finish();
        const auto chunked = s.authors();
        ASSERT_EQ(bool(whole), bool(chunked)) << it;
        if (!whole) {
            ASSERT_EQ(whole.error(), chunked.error()) << it;
            continue;
        }
        ++accepted;
        ASSERT_EQ(whole->from, chunked->from) << it;
        ASSERT_EQ(whole->sender, chunked->sender) << it;
        ASSERT_EQ(whole->from_fields, chunked->from_fields) << it;
        ASSERT_EQ(whole->malformed_lines, chunked->malformed_lines) << it;
    }
    EXPECT_GT(accepted, 300);  // the edits must leave enough valid messages to compare values
}

struct bad_case {
    std::string name;
    std::string value;
    std::error_code error;
};
void PrintTo(const bad_case& c, std::ostream* os) { *os << c.name; }

class bad_from : public testing::TestWithParam<bad_case> {};

TEST_P(bad_from, is_an_error_not_a_guess) {
    EXPECT_EQ(error_of(cat("From: ", GetParam().value, "\r\n\r\n")), GetParam().error) << GetParam().value;
}

INSTANTIATE_TEST_SUITE_P(
    all, bad_from,
    testing::Values(
        bad_case{"doubled_brackets", "<<a@b.example>>", header_errc::bad_angle_addr},
        bad_case{"no_domain", "a@", address_errc::bad_domain},
        bad_case{"angle_no_domain", "<a@>", address_errc::bad_domain},
        bad_case{"empty", "", header_errc::empty_field},
        bad_case{"only_commas", " , ,", header_errc::empty_field},
        bad_case{"only_comment", "(nobody)", header_errc::empty_field},
        bad_case{"word_only", "john", header_errc::expected_address},
        bad_case{"unquoted_comma", "Doe, John <j@x.example>", header_errc::expected_address},
        bad_case{"two_words_local", "john doe@x.example", header_errc::expected_address},
        bad_case{"double_dot_local", "a..b@x.example", header_errc::expected_address},
        bad_case{"leading_dot_local", ".a@x.example", header_errc::expected_address},
        bad_case{"missing_comma", "a@b.example c@d.example", header_errc::trailing_garbage},
        bad_case{"text_after_angle", "<a@b.example> x", header_errc::trailing_garbage},
        bad_case{"unterminated_quote", "\"abc <a@b.example>", header_errc::unterminated_quoted_string},
        bad_case{"unterminated_literal", "a@[192.0.2.1", header_errc::unterminated_domain_literal},
        bad_case{"unclosed_angle", "<a@b.example", header_errc::bad_angle_addr},
        bad_case{"null_angle", "<>", header_errc::bad_angle_addr},
        bad_case{"stray_close", "a@b.example>", header_errc::trailing_garbage},
        bad_case{"stray_close_only", ">", header_errc::bad_angle_addr},
        bad_case{"stray_paren", "a@b.example)", header_errc::bad_character},
        bad_case{"backslash", "a\\b@x.example", header_errc::bad_character},
        bad_case{"nul", "a\0b@x.example"s, header_errc::bad_character},
        bad_case{"bad_route", "<@a.example u@c.example>", header_errc::bad_angle_addr},
        bad_case{"bad_route_domain", "<@-a:u@c.example>", address_errc::bad_domain},
        bad_case{"group_unterminated", "G: a@b.example", header_errc::bad_group},
        bad_case{"group_nested", "G: H: a@b.example;;", header_errc::bad_group},
        bad_case{"group_nameless", ": a@b.example;", header_errc::bad_group},
        bad_case{"group_missing_comma", "G: a@b.example c@d.example;", header_errc::trailing_garbage},
        bad_case{"display_name_dot", ". <a@b.example>", header_errc::bad_display_name},
        bad_case{"domain_double_dot", "a@b..example", address_errc::bad_domain},
        bad_case{"domain_hyphen", "a@-b.example", address_errc::bad_domain},
        bad_case{"domain_underscore", "a@b_c.example", address_errc::bad_domain},
        bad_case{"bad_literal", "a@[300.1.1.1]", address_errc::bad_address_literal},
        bad_case{"tab_in_quoted_local", "\"a\tb\"@x.example", address_errc::bad_local_part},
        bad_case{"empty_quoted_local", "\"\"@x.example", address_errc::bad_local_part},
        bad_case{"local_too_long", cat(std::string(65, 'a'), "@x.example"), address_errc::too_long}),
    [](const testing::TestParamInfo<bad_case>& i) { return i.param.name; });

TEST(same_address, domain_ignores_case_local_part_does_not_by_default) {
    EXPECT_TRUE(same_address("john", "Example.COM", "john", "example.com"));
    EXPECT_FALSE(same_address("John", "example.com", "john", "example.com"));
    EXPECT_TRUE(same_address("John", "example.com", "john", "example.com", local_part_case::insensitive));
    EXPECT_FALSE(same_address("john", "example.com", "john", "example.org", local_part_case::insensitive));
    EXPECT_FALSE(same_address("john", "example.com", "johnny", "example.com", local_part_case::insensitive));
    EXPECT_FALSE(same_address("jöhn", "example.com", "jÖhn", "example.com", local_part_case::insensitive));  // ASCII only
    auto r = scan("From: \"JOHN\" <JOHN@Example.COM>\r\n\r\n");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->from.size(), 1u);
    const mailbox user{"john", "example.com", false};
    EXPECT_FALSE(same_address(r->from[0], user));
    EXPECT_TRUE(same_address(r->from[0], user, local_part_case::insensitive));
}

TEST(header_category, names_and_messages) {
    EXPECT_STREQ(header_category().name(), "postern.header");
    for (int e = 1; e <= static_cast<int>(header_errc::trailing_garbage); ++e)
        EXPECT_NE(header_category().message(e), "unknown header error") << e;
    EXPECT_EQ(header_category().message(999), "unknown header error");
}

}  // namespace
}  // namespace postern::message
