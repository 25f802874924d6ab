// SPDX-License-Identifier: MIT
#include "message/mime_build.hpp"
#include "message/mime_parse.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace postern::message {
namespace {

using namespace std::chrono;
using namespace std::string_literals;

message_spec simple() {
    message_spec s;
    s.from = {"Alice", "alice@example.com"};
    s.to = {{"", "bob@example.org"}};
    s.subject = "Hello";
    s.text = "Hi Bob.\n";
    s.date = sys_days{year{2026} / 11 / 23} + hours{12} + minutes{42};
    s.host_name = "mail.example.com";
    return s;
}

struct seeded {
    std::mt19937_64 rng{42};
    random_source source() {
        return [this] { return rng(); };
    }
};

result<built_message> build(const message_spec& s) {
    seeded r;
    return build_message(s, r.source());
}

std::string build_ok(const message_spec& s) {
    auto r = build(s);
    EXPECT_TRUE(r.has_value()) << r.error().message();
    return r ? r->data : std::string();
}

std::string header_section(const std::string& data) { return data.substr(0, data.find("\r\n\r\n") + 2); }

std::vector<std::string> lines_of(std::string_view s) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (std::size_t nl; (nl = s.find("\r\n", start)) != std::string_view::npos; start = nl + 2)
        out.emplace_back(s.substr(start, nl - start));
    if (start < s.size()) out.emplace_back(s.substr(start));
    return out;
}

// CRLF everywhere, no bare CR or LF.
void expect_crlf_only(const std::string& data) {
    for (std::size_t i = 0; i < data.size(); ++i) {
        if (data[i] == '\n') {
            EXPECT_TRUE(i > 0 && data[i - 1] == '\r') << "bare LF at " << i;
        } else if (data[i] == '\r') {
            EXPECT_TRUE(i + 1 < data.size() && data[i + 1] == '\n') << "bare CR at " << i;
        }
    }
}

std::error_code error_of(const message_spec& s) {
    auto r = build(s);
    return r ? std::error_code{} : r.error();
}

TEST(mime_build, text_only_is_a_single_text_plain_part) {
    const std::string data = build_ok(simple());
    EXPECT_EQ(data,
              "Date: Mon, 23 Nov 2026 12:42:00 +0000\r\n"
              "From: Alice <alice@example.com>\r\n"
              "To: bob@example.org\r\n"
              "Subject: Hello\r\n"
              "Message-ID: <" + build(simple())->message_id + ">\r\n"
              "MIME-Version: 1.0\r\n"
              "Content-Type: text/plain; charset=utf-8\r\n"
              "Content-Transfer-Encoding: 7bit\r\n"
              "\r\n"
              "Hi Bob.\r\n");
}

TEST(mime_build, structure_follows_the_parts_given) {
    auto s = simple();
    s.text.reset();
    s.html = "<p>Hi</p>";
    auto m = parse_message(build_ok(s));
    EXPECT_EQ(m.parts[0].content_type(), "text/html");

    s.text = "Hi";
    m = parse_message(build_ok(s));
    ASSERT_EQ(m.parts.size(), 3u);
    EXPECT_EQ(m.parts[0].content_type(), "multipart/alternative");
    EXPECT_EQ(m.parts[1].content_type(), "text/plain");  // RFC 2046 §5.1.4: the plainest first
    EXPECT_EQ(m.parts[2].content_type(), "text/html");

    s.attachments.push_back({"a.pdf", "", "%PDF"});
    m = parse_message(build_ok(s));
    ASSERT_EQ(m.parts.size(), 5u);
    EXPECT_EQ(m.parts[0].content_type(), "multipart/mixed");
    EXPECT_EQ(m.parts[1].content_type(), "multipart/alternative");
    EXPECT_EQ(m.parts[4].content_type(), "application/pdf");
    EXPECT_EQ(m.parts[4].id, "2");

    s.html.reset();
    m = parse_message(build_ok(s));
    ASSERT_EQ(m.parts.size(), 3u);
    EXPECT_EQ(m.parts[0].content_type(), "multipart/mixed");
    EXPECT_EQ(m.parts[1].content_type(), "text/plain");

    s.text.reset();
    m = parse_message(build_ok(s));
    ASSERT_EQ(m.parts.size(), 2u);
    EXPECT_EQ(m.parts[0].content_type(), "multipart/mixed");
    EXPECT_EQ(m.attachments.size(), 1u);
}

TEST(mime_build, no_body_at_all_is_an_empty_text_part) {
    auto s = simple();
    s.text.reset();
    const std::string data = build_ok(s);
    EXPECT_TRUE(data.ends_with("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"));
}

TEST(mime_build, text_transfer_encoding) {
    auto s = simple();
    s.text = "ascii only\nshort lines\n";
    EXPECT_NE(build_ok(s).find("Content-Transfer-Encoding: 7bit"), std::string::npos);
    s.text = "caf\xC3\xA9\n";
    std::string data = build_ok(s);
    EXPECT_NE(data.find("Content-Transfer-Encoding: quoted-printable"), std::string::npos);
    EXPECT_NE(data.find("caf=C3=A9\r\n"), std::string::npos);
    s.text = std::string(79, 'x');  // over RFC 5322's 78
    EXPECT_NE(build_ok(s).find("Content-Transfer-Encoding: quoted-printable"), std::string::npos);
    s.text = std::string(78, 'x');
    EXPECT_NE(build_ok(s).find("Content-Transfer-Encoding: 7bit"), std::string::npos);
    s.text = "bare\rCR and\nLF\r\n";
    data = build_ok(s);
    EXPECT_TRUE(data.ends_with("\r\n\r\nbare\r\nCR and\r\nLF\r\n"));
    expect_crlf_only(data);
}

TEST(mime_build, bcc_is_envelope_only) {
    auto s = simple();
    s.to.push_back({"", "carol@example.org"});
    s.cc = {{"Dave", "dave@example.net"}, {"", "BOB@EXAMPLE.ORG"}};  // a case-different domain: not the same local part
    s.bcc = {{"Secret", "eve@example.net"}, {"", "bob@Example.org"}};
    auto r = build(s);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->data.find("eve@"), std::string::npos);
    EXPECT_EQ(r->data.find("Bcc"), std::string::npos);
    EXPECT_EQ(r->envelope_recipients,
              (std::vector<std::string>{"bob@example.org", "carol@example.org", "dave@example.net", "BOB@EXAMPLE.ORG",
                                        "eve@example.net"}));
    EXPECT_EQ(envelope_recipients(s), r->envelope_recipients);
    s.to.clear();
    s.cc.clear();
    EXPECT_TRUE(build(s));  // Bcc alone is enough
}

TEST(mime_build, refuses_header_injection) {
    auto s = simple();
    s.subject = "Hi\r\nBcc: victim@example.net";
    EXPECT_EQ(error_of(s), mime_errc::header_injection);
    s = simple();
    s.from.name = "Alice\nX-Evil: 1";
    EXPECT_EQ(error_of(s), mime_errc::header_injection);
    s = simple();
    s.to[0].name = "nul\0"s;
    EXPECT_EQ(error_of(s), mime_errc::header_injection);
    s = simple();
    s.headers = {{"X-Test", "a\rb"}};
    EXPECT_EQ(error_of(s), mime_errc::header_injection);
    s = simple();
    s.attachments = {{"a\r\n.pdf", "", "x"}};
    EXPECT_EQ(error_of(s), mime_errc::header_injection);
    s = simple();
    s.to[0].address = "bob@example.org>\r\nX-Evil: 1";
    EXPECT_EQ(error_of(s), mime_errc::bad_address);
}

TEST(mime_build, extra_headers_are_checked) {
    auto s = simple();
    for (const char* name : {"X Test", "X:Test", "", "X-Tést", "X\tY"}) {
        s.headers = {{name, "v"}};
        EXPECT_EQ(error_of(s), mime_errc::bad_header_name) << name;
    }
    for (const char* name : {"From", "to", "CC", "Bcc", "Subject", "Date", "Message-Id", "MIME-Version", "Content-Type",
                             "content-transfer-encoding", "Content-Disposition", "Content-X", "Return-Path"}) {
        s.headers = {{name, "v"}};
        EXPECT_EQ(error_of(s), mime_errc::reserved_header) << name;
    }
    s.headers = {{"Reply-To", "r@example.com"}, {"X-Mailer", "postern"}, {"In-Reply-To", "<a@b>"}, {"X-Empty", ""}};
    const std::string data = build_ok(s);
    EXPECT_NE(data.find("\r\nReply-To: r@example.com\r\nX-Mailer: postern\r\nIn-Reply-To: <a@b>\r\nX-Empty:\r\n"), std::string::npos);
    s.headers = {{"X-Unicode", "Grüße ✓"}};
    auto m = parse_message(build_ok(s));
    ASSERT_NE(m.header("X-Unicode"), nullptr);
    EXPECT_EQ(decode_header_value(m.header("X-Unicode")->value), "Grüße ✓");
    EXPECT_TRUE(is_reserved_header(" content-type "));
    EXPECT_FALSE(is_reserved_header("Sender"));
}

TEST(mime_build, other_validation_errors) {
    auto s = simple();
    s.from.address = "";
    EXPECT_EQ(error_of(s), mime_errc::no_from);
    s = simple();
    s.from.address = "not an address";
    EXPECT_EQ(error_of(s), mime_errc::bad_address);
    s = simple();
    s.to.clear();
    EXPECT_EQ(error_of(s), mime_errc::no_recipients);
    s = simple();
    s.subject = "bad \xFF utf-8";
    EXPECT_EQ(error_of(s), mime_errc::bad_utf8);
    s = simple();
    s.html = "\xC3";
    EXPECT_EQ(error_of(s), mime_errc::bad_utf8);
    s = simple();
    s.attachments = {{"\xE9.pdf", "", "x"}};
    EXPECT_EQ(error_of(s), mime_errc::bad_utf8);
    for (const char* type : {"pdf", "multipart/mixed", "Multipart/Related", "message/partial", "text/plain; charset=x"}) {
        s = simple();
        s.attachments = {{"a", type, "x"}};
        EXPECT_EQ(error_of(s), mime_errc::bad_content_type) << type;
    }
    s = simple();
    s.message_id = "no-at-sign";
    EXPECT_EQ(error_of(s), mime_errc::bad_message_id);
    s.message_id = "a b@c";
    EXPECT_EQ(error_of(s), mime_errc::bad_message_id);
    s = simple();
    s.message_id.clear();
    s.host_name = "bad host";
    EXPECT_EQ(error_of(s), mime_errc::bad_message_id);
    EXPECT_EQ(build_message(simple(), random_source{}).error(), mime_errc::no_random_source);
    s = simple();
    s.headers = {{"X-Long", std::string(1200, 'a')}};  // one word that no fold can split
    EXPECT_EQ(error_of(s), mime_errc::line_too_long);
    EXPECT_STREQ(mime_category().name(), "postern.mime");
    EXPECT_FALSE(make_error_code(mime_errc::reserved_header).message().empty());
}

TEST(mime_build, header_lines_are_folded) {
    auto s = simple();
    s.subject = "A fairly long subject line that certainly will not fit on one line of seventy-eight "
                "characters, with Ünïcödé words in it as well — and some more words to make it longer still";
    s.to.clear();
    for (int i = 0; i < 12; ++i) s.to.push_back({"Recipient Number " + std::to_string(i), "r" + std::to_string(i) + "@example.org"});
    s.cc = {{"Ünïcödé Ünïcödé Ünïcödé Ünïcödé Ünïcödé Ünïcödé Ünïcödé Ünïcödé Ünïcödé Ünïcödé", "c@example.org"}};
    s.headers = {{"X-Long", "word " + std::string(100, 'w') + " and more words after it"}};
    const std::string data = build_ok(s);
    expect_crlf_only(data);
    for (const std::string& line : lines_of(header_section(data))) {
        if (line.starts_with("X-Long") || line.starts_with(" " + std::string(100, 'w'))) {
            EXPECT_LE(line.size(), 998u);
            continue;
        }
        EXPECT_LE(line.size(), 76u) << line;
    }
    const auto m = parse_message(data);
    EXPECT_EQ(m.subject, s.subject);
    ASSERT_EQ(m.to.size(), 12u);
    EXPECT_EQ(m.to[11].name, "Recipient Number 11");
    ASSERT_EQ(m.cc.size(), 1u);
    EXPECT_EQ(m.cc[0].name, s.cc[0].name);
    EXPECT_EQ(m.header("X-Long")->value, s.headers[0].value);
}

TEST(mime_build, display_names_follow_the_phrase_rules) {
    auto s = simple();
    const auto from_line = [&](std::string name) {
        s.from.name = std::move(name);
        const std::string data = build_ok(s);
        const auto b = data.find("From: ");
        return data.substr(b, data.find("\r\nTo:") - b);
    };
    EXPECT_EQ(from_line("John Smith"), "From: John Smith <alice@example.com>");
    EXPECT_EQ(from_line("  John \t Smith "), "From: John Smith <alice@example.com>");
    EXPECT_EQ(from_line("Smith, John"), "From: \"Smith, John\" <alice@example.com>");
    EXPECT_EQ(from_line("John \"Q\" Public"), "From: \"John \\\"Q\\\" Public\" <alice@example.com>");
    EXPECT_EQ(from_line("José"), "From: =?utf-8?Q?Jos=C3=A9?= <alice@example.com>");
    EXPECT_EQ(from_line("José Smith"), "From: =?utf-8?Q?Jos=C3=A9?= Smith <alice@example.com>");
    EXPECT_EQ(from_line("=?utf-8?q?x?="), "From: =?utf-8?Q?=3D=3Futf-8=3Fq=3Fx=3F=3D?= <alice@example.com>");
    EXPECT_EQ(from_line(""), "From: alice@example.com");
    for (const std::string name : {"Smith, John", "José \"Pepe\" Pérez, Jr.", "=?utf-8?q?x?=", "a.b", "(comment)", "日本 語"}) {
        s.from.name = name;
        const auto m = parse_message(build_ok(s));
        ASSERT_EQ(m.from.size(), 1u);
        EXPECT_EQ(m.from[0].name, name);
        EXPECT_EQ(m.from[0].address, "alice@example.com");
    }
}

TEST(mime_build, utf8_addresses_need_smtputf8) {
    auto r = build(simple());
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->smtputf8);
    EXPECT_FALSE(r->eight_bit);
    auto s = simple();
    s.text = "é, but quoted-printable";
    s.subject = "é, but an encoded-word";
    s.from.name = "José";
    r = build(s);
    EXPECT_FALSE(r->smtputf8);
    EXPECT_FALSE(r->eight_bit);
    s.to = {{"", "jösé@exämple.com"}};
    r = build(s);
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->smtputf8);
    EXPECT_TRUE(r->eight_bit);
    EXPECT_NE(r->data.find("To: jösé@exämple.com\r\n"), std::string::npos);  // RFC 6532: as it is
    s = simple();
    s.bcc = {{"", "用户@例子.广告"}};
    r = build(s);
    EXPECT_TRUE(r->smtputf8);  // the envelope needs it even though the header does not
    EXPECT_FALSE(r->eight_bit);
}

TEST(mime_build, message_id_and_date) {
    auto r = build(simple());
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->message_id.ends_with("@mail.example.com"));
    EXPECT_EQ(r->message_id.size(), 24 + 1 + std::string("mail.example.com").size());
    EXPECT_EQ(build(simple())->message_id, r->message_id);  // the same seed, the same id
    auto s = simple();
    s.host_name.clear();
    EXPECT_TRUE(build(s)->message_id.ends_with("@example.com"));  // the From domain
    s.message_id = "given.1@example.com";
    r = build(s);
    EXPECT_EQ(r->message_id, "given.1@example.com");
    EXPECT_NE(r->data.find("\r\nMessage-ID: <given.1@example.com>\r\n"), std::string::npos);
    s.utc_offset_minutes = -(4 * 60 + 30);
    EXPECT_TRUE(build(s)->data.starts_with("Date: Mon, 23 Nov 2026 08:12:00 -0430\r\n"));
    const auto m = parse_message(build(s)->data);
    ASSERT_TRUE(m.date);
    EXPECT_EQ(*m.date, s.date);
    EXPECT_EQ(m.date_offset_minutes, -270);
}

TEST(mime_build, boundary_never_occurs_in_a_part) {
    auto s = simple();
    s.html = "<p>x</p>";
    // A random source stuck at zero draws the same boundary every time; put it into the text.
    const random_source zero = [] { return std::uint64_t{0}; };
    const std::string stuck = "=_" + std::string(24, '0');
    s.text = "short lines keep it 7bit:\n" + stuck + "\n--" + stuck + ".1\n";
    auto r = build_message(s, zero);
    ASSERT_TRUE(r);
    const auto m = parse_message(r->data);
    const std::string boundary(m.parts[0].param("boundary"));
    EXPECT_NE(boundary, stuck);
    EXPECT_EQ(s.text->find(boundary), std::string::npos);
    EXPECT_EQ(m.text, "short lines keep it 7bit:\r\n" + stuck + "\r\n--" + stuck + ".1\r\n");
    EXPECT_TRUE(m.warnings.empty());
}

TEST(mime_build, attachments) {
    auto s = simple();
    const std::string binary = "\x89PNG\r\n\x1a\n\0\xff"s + std::string(300, '\x7f');
    s.attachments = {{"photo.png", "", binary},
                     {"rapport été.pdf", "", "%PDF"},
                     {"data", "Application/X-Custom", "raw"},
                     {"notes.txt", "", "caf\xC3\xA9\n"},
                     {"", "", "no name"}};
    const std::string data = build_ok(s);
    EXPECT_NE(data.find("Content-Type: image/png; name=photo.png\r\nContent-Transfer-Encoding: base64\r\n"
                        "Content-Disposition: attachment; filename=photo.png\r\n\r\n"),
              std::string::npos);
    EXPECT_NE(data.find("Content-Type: application/pdf; name*=utf-8''rapport%20%C3%A9t%C3%A9.pdf;\r\n"
                        " name=\"rapport _t_.pdf\"\r\n"),
              std::string::npos);
    EXPECT_NE(data.find("Content-Disposition: attachment;\r\n"
                        " filename*=utf-8''rapport%20%C3%A9t%C3%A9.pdf; filename=\"rapport _t_.pdf\"\r\n"),
              std::string::npos);
    EXPECT_NE(data.find("Content-Type: application/x-custom; name=data\r\n"), std::string::npos);
    EXPECT_NE(data.find("Content-Type: text/plain; charset=utf-8; name=notes.txt\r\n"), std::string::npos);
    EXPECT_NE(data.find("Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
                        "Content-Disposition: attachment\r\n"),
              std::string::npos);
    for (const std::string& line : lines_of(data)) EXPECT_LE(line.size(), 76u) << line;
    const auto m = parse_message(data);
    ASSERT_EQ(m.attachments.size(), 5u);
    EXPECT_EQ(decode_part(data, *find_part(m, m.attachments[0].part_id)), binary);
    EXPECT_EQ(m.attachments[0].size, binary.size());
    EXPECT_EQ(m.attachments[1].filename, "rapport été.pdf");
    EXPECT_EQ(m.attachments[2].content_type, "application/x-custom");
    EXPECT_EQ(m.attachments[4].filename, "");
    EXPECT_EQ(m.text, "Hi Bob.\n" == *s.text ? "Hi Bob.\r\n" : "");
    EXPECT_TRUE(m.warnings.empty());
}

TEST(mime_build, an_eml_attachment_is_message_rfc822_when_7bit) {
    auto s = simple();
    s.attachments = {{"fwd.eml", "", "From: a@b.example\nSubject: inner\n\nbody\n"}};
    std::string data = build_ok(s);
    EXPECT_NE(data.find("Content-Type: message/rfc822; name=fwd.eml\r\nContent-Transfer-Encoding: 7bit\r\n"), std::string::npos);
    auto m = parse_message(data);
    ASSERT_EQ(m.attachments.size(), 1u);
    EXPECT_EQ(decode_part(data, *find_part(m, m.attachments[0].part_id)), "From: a@b.example\r\nSubject: inner\r\n\r\nbody\r\n");
    // RFC 2046 §5.2.1 forbids base64 for message/rfc822: an 8-bit message goes as an opaque file.
    s.attachments = {{"fwd.eml", "", "Subject: caf\xE9\n\nbody\n"}};
    data = build_ok(s);
    EXPECT_EQ(data.find("message/rfc822"), std::string::npos);
    m = parse_message(data);
    ASSERT_EQ(m.attachments.size(), 1u);
    EXPECT_EQ(m.attachments[0].content_type, "application/octet-stream");
    EXPECT_EQ(m.attachments[0].filename, "fwd.eml");
    EXPECT_EQ(decode_part(data, *find_part(m, m.attachments[0].part_id)), s.attachments[0].bytes);
}

}  // namespace
}  // namespace postern::message
