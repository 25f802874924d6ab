// SPDX-License-Identifier: MIT
#include "message/field_locator.hpp"

#include <gtest/gtest.h>

namespace postern::message {
namespace {

const std::string message =
    "Received: from a\r\n\tby b\r\n"
    "authentication-results : mx.example; spf=pass\r\n"
    "\tsmtp.mailfrom=a@b.example\r\n"
    "X-Authentication-Results: not.this.one\r\n"
    "Subject: Authentication-Results: in a value\r\n"
    "Authentication-Results:other.example; dkim=pass\r\n"
    "\r\n"
    "Authentication-Results: in.the.body\r\n";

void expect_found(const field_locator& l) {
    ASSERT_EQ(l.fields().size(), 2u);
    EXPECT_EQ(l.fields()[0].offset, message.find("authentication-results :"));
    EXPECT_EQ(l.fields()[0].value, " mx.example; spf=pass\tsmtp.mailfrom=a@b.example");
    EXPECT_EQ(l.fields()[1].offset, message.find("Authentication-Results:other"));
    EXPECT_EQ(l.fields()[1].value, "other.example; dkim=pass");
}

TEST(field_locator, finds_fields_whole_and_byte_by_byte) {
    field_locator whole("Authentication-Results");
    whole.feed(message);
    expect_found(whole);
    field_locator bytes("Authentication-Results");
    for (char c : message) bytes.feed(std::string_view(&c, 1));
    expect_found(bytes);
}

TEST(field_locator, bare_lf_lines_and_bounds) {
    field_locator l("Authentication-Results", 2, 4);
    l.feed("Authentication-Results: abcdefgh\nAuthentication-Results: x\nAuthentication-Results: y\n\n");
    ASSERT_EQ(l.fields().size(), 2u);  // max_fields
    EXPECT_EQ(l.fields()[0].value, " abc");  // max_value
    EXPECT_EQ(l.fields()[1].offset, 33u);
}

TEST(field_locator, a_body_without_headers_has_none) {
    field_locator l("Authentication-Results");
    l.feed("\r\nAuthentication-Results: body\r\n");
    EXPECT_TRUE(l.fields().empty());
}

}  // namespace
}  // namespace postern::message
