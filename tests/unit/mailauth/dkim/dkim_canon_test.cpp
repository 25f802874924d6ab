// SPDX-License-Identifier: MIT
// Canonicalization (RFC 6376 §3.4), header collection and h= selection (§5.4.2).
#include "mailauth/dkim_canon.hpp"

#include <gtest/gtest.h>

#include <string>

namespace postern::mailauth {
namespace {

std::string canon_body(dkim_canon c, std::string_view body, std::size_t chunk = 0) {
    body_canonicalizer b(c);
    std::string out;
    const canon_sink sink = [&](std::string_view s) { out.append(s); };
    if (chunk == 0) b.feed(body, sink);
    else
        for (std::size_t i = 0; i < body.size(); i += chunk) b.feed(body.substr(i, chunk), sink);
    b.finish(sink);
    return out;
}

std::vector<header_field> collect(std::string_view text, std::size_t* body_at = nullptr, std::size_t max = 1 << 20) {
    header_collector h(max);
    const std::size_t n = h.feed(text);
    if (body_at) *body_at = n;
    h.finish();
    return h.take_fields();
}

std::string canon_headers(dkim_canon c, std::string_view text) {
    std::string out;
    for (const auto& f : collect(text)) canonicalize_header(c, f, out);
    return out;
}

// RFC 6376 §3.4.6, the example.
TEST(dkim_canon, rfc6376_example_relaxed) {
    EXPECT_EQ(canon_headers(dkim_canon::relaxed, "A: X\r\nB : Y\t\r\n\tZ  \r\n\r\n"), "a:X\r\nb:Y Z\r\n");
    EXPECT_EQ(canon_body(dkim_canon::relaxed, " C \r\nD \t E\r\n\r\n\r\n"), " C\r\nD E\r\n");
}

TEST(dkim_canon, rfc6376_example_simple) {
    EXPECT_EQ(canon_headers(dkim_canon::simple, "A: X\r\nB : Y\t\r\n\tZ  \r\n\r\n"), "A: X\r\nB : Y\t\r\n\tZ  \r\n");
    EXPECT_EQ(canon_body(dkim_canon::simple, " C \r\nD \t E\r\n\r\n\r\n"), " C \r\nD \t E\r\n");
}

TEST(dkim_canon, empty_body) {  // §3.4.3 and §3.4.4 (errata 1384)
    EXPECT_EQ(canon_body(dkim_canon::simple, ""), "\r\n");
    EXPECT_EQ(canon_body(dkim_canon::relaxed, ""), "");
    EXPECT_EQ(canon_body(dkim_canon::simple, "\r\n\r\n"), "\r\n");
    EXPECT_EQ(canon_body(dkim_canon::relaxed, "\r\n \r\n\t\r\n"), "");
}

TEST(dkim_canon, missing_final_crlf_is_added) {
    EXPECT_EQ(canon_body(dkim_canon::simple, "abc"), "abc\r\n");
    EXPECT_EQ(canon_body(dkim_canon::relaxed, "abc  "), "abc\r\n");
}

TEST(dkim_canon, inner_empty_lines_stay) {
    EXPECT_EQ(canon_body(dkim_canon::simple, "a\r\n\r\n\r\nb\r\n\r\n"), "a\r\n\r\n\r\nb\r\n");
    EXPECT_EQ(canon_body(dkim_canon::relaxed, "a\r\n  \r\n\r\nb\r\n \r\n"), "a\r\n\r\n\r\nb\r\n");
}

TEST(dkim_canon, relaxed_keeps_one_space_at_the_start_of_a_line) {
    EXPECT_EQ(canon_body(dkim_canon::relaxed, "\t\t x  y \t\r\n"), " x y\r\n");
}

TEST(dkim_canon, bare_lf_is_a_line_end_and_bare_cr_is_content) {
    EXPECT_EQ(canon_body(dkim_canon::simple, "a\nb\n\n"), "a\r\nb\r\n");
    EXPECT_EQ(canon_body(dkim_canon::simple, "a\rb\r\n"), "a\rb\r\n");
    EXPECT_EQ(canon_body(dkim_canon::simple, "a\r"), "a\r\r\n");
    EXPECT_EQ(canon_body(dkim_canon::relaxed, "a \r\n"), "a\r\n");
}

TEST(dkim_canon, same_output_whatever_the_chunking) {
    const std::string body = "Hi,  \r\n\r\n\tthere \r\n  \r\nbye\nx\r\r\n\r\n \r\n";
    for (auto c : {dkim_canon::simple, dkim_canon::relaxed}) {
        const std::string whole = canon_body(c, body);
        for (std::size_t chunk = 1; chunk < body.size(); ++chunk) EXPECT_EQ(canon_body(c, body, chunk), whole) << chunk;
    }
}

TEST(dkim_canon, held_back_empty_lines_come_out_in_bounded_batches) {
    std::string body(200000, '\n');
    body += "x";
    body_canonicalizer b(dkim_canon::simple);
    std::size_t largest = 0, total = 0;
    const canon_sink sink = [&](std::string_view s) {
        largest = std::max(largest, s.size());
        total += s.size();
    };
    b.feed(body.substr(0, 200000), sink);
    EXPECT_EQ(total, 0u);  // nothing known yet: they may be trailing
    b.feed("x", sink);
    b.finish(sink);
    EXPECT_EQ(total, 400000u + 3u);
    EXPECT_LE(largest, 8192u + 2u);
}

TEST(dkim_headers, collects_fields_with_their_continuations) {
    std::size_t body_at = 0;
    const std::string msg = "From: a@b.example\r\nSubject: one\r\n two\r\nTo : c@d.example\r\n\r\nbody\r\n";
    const auto fields = collect(msg, &body_at);
    ASSERT_EQ(fields.size(), 3u);
    EXPECT_EQ(fields[1].name(), "Subject");
    EXPECT_EQ(fields[1].value(), " one\r\n two");
    EXPECT_EQ(fields[2].name(), "To");
    EXPECT_EQ(msg.substr(body_at), "body\r\n");
}

TEST(dkim_headers, bare_lf_headers_become_crlf) {
    const auto fields = collect("Subject: one\n two\nFrom: x\n\nbody");
    ASSERT_EQ(fields.size(), 2u);
    EXPECT_EQ(fields[0].raw, "Subject: one\r\n two");
}

TEST(dkim_headers, end_of_section_found_across_chunks) {
    header_collector h(1 << 20);
    EXPECT_EQ(h.feed("A: 1\r\n\r"), 7u);
    EXPECT_FALSE(h.done());
    EXPECT_EQ(h.feed("\nbody"), 1u);
    EXPECT_TRUE(h.done());
    EXPECT_EQ(h.feed("more"), 0u);
}

TEST(dkim_headers, malformed_lines_are_not_fields) {
    header_collector h(1 << 20);
    h.feed("From x@y Mon Jan 1\r\n continuation of junk\r\nA: 1\r\n\r\n");
    EXPECT_EQ(h.malformed_lines(), 2u);
    ASSERT_EQ(h.fields().size(), 1u);
    EXPECT_EQ(h.fields()[0].raw, "A: 1");
}

TEST(dkim_headers, limit_keeps_nothing_more_but_counts_signatures) {
    header_collector h(40);
    std::string msg = "Subject: a field of about forty octets\r\n";
    msg += "DKIM-Signature: v=1\r\nX: y\r\ndkim-signature: v=1\r\n\r\nbody";
    const std::size_t n = h.feed(msg);
    EXPECT_TRUE(h.done());
    EXPECT_TRUE(h.too_large());
    EXPECT_EQ(h.dropped_signatures(), 2u);
    EXPECT_EQ(msg.substr(n), "body");
    EXPECT_LE(h.fields().size(), 1u);
}

TEST(dkim_headers, message_without_body_ends_at_finish) {
    header_collector h(1 << 20);
    h.feed("A: 1\r\nB: 2");
    h.finish();
    EXPECT_TRUE(h.done());
    ASSERT_EQ(h.fields().size(), 2u);
    EXPECT_EQ(h.fields()[1].raw, "B: 2");
}

TEST(dkim_select, picks_instances_from_the_bottom_up) {  // §5.4.2
    const auto fields = collect("A: 1\r\nB: 2\r\na: 3\r\n\r\n");
    const auto picked = select_signed_headers(fields, {"a", "A", "a", "b", "c"});
    ASSERT_EQ(picked.size(), 5u);
    EXPECT_EQ(picked[0]->raw, "a: 3");
    EXPECT_EQ(picked[1]->raw, "A: 1");
    EXPECT_EQ(picked[2], nullptr);  // "a null string"
    EXPECT_EQ(picked[3]->raw, "B: 2");
    EXPECT_EQ(picked[4], nullptr);
}

TEST(dkim_select, signed_data_removes_b_value_and_final_crlf) {  // §3.7
    const auto fields = collect("From: x\r\nDKIM-Signature: a=1; b=abc\r\n def; c=2\r\n\r\n");
    const auto& sig = fields[1];
    const std::size_t b = std::string_view(sig.value()).find("b=") + 2;
    const std::size_t e = std::string_view(sig.value()).find(';', b);
    EXPECT_EQ(signed_header_data(dkim_canon::simple, fields, {"from"}, sig, b, e),
              "From: x\r\nDKIM-Signature: a=1; b=; c=2");
    EXPECT_EQ(signed_header_data(dkim_canon::relaxed, fields, {"from"}, sig, b, e),
              "from:x\r\ndkim-signature:a=1; b=; c=2");
}

}  // namespace
}  // namespace postern::mailauth
