// SPDX-License-Identifier: MIT
#include "message/mime_parse.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace postern::message {
namespace {

using namespace std::chrono;
using namespace std::string_literals;

bool has_warning(const parsed_message& m, mime_warning w, std::string_view part_id) {
    return std::find(m.warnings.begin(), m.warnings.end(), parse_warning{w, std::string(part_id)}) != m.warnings.end();
}

std::vector<std::string> ids(const parsed_message& m) {
    std::vector<std::string> out;
    for (const mime_part& p : m.parts) out.push_back(p.id + "=" + p.content_type());
    return out;
}

// A nested message of the usual shape: mixed [ alternative [ text, related [ html, image ] ], pdf ].
const std::string nested =
    "From: Alice <alice@example.com>\r\n"
    "To: bob@example.org\r\n"
    "Subject: nested\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=outer\r\n"
    "\r\n"
    "This is the preamble.\r\n"
    "--outer\r\n"
    "Content-Type: multipart/alternative; boundary=\"inner\"\r\n"
    "\r\n"
    "--inner\r\n"
    "Content-Type: text/plain; charset=iso-8859-1\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "caf=E9 au lait=\r\n"
    " ici\r\n"
    "--inner\r\n"
    "Content-Type: multipart/related; boundary=rel\r\n"
    "\r\n"
    "--rel\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "\r\n"
    "<p>caf\xC3\xA9 <img src=\"cid:logo@x\"></p>\r\n"
    "--rel\r\n"
    "Content-Type: image/png\r\n"
    "Content-ID: <logo@x>\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "iVBORw0K\r\n"
    "GgoAAAAN\r\n"
    "--rel--\r\n"
    "--inner--\r\n"
    "\r\n"
    "--outer\r\n"
    "Content-Type: application/pdf; name=\"old-name.pdf\"\r\n"
    "Content-Disposition: attachment;\r\n"
    " filename*=utf-8''r%C3%A9sum%C3%A9.pdf\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "JVBERi0x\r\n"
    "LjQ=\r\n"
    "--outer--\r\n"
    "This is the epilogue.\r\n";

TEST(mime_parse, headers_are_kept_raw_and_unfolded) {
    const auto m = parse_message("Subject: a\r\n  folded\r\n\tvalue \r\nX-Empty:\r\nX-Colon : x\r\n\r\nbody");
    ASSERT_EQ(m.headers().size(), 3u);
    EXPECT_EQ(m.headers()[0].name, "Subject");
    EXPECT_EQ(m.headers()[0].raw, " a\r\n  folded\r\n\tvalue ");
    EXPECT_EQ(m.headers()[0].value, "a  folded\tvalue");
    EXPECT_EQ(m.headers()[1].value, "");
    EXPECT_EQ(m.headers()[2].name, "X-Colon");  // RFC 5322 §4.5 obs-optional: white space before ':'
    EXPECT_EQ(m.subject, "a  folded\tvalue");
    ASSERT_NE(m.header("x-colon"), nullptr);
    EXPECT_EQ(m.header("x-missing"), nullptr);
    EXPECT_EQ(m.text, "body");
    EXPECT_EQ(m.parts[0].id, "1");  // IMAP: a single-part message's body is part 1
    EXPECT_TRUE(m.warnings.empty());
}

TEST(mime_parse, part_ids_and_the_tree) {
    const auto m = parse_message(nested);
    EXPECT_EQ(ids(m), (std::vector<std::string>{"=multipart/mixed", "1=multipart/alternative", "1.1=text/plain",
                                                "1.2=multipart/related", "1.2.1=text/html", "1.2.2=image/png",
                                                "2=application/pdf"}));
    EXPECT_EQ(m.parts[0].children, (std::vector<std::size_t>{1, 6}));
    EXPECT_EQ(m.parts[3].parent, 1u);
    EXPECT_EQ(m.parts[4].depth, 3u);
    ASSERT_NE(find_part(m, "1.2.2"), nullptr);
    EXPECT_EQ(find_part(m, "1.2.2")->content_id, "logo@x");
    EXPECT_EQ(find_part(m, "3"), nullptr);
    EXPECT_TRUE(m.warnings.empty());
}

TEST(mime_parse, bodies_and_attachments) {
    const auto m = parse_message(nested);
    EXPECT_EQ(m.text_part, 2u);
    EXPECT_EQ(m.text, "café au lait ici");  // quoted-printable, then ISO-8859-1
    EXPECT_EQ(m.html_part, 4u);
    EXPECT_EQ(m.html, "<p>café <img src=\"cid:logo@x\"></p>");
    ASSERT_EQ(m.attachments.size(), 2u);
    const attachment_info& logo = m.attachments[0];
    EXPECT_EQ(logo.part_id, "1.2.2");
    EXPECT_EQ(logo.content_type, "image/png");
    EXPECT_EQ(logo.content_id, "logo@x");
    EXPECT_TRUE(logo.is_inline);
    EXPECT_EQ(logo.size, 12u);
    const attachment_info& pdf = m.attachments[1];
    EXPECT_EQ(pdf.part_id, "2");
    EXPECT_EQ(pdf.filename, "résumé.pdf");  // Content-Disposition wins over Content-Type name
    EXPECT_FALSE(pdf.is_inline);
    EXPECT_EQ(pdf.size, 8u);
    EXPECT_EQ(decode_part(nested, m.parts[pdf.part]), "%PDF-1.4");
    EXPECT_EQ(decode_text(nested, m.parts[2]), "café au lait ici");
    EXPECT_EQ(m.from, (std::vector<mailbox_address>{{"Alice", "alice@example.com"}}));
    EXPECT_EQ(m.to, (std::vector<mailbox_address>{{"", "bob@example.org"}}));
}

TEST(mime_parse, body_choice_prefers_alternative_and_skips_attachments) {
    const std::string msg =
        "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
        "--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment\r\n\r\nattached text\r\n"
        "--b\r\nContent-Type: text/plain; name=notes.txt\r\n\r\nnamed text\r\n"
        "--b\r\nContent-Type: text/plain\r\n\r\nloose text\r\n"
        "--b\r\nContent-Type: multipart/alternative; boundary=a\r\n\r\n"
        "--a\r\nContent-Type: text/plain\r\n\r\nalternative text\r\n"
        "--a\r\nContent-Type: text/html\r\n\r\n<b>html</b>\r\n--a--\r\n"
        "--b--\r\n";
    const auto m = parse_message(msg);
    EXPECT_EQ(m.text, "alternative text");
    EXPECT_EQ(m.html, "<b>html</b>");
    ASSERT_EQ(m.attachments.size(), 3u);
    EXPECT_EQ(m.attachments[0].part_id, "1");
    EXPECT_EQ(m.attachments[1].filename, "notes.txt");
    EXPECT_EQ(m.attachments[2].part_id, "3");  // the loose text part, not shown as the body
}

TEST(mime_parse, a_single_part_attachment_is_part_1) {
    const std::string msg = "Content-Type: application/pdf\r\nContent-Disposition: attachment; filename=a.pdf\r\n"
                            "Content-Transfer-Encoding: base64\r\n\r\nJVBERg==\r\n";
    const auto m = parse_message(msg);
    EXPECT_EQ(m.text_part, no_part);
    ASSERT_EQ(m.attachments.size(), 1u);
    EXPECT_EQ(m.attachments[0].part_id, "1");
    EXPECT_EQ(m.attachments[0].size, 4u);
}

TEST(mime_parse, lf_line_endings) {
    std::string lf = nested;
    for (std::size_t p; (p = lf.find("\r\n")) != std::string::npos;) lf.erase(p, 1);
    const auto m = parse_message(lf);
    EXPECT_EQ(ids(m), ids(parse_message(nested)));
    EXPECT_EQ(m.text, "café au lait ici");
    EXPECT_EQ(decode_part(lf, m.parts[6]), "%PDF-1.4");
    EXPECT_EQ(m.warnings, (std::vector<parse_warning>{{mime_warning::lf_line_endings, ""}}));
}

TEST(mime_parse, missing_final_boundary) {
    const std::string msg = "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nfirst\r\n--b\r\n\r\nsecond, cut off\r\n";
    const auto m = parse_message(msg);
    ASSERT_EQ(m.parts.size(), 3u);
    EXPECT_EQ(m.text, "first");
    EXPECT_EQ(decode_part(msg, m.parts[2]), "second, cut off\r\n");
    EXPECT_TRUE(has_warning(m, mime_warning::missing_final_boundary, ""));
}

TEST(mime_parse, missing_boundary_becomes_text) {
    auto m = parse_message("Content-Type: multipart/mixed\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n");
    EXPECT_EQ(m.parts.size(), 1u);
    EXPECT_EQ(m.parts[0].content_type(), "text/plain");
    EXPECT_EQ(m.text, "--b\r\n\r\nx\r\n--b--\r\n");
    EXPECT_TRUE(has_warning(m, mime_warning::missing_boundary, ""));
    m = parse_message("Content-Type: multipart/mixed; boundary=zz\r\n\r\nno delimiter here\r\n");
    EXPECT_EQ(m.text, "no delimiter here\r\n");
    EXPECT_TRUE(has_warning(m, mime_warning::missing_boundary, ""));
}

TEST(mime_parse, delimiters_must_match_exactly) {
    // "--bb" is not a delimiter for boundary "b"; transport padding after one is allowed.
    const std::string msg = "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b \t\r\n\r\n--bb\r\nstill first\r\n"
                            "--b--  \r\n";
    const auto m = parse_message(msg);
    ASSERT_EQ(m.parts.size(), 2u);
    EXPECT_EQ(m.text, "--bb\r\nstill first");
    EXPECT_TRUE(m.warnings.empty());
}

TEST(mime_parse, headers_without_an_empty_line) {
    auto m = parse_message("Subject: x\r\nThis is the body.\r\n");
    EXPECT_EQ(m.subject, "x");
    EXPECT_EQ(m.text, "This is the body.\r\n");
    EXPECT_TRUE(has_warning(m, mime_warning::missing_header_end, "1"));
    m = parse_message("Subject: only a header");
    EXPECT_EQ(m.subject, "only a header");
    EXPECT_EQ(m.text, "");
    m = parse_message("From sender@example.com Mon Nov 23 12:00:00 2026\r\nSubject: mbox\r\n\r\nx");  // mbox separator
    EXPECT_EQ(m.subject, "mbox");
    EXPECT_TRUE(m.warnings.empty());
}

TEST(mime_parse, content_type_defaults_and_errors) {
    auto m = parse_message("Content-Type: garbage\r\n\r\nx");
    EXPECT_EQ(m.parts[0].content_type(), "text/plain");
    EXPECT_TRUE(has_warning(m, mime_warning::bad_content_type, "1"));
    m = parse_message("Content-Type: TEXT/HTML; CHARSET=\"ISO-8859-1\"\r\n\r\n<b>\xE9</b>");
    EXPECT_EQ(m.parts[0].content_type(), "text/html");
    EXPECT_EQ(m.parts[0].charset, "iso-8859-1");
    EXPECT_EQ(m.html, "<b>é</b>");
    m = parse_message("Content-Type: multipart/digest; boundary=d\r\n\r\n--d\r\n\r\nSubject: inner\r\n\r\nx\r\n--d--\r\n");
    ASSERT_EQ(m.parts.size(), 2u);
    EXPECT_EQ(m.parts[1].content_type(), "message/rfc822");  // RFC 2046 §5.1.5
    m = parse_message("Content-Type: text/plain; charset=x-klingon\r\n\r\nabc");
    EXPECT_EQ(m.text, "abc");
    EXPECT_TRUE(has_warning(m, mime_warning::unknown_charset, "1"));
    m = parse_message("Content-Transfer-Encoding: x-uuencode\r\n\r\nabc");
    EXPECT_TRUE(has_warning(m, mime_warning::unknown_transfer_encoding, "1"));
    EXPECT_EQ(m.text, "abc");
}

TEST(mime_parse, damaged_encodings_are_warnings) {
    auto m = parse_message("Content-Transfer-Encoding: base64\r\n\r\naGVs*bG8=\r\n");
    EXPECT_EQ(m.text, "hello");
    EXPECT_TRUE(has_warning(m, mime_warning::bad_base64, "1"));
    m = parse_message("Content-Transfer-Encoding: Quoted-Printable\r\n\r\n100=%\r\n");
    EXPECT_EQ(m.text, "100=%\r\n");
    EXPECT_TRUE(has_warning(m, mime_warning::bad_quoted_printable, "1"));
    m = parse_message("Content-Type: text/plain; charset=\"unterminated\r\n\r\nx");
    EXPECT_TRUE(has_warning(m, mime_warning::bad_parameters, "1"));
}

std::string nest(std::size_t depth) {
    std::string msg;
    for (std::size_t i = 0; i < depth; ++i) msg += "Content-Type: multipart/mixed; boundary=b" + std::to_string(i) + "\r\n\r\n--b" + std::to_string(i) + "\r\n";
    msg += "Content-Type: text/plain\r\n\r\ndeep\r\n";
    for (std::size_t i = depth; i-- > 0;) msg += "--b" + std::to_string(i) + "--\r\n";
    return msg;
}

TEST(mime_parse, depth_limit) {
    auto m = parse_message(nest(10));
    EXPECT_EQ(m.parts.size(), 11u);
    EXPECT_EQ(m.parts.back().id, "1.1.1.1.1.1.1.1.1.1");
    EXPECT_EQ(m.text, "deep");
    m = parse_message(nest(200));
    EXPECT_EQ(m.parts.size(), 51u);  // the root and 50 levels; the 51st multipart is one opaque part
    EXPECT_EQ(m.parts.back().content_type(), "multipart/mixed");
    EXPECT_TRUE(has_warning(m, mime_warning::depth_limit, m.parts.back().id));
    EXPECT_EQ(m.attachments.size(), 1u);
    parse_limits tight;
    tight.max_depth = 3;
    EXPECT_EQ(parse_message(nest(10), tight).parts.size(), 4u);
}

TEST(mime_parse, part_and_header_limits) {
    std::string msg = "Content-Type: multipart/mixed; boundary=b\r\n\r\n";
    for (int i = 0; i < 3000; ++i) msg += "--b\r\nContent-Type: application/octet-stream\r\n\r\nx\r\n";
    msg += "--b--\r\n";
    auto m = parse_message(msg);
    EXPECT_EQ(m.parts.size(), 1000u);
    EXPECT_TRUE(has_warning(m, mime_warning::part_limit, ""));
    EXPECT_EQ(m.attachments.size(), 999u);
    std::string many;
    for (int i = 0; i < 1500; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
    many += "Subject: late\r\n\r\nbody";
    m = parse_message(many);
    EXPECT_EQ(m.headers().size(), 1000u);
    EXPECT_EQ(m.text, "body");
    EXPECT_TRUE(has_warning(m, mime_warning::too_many_headers, "1"));
}

TEST(mime_parse, warnings_have_stable_names) {
    EXPECT_EQ(to_string(mime_warning::missing_final_boundary), "missing_final_boundary");
    EXPECT_EQ(to_string(mime_warning::lf_line_endings), "lf_line_endings");
}

// ---- the fields a reader shows --------------------------------------------------------------

TEST(mime_fields, rfc2047_section_8_headers) {
    const std::string msg =
        "From: =?US-ASCII?Q?Keith_Moore?= <moore@cs.utk.edu>\r\n"
        "To: =?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?= <keld@dkuug.dk>\r\n"
        "CC: =?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>\r\n"
        "Subject: =?ISO-8859-1?B?SWYgeW91IGNhbiByZWFkIHRoaXMgeW8=?=\r\n"
        "    =?ISO-8859-2?B?dSB1bmRlcnN0YW5kIHRoZSBleGFtcGxlLg==?=\r\n"
        "\r\n";
    const auto m = parse_message(msg);
    EXPECT_EQ(m.from, (std::vector<mailbox_address>{{"Keith Moore", "moore@cs.utk.edu"}}));
    EXPECT_EQ(m.to, (std::vector<mailbox_address>{{"Keld Jørn Simonsen", "keld@dkuug.dk"}}));
    EXPECT_EQ(m.cc, (std::vector<mailbox_address>{{"André Pirard", "PIRARD@vm1.ulg.ac.be"}}));
    EXPECT_EQ(m.subject, "If you can read this you understand the example.");
    EXPECT_TRUE(has_warning(m, mime_warning::unknown_charset, "1"));  // ISO-8859-2 is passed through
}

TEST(mime_fields, address_lists) {
    using list = std::vector<mailbox_address>;
    EXPECT_EQ(parse_address_field("a@b.example, \"Smith, John\" <j@x.example>, <c@d.example>"),
              (list{{"", "a@b.example"}, {"Smith, John", "j@x.example"}, {"", "c@d.example"}}));
    EXPECT_EQ(parse_address_field("Doe, John <j@x.example>"), (list{{"Doe, John", "j@x.example"}}));  // unquoted comma
    EXPECT_EQ(parse_address_field("undisclosed-recipients:;"), list{});
    EXPECT_EQ(parse_address_field("Team: a@x.example, B <b@x.example>;, c@x.example"),
              (list{{"", "a@x.example"}, {"B", "b@x.example"}, {"", "c@x.example"}}));
    EXPECT_EQ(parse_address_field("a@b.example (John Doe)"), (list{{"John Doe", "a@b.example"}}));
    EXPECT_EQ(parse_address_field("John (the man) Doe <a@b.example>"), (list{{"John Doe", "a@b.example"}}));
    EXPECT_EQ(parse_address_field("<@relay.example:a@b.example>"), (list{{"", "a@b.example"}}));
    EXPECT_EQ(parse_address_field("\"a b\"@x.example"), (list{{"", "\"a b\"@x.example"}}));
    EXPECT_EQ(parse_address_field("\"=?utf-8?Q?Jos=C3=A9?=\" <j@x.example>"), (list{{"José", "j@x.example"}}));
    EXPECT_EQ(parse_address_field("=?utf-8?q?a?= =?utf-8?q?b?= c <x@y.example>"), (list{{"ab c", "x@y.example"}}));
    EXPECT_EQ(parse_address_field("J\xF6rg <j@x.example>"), (list{{"Jörg", "j@x.example"}}));  // raw Latin-1
    EXPECT_EQ(parse_address_field("J\xC3\xB6rg <j\xC3\xB6@x.example>"), (list{{"Jörg", "jö@x.example"}}));
    EXPECT_EQ(parse_address_field("MAILER-DAEMON"), (list{{"", "MAILER-DAEMON"}}));
    EXPECT_EQ(parse_address_field("Nathaniel Borenstein <nsb@thumper.bellcore.com>\r\n (=?iso-8859-8?b?7eXs+SDv4SDp7Oj08A==?=)"),
              (list{{"Nathaniel Borenstein", "nsb@thumper.bellcore.com"}}));
    EXPECT_EQ(parse_address_field("  ,, "), list{});
    EXPECT_EQ(parse_address_field("<unterminated@x.example"), (list{{"", "unterminated@x.example"}}));
    std::string many;
    for (int i = 0; i < 50; ++i) many += "a" + std::to_string(i) + "@x.example,";
    EXPECT_EQ(parse_address_field(many, 10).size(), 10u);
}

TEST(mime_fields, message_id_reply_to_and_repeated_fields) {
    const auto m = parse_message("Message-ID:  <abc.123@host.example> (comment)\r\nReply-To: r@x.example\r\n"
                                 "To: a@x.example\r\nTo: b@x.example\r\n\r\n");
    EXPECT_EQ(m.message_id, "abc.123@host.example");
    EXPECT_EQ(m.reply_to, (std::vector<mailbox_address>{{"", "r@x.example"}}));
    EXPECT_EQ(m.to.size(), 2u);  // two To fields (against RFC 5322 §3.6) read as one list
}

system_clock::time_point utc(int y, unsigned mo, unsigned d, int h, int mi, int s) {
    return sys_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi} + seconds{s};
}

TEST(mime_fields, dates) {
    auto d = parse_date("Mon, 23 Nov 2026 12:42:07 +0000");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->when, utc(2026, 11, 23, 12, 42, 7));
    d = parse_date("Fri, 21 Nov 1997 09:55:06 -0600");  // RFC 5322 Appendix A.1.1
    ASSERT_TRUE(d);
    EXPECT_EQ(d->when, utc(1997, 11, 21, 15, 55, 6));
    EXPECT_EQ(d->offset_minutes, -360);
    d = parse_date("21 Nov 97 09:55:06 GMT");  // Appendix A.6.2: obsolete year and zone
    ASSERT_TRUE(d);
    EXPECT_EQ(d->when, utc(1997, 11, 21, 9, 55, 6));
    d = parse_date("Thu,\r\n      13\r\n        Feb\r\n          1969\r\n      23:32\r\n   -0330 (Newfoundland Time)");  // A.6.3
    ASSERT_TRUE(d);
    EXPECT_EQ(d->when, utc(1969, 2, 14, 3, 2, 0));
    d = parse_date("1 Jan 2026 00:00 EST");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->when, utc(2026, 1, 1, 5, 0, 0));
    d = parse_date("Wed, 01 Jan 2020 10:00:00 Z");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->offset_minutes, 0);
    d = parse_date("Mon Nov 23 12:42:07 2026");  // asctime order
    ASSERT_TRUE(d);
    EXPECT_EQ(d->when, utc(2026, 11, 23, 12, 42, 7));
    d = parse_date("23 November 2026 12:42 +0100");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->when, utc(2026, 11, 23, 11, 42, 0));
    for (const char* bad : {"", "yesterday", "31 Feb 2026 10:00 +0000", "23 Nov 2026 25:00 +0000", "23 Foo 2026 10:00",
                            "23 Nov 2026", "x Nov 2026 10:00"})
        EXPECT_FALSE(parse_date(bad)) << bad;
    const auto m = parse_message("Date: Mon, 23 Nov 2026 12:42:07 +0200\r\n\r\n");
    ASSERT_TRUE(m.date);
    EXPECT_EQ(*m.date, utc(2026, 11, 23, 10, 42, 7));
    EXPECT_EQ(m.date_offset_minutes, 120);
    EXPECT_EQ(m.date_text, "Mon, 23 Nov 2026 12:42:07 +0200");
}

// ---- text for lists and the index -------------------------------------------------------------

TEST(mime_text, html_to_text) {
    EXPECT_EQ(html_to_text("<html><head><title>T</title><style>p{color:red}</style></head>"
                           "<body><p>Hello&nbsp;<b>world</b> &amp; you</p><script>alert(1)</script>"
                           "<!-- hidden --><div>caf&eacute; &#233;&#xE9; &lt;x&gt; &unknown; a & b</div></body></html>"),
              "Hello world & you\ncaf&eacute; éé <x> &unknown; a & b");
    EXPECT_EQ(html_to_text("a<br>b<br/>c"), "a\nb\nc");
    EXPECT_EQ(html_to_text("<a href=\"x>y\">link</a>"), "link");
    EXPECT_EQ(html_to_text("<p>unclosed <b"), "unclosed");
    EXPECT_EQ(html_to_text("x < y"), "x < y");
    EXPECT_EQ(html_to_text("&#0; &#x110000;"), "\xEF\xBF\xBD \xEF\xBF\xBD");
}

TEST(mime_text, snippet) {
    parsed_message m;
    m.parts.emplace_back();
    m.text = "  Hello,\r\n\r\n  this is\tthe   text. ";
    EXPECT_EQ(snippet(m), "Hello, this is the text.");
    EXPECT_EQ(snippet(m, 5), "Hello");
    m.text = "ééééé";
    EXPECT_EQ(snippet(m, 3), "ééé");  // characters, not octets
    m.text = "\r\n";
    m.html = "<div style=\"display:none\">Preview&zwnj;&nbsp;&zwnj;&#847;</div><p>Body</p>";
    EXPECT_EQ(snippet(m), "Preview Body");
    m.html.clear();
    EXPECT_EQ(snippet(m), "");
}

// ---- robustness ---------------------------------------------------------------------------------

void expect_sane(const parsed_message& m, std::string_view raw) {
    ASSERT_FALSE(m.parts.empty());
    EXPECT_TRUE(is_valid_utf8(m.subject));
    EXPECT_TRUE(is_valid_utf8(m.text));
    EXPECT_TRUE(is_valid_utf8(m.html));
    for (const auto* list : {&m.from, &m.to, &m.cc, &m.bcc, &m.reply_to}) {
        for (const mailbox_address& a : *list) {
            EXPECT_TRUE(is_valid_utf8(a.name));
            EXPECT_TRUE(is_valid_utf8(a.address));
        }
    }
    for (const attachment_info& a : m.attachments) {
        EXPECT_TRUE(is_valid_utf8(a.filename));
        EXPECT_LT(a.part, m.parts.size());
    }
    for (const mime_part& p : m.parts) {
        EXPECT_LE(p.body_begin, p.body_end);
        EXPECT_LE(p.body_end, raw.size());
        for (std::size_t c : p.children) EXPECT_LT(c, m.parts.size());
    }
    EXPECT_TRUE(is_valid_utf8(snippet(m)));
}

TEST(mime_parse, every_prefix_of_a_message_parses) {
    for (std::size_t n = 0; n <= nested.size(); ++n) {
        const std::string_view prefix = std::string_view(nested).substr(0, n);
        expect_sane(parse_message(prefix), prefix);
    }
}

TEST(mime_parse, mutated_messages_parse) {
    std::mt19937_64 rng(99);
    const char* const tokens[] = {"\r\n", "\n", "--outer", "--inner--", "=?", "?=", "=", "\"", "(", ";", ":", "<", "\xFF",
                                  "\xC3", "boundary=", "*0*=", "%", "\r\n\r\n", " ", "Content-Type: multipart/mixed; boundary=outer\r\n"};
    for (int round = 0; round < 2000; ++round) {
        std::string msg = nested;
        for (int k = 1 + rng() % 8; k > 0; --k) {
            const std::size_t at = rng() % (msg.size() + 1);
            switch (rng() % 3) {
            case 0: msg.insert(at, tokens[rng() % std::size(tokens)]); break;
            case 1: msg.erase(at, rng() % 20); break;
            default: if (at < msg.size()) msg[at] = static_cast<char>(rng()); break;
            }
        }
        const auto m = parse_message(msg);
        expect_sane(m, msg);
        for (const mime_part& p : m.parts) (void)decode_part(msg, p);
    }
}

TEST(mime_parse, random_bytes_parse) {
    std::mt19937_64 rng(123);
    for (int round = 0; round < 500; ++round) {
        std::string msg;
        for (int n = rng() % 2000; n > 0; --n) msg += static_cast<char>(rng() % 4 == 0 ? "\r\n-:;=\" "[rng() % 8] : rng());
        expect_sane(parse_message(msg), msg);
    }
}

TEST(mime_parse, decode_part_with_other_bytes_stays_in_bounds) {
    const auto m = parse_message(nested);
    EXPECT_EQ(decode_part("short", m.parts.back()), "");
}

}  // namespace
}  // namespace postern::message
