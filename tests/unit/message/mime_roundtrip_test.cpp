// SPDX-License-Identifier: MIT
// Builder → parser round trips over seeded random specs: whatever build_message() writes,
// parse_message() must read back as the spec said, with no warnings, in lines that stay short.
#include "message/mime_build.hpp"
#include "message/mime_parse.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace postern::message {
namespace {

using namespace std::chrono;

std::string pick(std::mt19937_64& rng, std::size_t n, bool line_breaks) {
    static const char* const pieces[] = {"a", "Z", "0", " ", " ", "  ", "\t", ".", "=", "?", "_", "\"", "(", ")", ",", ";",
                                         ":", "<", ">", "@", "\\", "é", "ß", "€", "✓", "日本", "😀", "=?utf-8?q?x?=",
                                         "\xc2\xa0", "%", "'", "*"};
    std::string out;
    while (out.size() < n) {
        if (line_breaks && rng() % 10 == 0) out += rng() % 3 == 0 ? "\n" : "\r\n";
        else if (line_breaks && rng() % 50 == 0) out += std::string(rng() % 120, 'L');  // a long line
        else out += pieces[rng() % std::size(pieces)];
    }
    return out;
}

std::string trim(std::string s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.erase(0, 1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.pop_back();
    return s;
}

std::string collapse(std::string_view s) {  // display names are written with single spaces
    std::string out;
    for (char c : s) {
        if (c == ' ' || c == '\t') {
            if (!out.empty() && out.back() != ' ') out += ' ';
        } else {
            out += c;
        }
    }
    return trim(out);
}

std::string crlf(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\r' || s[i] == '\n') {
            out += "\r\n";
            if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
        } else {
            out += s[i];
        }
    }
    return out;
}

message_spec random_spec(std::mt19937_64& rng, int i) {
    message_spec s;
    s.from = {pick(rng, rng() % 70, false), "sender" + std::to_string(i) + "@example.com"};
    for (int k = rng() % 4; k >= 0; --k) s.to.push_back({pick(rng, rng() % 30, false), "to" + std::to_string(k) + "@example.org"});
    for (int k = rng() % 3; k > 0; --k) s.cc.push_back({pick(rng, rng() % 30, false), "cc" + std::to_string(k) + "@example.net"});
    if (rng() % 3 == 0) s.bcc.push_back({"Hidden", "bcc@example.net"});
    s.subject = pick(rng, rng() % 200, false);
    if (rng() % 3 != 0) s.text = pick(rng, rng() % 800, true);
    if (rng() % 2 != 0) s.html = "<p>" + pick(rng, rng() % 400, true) + "</p>";
    static const char* const extensions[] = {".pdf", ".png", ".txt", ".bin", ".zip", ".csv", ""};
    for (int k = rng() % 3; k > 0; --k) {
        std::string bytes;
        for (int n = rng() % 700; n > 0; --n) bytes += static_cast<char>(rng());
        s.attachments.push_back({trim(pick(rng, rng() % 100, false)) + std::to_string(k) + extensions[rng() % std::size(extensions)], "", bytes});
    }
    s.date = sys_days{year{2026} / 1 / 1} + seconds{static_cast<long>(rng() % 100000000)};
    s.utc_offset_minutes = static_cast<int>(rng() % 1500) - 750;
    s.host_name = "host.example";
    return s;
}

void expect_addresses(const std::vector<mailbox_address>& got, const std::vector<mail_address>& want) {
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i].name, collapse(want[i].name));
        EXPECT_EQ(got[i].address, want[i].address);
    }
}

// The body as the parser reads it back: CRLF line endings, and in a single-part message the
// final line break the message needs.
std::string expected_body(const std::optional<std::string>& body, bool single_part) {
    std::string b = crlf(body.value_or(""));
    if (single_part && !b.empty() && !b.ends_with("\r\n")) b += "\r\n";
    return b;
}

TEST(mime_roundtrip, random_specs_read_back_as_written) {
    std::mt19937_64 rng(20261123);
    for (int i = 0; i < 1000; ++i) {
        const message_spec s = random_spec(rng, i);
        auto built = build_message(s, [&rng] { return rng(); });
        ASSERT_TRUE(built) << built.error().message();
        const std::string& data = built->data;
        SCOPED_TRACE(data);
        const parsed_message m = parse_message(data);
        EXPECT_TRUE(m.warnings.empty()) << to_string(m.warnings.front().what);
        EXPECT_EQ(m.subject, trim(s.subject));
        expect_addresses(m.from, {s.from});
        expect_addresses(m.to, s.to);
        expect_addresses(m.cc, s.cc);
        EXPECT_TRUE(m.bcc.empty());
        EXPECT_EQ(m.message_id, built->message_id);
        ASSERT_TRUE(m.date);
        EXPECT_EQ(*m.date, floor<seconds>(s.date));
        const bool single = !m.parts[0].multipart();
        EXPECT_EQ(m.text, expected_body(s.text, single));
        EXPECT_EQ(m.html, expected_body(s.html, single));
        ASSERT_EQ(m.attachments.size(), s.attachments.size());
        for (std::size_t k = 0; k < s.attachments.size(); ++k) {
            const attachment_info& a = m.attachments[k];
            EXPECT_EQ(a.filename, s.attachments[k].filename);
            EXPECT_EQ(a.content_type, content_type_for_filename(s.attachments[k].filename));
            EXPECT_EQ(a.size, s.attachments[k].bytes.size());
            EXPECT_EQ(decode_part(data, m.parts[a.part]), s.attachments[k].bytes);
        }
        // CRLF only, and every line within 78 octets (RFC 5322 §2.1.1), headers within 76.
        const std::size_t header_end = data.find("\r\n\r\n");
        std::size_t line_start = 0;
        for (std::size_t p = 0; p < data.size(); ++p) {
            if (data[p] == '\n') {
                ASSERT_TRUE(p > 0 && data[p - 1] == '\r') << "bare LF at " << p;
            } else if (data[p] == '\r') {
                ASSERT_TRUE(p + 1 < data.size() && data[p + 1] == '\n') << "bare CR at " << p;
                EXPECT_LE(p - line_start, line_start < header_end ? 76u : 78u) << data.substr(line_start, p - line_start);
                line_start = p + 2;
            }
        }
        EXPECT_FALSE(built->eight_bit);
        EXPECT_FALSE(built->smtputf8);
    }
}

}  // namespace
}  // namespace postern::message
