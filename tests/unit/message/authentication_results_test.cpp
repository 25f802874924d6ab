// SPDX-License-Identifier: MIT
#include "message/authentication_results.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace postern::message {
namespace {

std::vector<std::string> lines_of(const std::string& field) {
    std::vector<std::string> lines;
    for (std::size_t start = 0; start < field.size();) {
        const std::size_t end = field.find("\r\n", start);
        if (end == std::string::npos) {
            lines.push_back(field.substr(start) + "<no CRLF>");
            break;
        }
        lines.push_back(field.substr(start, end - start));
        start = end + 2;
    }
    return lines;
}

TEST(authentication_results, no_result) {
    // RFC 8601 §2.2 no-result; §6 example "Authentication-Results: example.com; none".
    EXPECT_EQ(format_authentication_results({"example.com", {}}), "Authentication-Results: example.com; none\r\n");
}

TEST(authentication_results, one_result_with_properties) {
    authentication_results_field f{"mx.example.org", {{"spf", "pass", "", "", {{"smtp", "mailfrom", "user@example.com"}}}}};
    EXPECT_EQ(format_authentication_results(f),
              "Authentication-Results: mx.example.org;\r\n\tspf=pass smtp.mailfrom=user@example.com\r\n");
}

TEST(authentication_results, several_results_reason_and_comment) {
    authentication_results_field f{"mx.example.org",
                                   {{"spf", "fail", "", "ip 192.0.2.1", {{"smtp", "mailfrom", "example.net"}}},
                                    {"dkim", "fail", "bad \"sig\" \\ here", "", {{"header", "d", "example.net"}}}}};
    EXPECT_EQ(format_authentication_results(f),
              "Authentication-Results: mx.example.org;\r\n"
              "\tspf=fail (ip 192.0.2.1) smtp.mailfrom=example.net;\r\n"
              "\tdkim=fail reason=\"bad \\\"sig\\\" \\\\ here\" header.d=example.net\r\n");
}

TEST(authentication_results, values_are_quoted_unless_token_domain_or_address) {
    EXPECT_EQ(ar_value("example.com"), "example.com");
    EXPECT_EQ(ar_value("user@example.com"), "user@example.com");
    EXPECT_EQ(ar_value("@example.com"), "@example.com");
    EXPECT_EQ(ar_value("first.last+tag@example.com"), "first.last+tag@example.com");
    EXPECT_EQ(ar_value("bücher.example"), "bücher.example");
    EXPECT_EQ(ar_value("abc+DEF"), "abc+DEF");
    EXPECT_EQ(ar_value("ab/cd=="), "\"ab/cd==\"");
    EXPECT_EQ(ar_value("a b"), "\"a b\"");
    EXPECT_EQ(ar_value("\"q\"@example.com"), "\"\\\"q\\\"@example.com\"");
    EXPECT_EQ(ar_value("a;b"), "\"a;b\"");
    EXPECT_EQ(ar_value(""), "\"\"");
    EXPECT_EQ(ar_value("a\r\nb"), "\"a  b\"");
    EXPECT_EQ(ar_value("a..b@example.com"), "\"a..b@example.com\"");
    EXPECT_EQ(ar_value("a@-x.example"), "\"a@-x.example\"");
}

TEST(authentication_results, folds_to_78_columns) {
    ar_result r{"dkim", "pass", "", "", {}};
    for (int i = 0; i < 12; ++i) r.properties.push_back({"header", "d", "sub" + std::to_string(i) + ".example.com"});
    const std::string text = format_authentication_results({"mx.example.org", {r, r}});
    ASSERT_GE(text.size(), 2u);
    EXPECT_EQ(text.substr(text.size() - 2), "\r\n");
    const auto lines = lines_of(text);
    EXPECT_GT(lines.size(), 4u);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        EXPECT_LE(lines[i].size(), 78u) << lines[i];
        if (i > 0) {
            EXPECT_EQ(lines[i][0], '\t') << lines[i];
        }
        EXPECT_EQ(lines[i].find('\r'), std::string::npos);
        EXPECT_EQ(lines[i].find('\n'), std::string::npos);
    }
    // Unfolded, every item is still separated by exactly one white space character.
    std::string unfolded;
    for (const auto& l : lines) unfolded += (unfolded.empty() ? "" : " ") + (l[0] == '\t' ? l.substr(1) : l);
    EXPECT_NE(unfolded.find("dkim=pass header.d=sub0.example.com header.d=sub1.example.com"), std::string::npos);
    EXPECT_NE(unfolded.find("header.d=sub11.example.com; dkim=pass"), std::string::npos);
}

TEST(authentication_results, long_values_are_cut_and_kept_on_one_line) {
    ar_result r{"dkim", "fail", std::string(5000, 'x'), "", {{"header", "d", std::string(5000, 'a') + "\xc3\xa9"}}};
    const std::string text = format_authentication_results({"mx.example.org", {r}});
    for (const auto& l : lines_of(text)) EXPECT_LE(l.size(), 998u);
    // Cut at a UTF-8 boundary: no lone lead octet.
    const std::string cut = ar_value(std::string(max_ar_value - 1, 'a') + "\xc3\xa9");
    EXPECT_EQ(cut, std::string(max_ar_value - 1, 'a'));
}

TEST(authentication_results, names_are_kept_to_keywords) {
    authentication_results_field f{"mx.example.org", {{"sp f;", "pa=ss", "", "", {{"sm.tp", "mail\r\nfrom", "x"}}}}};
    EXPECT_EQ(format_authentication_results(f),
              "Authentication-Results: mx.example.org;\r\n\tsp-f-=pa-ss sm-tp.mail--from=x\r\n");
}

TEST(authentication_results, comment_parentheses_are_escaped) {
    authentication_results_field f{"h", {{"iprev", "pass", "", "a (b) c\\", {}}}};
    EXPECT_EQ(format_authentication_results(f), "Authentication-Results: h;\r\n\tiprev=pass (a \\(b\\) c\\\\)\r\n");
}

TEST(authentication_results, authserv_id_quoted_when_not_a_token) {
    EXPECT_EQ(format_authentication_results({"my host", {}}), "Authentication-Results: \"my host\"; none\r\n");
}

// RFC 8601 §5: "a border MTA MUST remove ... any Authentication-Results header fields ... that
// claim to be from" it.
TEST(is_own_authentication_results, matches_the_authserv_id) {
    EXPECT_TRUE(is_own_authentication_results(" mx.example.org; spf=pass smtp.mailfrom=a@b", "mx.example.org"));
    EXPECT_TRUE(is_own_authentication_results("MX.Example.ORG;spf=pass", "mx.example.org"));
    EXPECT_TRUE(is_own_authentication_results("mx.example.org 1; none", "mx.example.org"));
    EXPECT_TRUE(is_own_authentication_results("(forged) mx.example.org (x (nested)); dkim=pass", "mx.example.org"));
    EXPECT_TRUE(is_own_authentication_results("\r\n\t\"mx.example.org\"; dkim=pass", "mx.example.org"));
    EXPECT_TRUE(is_own_authentication_results("\"mx.\\example.org\"; dkim=pass", "mx.example.org"));
    EXPECT_TRUE(is_own_authentication_results("mx.example.org", "mx.example.org"));
}

TEST(is_own_authentication_results, other_or_unreadable_ids) {
    EXPECT_FALSE(is_own_authentication_results("mx.example.org.evil; spf=pass", "mx.example.org"));
    EXPECT_FALSE(is_own_authentication_results("evil.example; spf=pass (mx.example.org)", "mx.example.org"));
    EXPECT_FALSE(is_own_authentication_results("mx.example; spf=pass", "mx.example.org"));
    EXPECT_FALSE(is_own_authentication_results("mx.example.org@evil; spf=pass", "mx.example.org"));
    EXPECT_FALSE(is_own_authentication_results("", "mx.example.org"));
    EXPECT_FALSE(is_own_authentication_results("   ", "mx.example.org"));
    EXPECT_FALSE(is_own_authentication_results("(unterminated mx.example.org", "mx.example.org"));
    EXPECT_FALSE(is_own_authentication_results("\"mx.example.org", "mx.example.org"));
    EXPECT_FALSE(is_own_authentication_results(";", "mx.example.org"));
    EXPECT_FALSE(is_own_authentication_results(std::string(100000, '('), "mx.example.org"));
}

TEST(is_own_authentication_results, round_trip) {
    const std::string text = format_authentication_results({"mx.example.org", {{"spf", "pass", "", "", {}}}});
    const std::string value = text.substr(std::string("Authentication-Results:").size());
    EXPECT_TRUE(is_own_authentication_results(value, "mx.example.org"));
    EXPECT_FALSE(is_own_authentication_results(value, "example.org"));
}

}  // namespace
}  // namespace postern::message
