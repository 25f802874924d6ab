// SPDX-License-Identifier: MIT
#include "message/trace_headers.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <string>
#include <vector>

namespace postern::message {
namespace {

using namespace std::chrono;
using namespace std::string_literals;

system_clock::time_point utc(int y, unsigned m, unsigned d, int hh = 0, int mm = 0, int ss = 0) {
    return sys_days{year{y} / month{m} / day{d}} + hours{hh} + minutes{mm} + seconds{ss};
}

// 2026-11-23 12:42:00 UTC, a Monday.
const system_clock::time_point when = utc(2026, 11, 23, 12, 42);

received_fields sample() {
    received_fields f;
    f.helo = "client.example";
    f.peer_address = "192.0.2.1";
    f.peer_name = "mail.client.example";
    f.by_host = "mx.postern.example";
    f.protocol = "ESMTPS";
    f.id = "4Fh3kq9zT1z1";
    f.for_recipient = "user@postern.example";
    f.when = when;
    return f;
}

std::vector<std::string> lines_of(const std::string& field) {
    std::vector<std::string> lines;
    for (std::size_t start = 0; start < field.size();) {
        const std::size_t end = field.find("\r\n", start);
        if (end == std::string::npos) break;
        lines.push_back(field.substr(start, end - start));
        start = end + 2;
    }
    return lines;
}

// One header field: CRLF only as line ends, every continuation line starts with a TAB, no
// control characters but TAB, and a CRLF at the very end.
void expect_one_field(const std::string& field) {
    ASSERT_GE(field.size(), 2u);
    EXPECT_EQ(field.substr(field.size() - 2), "\r\n");
    for (std::size_t i = 0; i < field.size(); ++i) {
        const auto c = static_cast<unsigned char>(field[i]);
        if (c == '\r') {
            ASSERT_LT(i + 1, field.size());
            EXPECT_EQ(field[i + 1], '\n') << "bare CR at " << i;
            if (i + 2 < field.size()) {
                EXPECT_EQ(field[i + 2], '\t') << "unfolded line at " << i;
            }
        } else if (c == '\n') {
            EXPECT_TRUE(i > 0 && field[i - 1] == '\r') << "bare LF at " << i;
        } else {
            EXPECT_TRUE(c == '\t' || (c >= 0x20 && c != 0x7F)) << "control " << int(c) << " at " << i;
        }
    }
}

TEST(format_date, fixed_time_point) {
    EXPECT_EQ(format_date(when, 0), "Mon, 23 Nov 2026 12:42:00 +0000");
    EXPECT_EQ(format_date(system_clock::time_point{seconds{1795437720}}, 0), "Mon, 23 Nov 2026 12:42:00 +0000");
}

TEST(format_date, offsets) {
    EXPECT_EQ(format_date(when, -300), "Mon, 23 Nov 2026 07:42:00 -0500");
    EXPECT_EQ(format_date(when, 60), "Mon, 23 Nov 2026 13:42:00 +0100");
    EXPECT_EQ(format_date(when, 330), "Mon, 23 Nov 2026 18:12:00 +0530");
    EXPECT_EQ(format_date(when, 345), "Mon, 23 Nov 2026 18:27:00 +0545");
    EXPECT_EQ(format_date(when, -30), "Mon, 23 Nov 2026 12:12:00 -0030");
    EXPECT_EQ(format_date(when, -570), "Mon, 23 Nov 2026 03:12:00 -0930");
    EXPECT_EQ(format_date(when, 840), "Tue, 24 Nov 2026 02:42:00 +1400");
    EXPECT_EQ(format_date(when, -720), "Mon, 23 Nov 2026 00:42:00 -1200");
}

TEST(format_date, offset_crosses_day_month_and_year) {
    EXPECT_EQ(format_date(utc(2026, 11, 23, 23, 30), 60), "Tue, 24 Nov 2026 00:30:00 +0100");
    EXPECT_EQ(format_date(utc(2026, 12, 1, 0, 15), -60), "Mon, 30 Nov 2026 23:15:00 -0100");
    EXPECT_EQ(format_date(utc(2026, 12, 31, 23, 0), 120), "Fri, 1 Jan 2027 01:00:00 +0200");
    EXPECT_EQ(format_date(utc(2027, 1, 1, 0, 0), -1), "Thu, 31 Dec 2026 23:59:00 -0001");
}

TEST(format_date, calendar_edges) {
    EXPECT_EQ(format_date(system_clock::time_point{}, 0), "Thu, 1 Jan 1970 00:00:00 +0000");
    EXPECT_EQ(format_date(system_clock::time_point{} - seconds{1}, 0), "Wed, 31 Dec 1969 23:59:59 +0000");
    EXPECT_EQ(format_date(utc(2024, 2, 29, 8, 5, 9), 0), "Thu, 29 Feb 2024 08:05:09 +0000");
    EXPECT_EQ(format_date(utc(2000, 2, 29), 0), "Tue, 29 Feb 2000 00:00:00 +0000");
    EXPECT_EQ(format_date(utc(2100, 3, 1), 0), "Mon, 1 Mar 2100 00:00:00 +0000");
    EXPECT_EQ(format_date(utc(2026, 7, 5, 23, 59, 59), 0), "Sun, 5 Jul 2026 23:59:59 +0000");
}

TEST(format_date, fractions_of_a_second_are_dropped) {
    EXPECT_EQ(format_date(when + milliseconds{999}, 0), "Mon, 23 Nov 2026 12:42:00 +0000");
    EXPECT_EQ(format_date(system_clock::time_point{} - milliseconds{1}, 0), "Wed, 31 Dec 1969 23:59:59 +0000");
}

TEST(format_date, absurd_offset_stays_well_formed) {
    EXPECT_EQ(format_date(when, 100000), "Tue, 24 Nov 2026 12:41:00 +2359");
    EXPECT_EQ(format_date(when, -100000), "Sun, 22 Nov 2026 12:43:00 -2359");
}

TEST(format_received, full) {
    EXPECT_EQ(format_received(sample()),
              "Received: from client.example (mail.client.example [192.0.2.1])\r\n"
              "\tby mx.postern.example with ESMTPS id 4Fh3kq9zT1z1\r\n"
              "\tfor <user@postern.example>; Mon, 23 Nov 2026 12:42:00 +0000\r\n");
}

TEST(format_received, tls_and_requiretls_are_comments) {
    auto f = sample();
    f.tls_version = "TLSv1.3";
    f.tls_cipher = "TLS_AES_256_GCM_SHA384";
    f.requiretls = true;
    EXPECT_EQ(format_received(f),
              "Received: from client.example (mail.client.example [192.0.2.1])\r\n"
              "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384)\r\n"
              "\tby mx.postern.example with ESMTPS (REQUIRETLS) id 4Fh3kq9zT1z1\r\n"
              "\tfor <user@postern.example>; Mon, 23 Nov 2026 12:42:00 +0000\r\n");
    f.tls_cipher = "A(B)C";  // a cipher name cannot close the comment early
    EXPECT_NE(format_received(f).find("with cipher A?B?C)"), std::string::npos);
}

TEST(format_received, without_recipient_the_date_follows_the_id) {
    auto f = sample();
    f.for_recipient.reset();
    f.by_host = "mx.example";
    f.protocol = "ESMTP";
    f.id = "X1";
    EXPECT_EQ(format_received(f),
              "Received: from client.example (mail.client.example [192.0.2.1])\r\n"
              "\tby mx.example with ESMTP id X1; Mon, 23 Nov 2026 12:42:00 +0000\r\n");
}

TEST(format_received, long_by_line_folds_before_the_date) {
    auto f = sample();
    f.for_recipient.reset();
    EXPECT_EQ(format_received(f),
              "Received: from client.example (mail.client.example [192.0.2.1])\r\n"
              "\tby mx.postern.example with ESMTPS id 4Fh3kq9zT1z1;\r\n"
              "\tMon, 23 Nov 2026 12:42:00 +0000\r\n");
}

TEST(format_received, without_reverse_name) {
    auto f = sample();
    f.peer_name.reset();
    f.when = when;
    f.utc_offset_minutes = -300;
    EXPECT_EQ(format_received(f),
              "Received: from client.example ([192.0.2.1])\r\n"
              "\tby mx.postern.example with ESMTPS id 4Fh3kq9zT1z1\r\n"
              "\tfor <user@postern.example>; Mon, 23 Nov 2026 07:42:00 -0500\r\n");
}

TEST(format_received, ipv6_peer_gets_the_tag) {
    auto f = sample();
    f.helo = "[IPv6:2001:db8::1]";
    f.peer_address = "2001:db8::1";
    f.peer_name.reset();
    f.protocol = "UTF8SMTPS";
    f.utc_offset_minutes = 60;
    EXPECT_EQ(format_received(f),
              "Received: from [IPv6:2001:db8::1] ([IPv6:2001:db8::1])\r\n"
              "\tby mx.postern.example with UTF8SMTPS id 4Fh3kq9zT1z1\r\n"
              "\tfor <user@postern.example>; Mon, 23 Nov 2026 13:42:00 +0100\r\n");
}

TEST(format_received, long_helo_folds_before_the_comment) {
    auto f = sample();
    f.helo = std::string(50, 'h') + ".example";
    EXPECT_EQ(format_received(f),
              "Received: from " + f.helo + "\r\n"
              "\t(mail.client.example [192.0.2.1])\r\n"
              "\tby mx.postern.example with ESMTPS id 4Fh3kq9zT1z1\r\n"
              "\tfor <user@postern.example>; Mon, 23 Nov 2026 12:42:00 +0000\r\n");
    for (const auto& line : lines_of(format_received(f))) EXPECT_LE(line.size(), 78u) << line;
}

TEST(format_received, quoted_recipient_keeps_its_space) {
    auto f = sample();
    f.for_recipient = "\"john doe\"@postern.example";
    EXPECT_NE(format_received(f).find("\tfor <\"john doe\"@postern.example>; "), std::string::npos);
}

TEST(format_received, empty_fields_have_defaults) {
    received_fields f;
    f.when = when;
    EXPECT_EQ(format_received(f),
              "Received: from unknown\r\n"
              "\tby localhost with ESMTP; Mon, 23 Nov 2026 12:42:00 +0000\r\n");
}

TEST(format_received, helo_cannot_inject_a_header) {
    const std::vector<std::pair<std::string, std::string>> attacks{
        {"evil\r\nX-Injected: yes", "evil??X-Injected:?yes"},
        {"evil\nBcc: victim@example.com", "evil?Bcc:?victim@example.com"},
        {"evil\rX: y", "evil?X:?y"},
        {"a(b)c", "a?b?c"},
        {"x) (fake.example [203.0.113.9]", "x???fake.example?[203.0.113.9]"},
        {"nul\0byte"s, "nul?byte"},
        {"tab\there", "tab?here"},
        {"del\x7f", "del?"},
        {"caf\xC3\xA9", "caf??"},
    };
    for (const auto& [helo, shown] : attacks) {
        auto f = sample();
        f.helo = helo;
        const std::string field = format_received(f);
        SCOPED_TRACE(field);
        expect_one_field(field);
        const std::string first_line = field.substr(0, field.find("\r\n"));
        EXPECT_EQ(first_line.rfind("Received: from " + shown, 0), 0u);
        EXPECT_NE(field.find("(mail.client.example [192.0.2.1])\r\n\tby "), std::string::npos);
        EXPECT_EQ(field.find("\r\nX-Injected"), std::string::npos);
        EXPECT_EQ(field.find("\nBcc"), std::string::npos);
    }
}

TEST(format_received, hostile_reverse_name_and_recipient_are_cleaned) {
    auto f = sample();
    f.peer_name = "ptr.example\r\nX-Evil: 1";
    f.for_recipient = "user@postern.example>\r\nX-Evil: 2";
    const std::string field = format_received(f);
    expect_one_field(field);
    EXPECT_EQ(field.find("\r\nX-Evil"), std::string::npos);
    EXPECT_NE(field.find("(ptr.example??X-Evil:?1 [192.0.2.1])"), std::string::npos);
}

// Whatever the peer sends, the result is one well-formed header field.
TEST(format_received, random_helo_is_always_one_field) {
    std::mt19937 rng(5322);
    std::uniform_int_distribution<int> len(0, 120), byte(0, 255);
    for (int it = 0; it < 10000 && !HasFailure(); ++it) {
        auto f = sample();
        f.helo.resize(static_cast<std::size_t>(len(rng)));
        for (char& c : f.helo) c = static_cast<char>(byte(rng));
        f.peer_name = f.helo;
        f.utc_offset_minutes = len(rng) * 24 - 1440;
        const std::string field = format_received(f);
        expect_one_field(field);
        EXPECT_EQ(field.rfind("Received: from ", 0), 0u);
    }
}

TEST(format_return_path, mailbox_and_null) {
    EXPECT_EQ(format_return_path(path{}), "Return-Path: <>\r\n");
    EXPECT_EQ(format_return_path(path{mailbox{"a", "b.example"}, false}), "Return-Path: <a@b.example>\r\n");
    EXPECT_EQ(format_return_path(path{mailbox{"\"john doe\"", "b.example"}, false}),
              "Return-Path: <\"john doe\"@b.example>\r\n");
    EXPECT_EQ(format_return_path(path{mailbox{"用户", "例子.广告"}, false}), "Return-Path: <用户@例子.广告>\r\n");
}

TEST(format_return_path, from_parsed_path) {
    auto p = parse_path("<\"a\"@[192.0.2.1]> SIZE=1", path_kind::reverse, false);
    ASSERT_TRUE(p);
    EXPECT_EQ(format_return_path(p->value), "Return-Path: <a@[192.0.2.1]>\r\n");
}

TEST(format_return_path, hand_built_path_cannot_inject) {
    const std::string field = format_return_path(path{mailbox{"a\r\nX-Evil: 1", "b.example"}, false});
    expect_one_field(field);
    EXPECT_EQ(field, "Return-Path: <a??X-Evil: 1@b.example>\r\n");
}

}  // namespace
}  // namespace postern::message
