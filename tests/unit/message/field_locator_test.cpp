// SPDX-License-Identifier: MIT
#include "message/authentication_results.hpp"
#include "message/field_locator.hpp"

#include <gtest/gtest.h>

namespace postern::message {
namespace {

field_locator ours() {
    return field_locator("Authentication-Results",
                         [](std::string_view v) { return is_own_authentication_results(v, "mx.example"); }, 4, 64);
}

const std::string message =
    "Received: from a\r\n\tby b\r\n"
    "authentication-results : MX.example; spf=pass\r\n"
    "\tsmtp.mailfrom=a@b.example\r\n"
    "X-Authentication-Results: mx.example; not this name\r\n"
    "Subject: Authentication-Results: mx.example; in a value\r\n"
    "Authentication-Results:other.example; dkim=pass\r\n"
    "Authentication-Results:\r\n mx.example; folded before the id\r\n"
    "\r\n"
    "Authentication-Results: mx.example; in the body\r\n";

std::vector<std::uint64_t> expected() {
    return {message.find("authentication-results :"), message.find("Authentication-Results:\r\n mx")};
}

TEST(field_locator, keeps_own_fields_whole_and_byte_by_byte) {
    auto whole = ours();
    whole.feed(message);
    whole.finish();
    EXPECT_EQ(whole.offsets(), expected());
    auto bytes = ours();
    for (char c : message) bytes.feed(std::string_view(&c, 1));
    bytes.finish();
    EXPECT_EQ(bytes.offsets(), expected());
}

// The ways a forged field could slip past: each is found.
TEST(field_locator, many_other_fields_before_ours_do_not_hide_it) {
    auto l = ours();  // max_fields 4 counts kept fields only
    std::string m;
    for (int i = 0; i < 20; ++i) m += "Authentication-Results: other.example; none\r\n";
    m += "Authentication-Results: mx.example; dmarc=pass\r\n\r\n";
    l.feed(m);
    ASSERT_EQ(l.offsets().size(), 1u);
    EXPECT_EQ(l.offsets()[0], m.find("Authentication-Results: mx"));
}

TEST(field_locator, a_value_too_long_to_decide_is_kept) {
    auto l = ours();  // max_value 64
    const std::string m = "Authentication-Results: (" + std::string(600, 'x') + ") mx.example; dmarc=pass\r\n\r\n";
    l.feed(m);
    EXPECT_EQ(l.offsets(), std::vector<std::uint64_t>{0});
}

TEST(field_locator, a_line_of_bare_crs_does_not_end_the_header_section) {
    auto l = ours();
    const std::string m = "Subject: x\r\n\r\r\nAuthentication-Results: mx.example; dmarc=pass\r\n\r\n";
    l.feed(m);
    EXPECT_EQ(l.offsets(), std::vector<std::uint64_t>{m.find("Authentication-Results")});
}

TEST(field_locator, any_whitespace_before_the_colon) {
    auto l = ours();
    const std::string m = "Authentication-Results \t        : mx.example; dmarc=pass\n\n";
    l.feed(m);
    EXPECT_EQ(l.offsets(), std::vector<std::uint64_t>{0});
}

TEST(field_locator, a_header_section_without_body_is_decided_at_finish) {
    auto l = ours();
    l.feed("Authentication-Results: mx.example; dmarc=pass");
    EXPECT_TRUE(l.offsets().empty());
    l.finish();
    EXPECT_EQ(l.offsets(), std::vector<std::uint64_t>{0});
}

TEST(field_locator, more_kept_fields_than_the_bound_is_an_overflow) {
    auto l = ours();
    std::string m;
    for (int i = 0; i < 5; ++i) m += "Authentication-Results: mx.example; none\r\n";
    l.feed(m + "\r\n");
    EXPECT_EQ(l.offsets().size(), 4u);
    EXPECT_TRUE(l.overflow());
}

TEST(field_locator, bare_lf_lines_and_a_body_without_headers) {
    auto l = ours();
    l.feed("From: a\nAuthentication-Results: mx.example; x\n\nAuthentication-Results: mx.example; body\n");
    EXPECT_EQ(l.offsets(), std::vector<std::uint64_t>{8});
    auto none = ours();
    none.feed("\r\nAuthentication-Results: mx.example; body\r\n");
    none.finish();
    EXPECT_TRUE(none.offsets().empty());
}

}  // namespace
}  // namespace postern::message
