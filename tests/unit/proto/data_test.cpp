// SPDX-License-Identifier: MIT
// DATA decoding, SMTP smuggling and BDAT (RFC 3030).
#include "proto/data_decoder.hpp"
#include "transcript.hpp"

#include "base/log.hpp"

namespace postern::proto::testing {
namespace {

constexpr enhanced_code ok200{2, 0, 0};

// The six inputs that some servers take for the end of data (go-smtp's and aiosmtpd's tables).
const std::vector<std::string> smuggling_inputs{"\n.\n", "\n.\r\n", "\r.\r\n", "\r\n.\n", "\r\n.\r", "\r.\r"};

transcript in_data(session_config cfg = test_config()) {
    transcript t(cfg);
    t.client("EHLO c.example").expect(250)
        .client("MAIL FROM:<a@b.example>").expect(250)
        .client("RCPT TO:<c@d.example>").expect(250)
        .client("DATA").expect(354);
    return t;
}

TEST(data_decoder, smuggling_inputs_never_end_data) {
    for (auto policy : {bare_line_policy::normalize, bare_line_policy::reject}) {
        for (const auto& attack : smuggling_inputs) {
            data_decoder d(policy);
            std::string out;
            const std::string in = "a" + attack + "MAIL FROM:<evil@x>\r\n";
            auto r = d.feed(in, out);
            EXPECT_FALSE(r.done) << log::escape(attack);
            EXPECT_EQ(r.consumed, in.size());
            EXPECT_TRUE(d.saw_bare_line_ending());
        }
    }
}

TEST(data_decoder, ends_only_on_crlf_dot_crlf_fed_byte_by_byte) {
    data_decoder d;
    std::string out;
    const std::string in = "line1\r\n..dot\r\n.\r\nNEXT";
    std::size_t used = 0;
    bool done = false;
    for (std::size_t i = 0; i < in.size() && !done; ++i) {
        auto r = d.feed(std::string_view(in).substr(i, 1), out);
        used += r.consumed;
        done = r.done;
    }
    EXPECT_TRUE(done);
    EXPECT_EQ(used, in.size() - 4);
    EXPECT_EQ(out, "line1\r\n.dot\r\n");
    EXPECT_FALSE(d.saw_bare_line_ending());
}

TEST(data_decoder, normalize_turns_bare_lf_into_crlf_and_keeps_bare_cr) {
    data_decoder d(bare_line_policy::normalize);
    std::string out;
    auto r = d.feed("a\nb\rc\r\n.\r\n", out);
    EXPECT_TRUE(r.done);
    EXPECT_EQ(out, "a\r\nb\rc\r\n");
}

TEST(data_decoder, empty_message_and_discard) {
    data_decoder d;
    std::string out;
    EXPECT_TRUE(d.feed(".\r\n", out).done);
    EXPECT_EQ(out, "");
    d.reset(bare_line_policy::normalize);
    auto r = d.feed("lots of data\r\n.\r\n", out, true);
    EXPECT_TRUE(r.done);
    EXPECT_EQ(out, "");
}

TEST(server_session, smuggling_is_one_message) {
    for (const auto& attack : smuggling_inputs) {
        SCOPED_TRACE(log::escape(attack));
        transcript t = in_data();
        t.raw("a" + attack + "MAIL FROM:<evil@x>\r\n.\r\n").expect(250, ok200);
        const auto& r = t.result();
        ASSERT_EQ(r.messages.size(), 1u);
        EXPECT_NE(r.messages[0].find("MAIL FROM:<evil@x>"), std::string::npos);
    }
}

TEST(server_session, smuggling_is_refused_under_reject) {
    auto cfg = test_config();
    cfg.bare_line_ending = bare_line_policy::reject;
    for (const auto& attack : smuggling_inputs) {
        SCOPED_TRACE(log::escape(attack));
        in_data(cfg)
            .raw("a" + attack + "MAIL FROM:<evil@x>\r\n.\r\n").expect(550, enhanced_code{5, 6, 0})
            .client("NOOP").expect(250)
            .expect_messages({})
            .expect_aborted(1);
    }
}

TEST(server_session, bdat_chunks_make_one_message) {
    transcript t;
    t.client("EHLO c").expect(250)
        .client("MAIL FROM:<a@b.example> BODY=BINARYMIME").expect(250)
        .client("RCPT TO:<c@d.example>").expect(250)
        .raw("BDAT 7\r\nab\r\n.\r\n").expect(250, ok200)
        .raw(std::string("BDAT 3\r\n\0\x01\xff", 11)).expect(250, ok200)
        .raw("BDAT 0 LAST\r\n").expect(250, ok200)
        .client("NOOP").expect(250)
        .expect_messages({std::string("ab\r\n.\r\n\0\x01\xff", 10)});
}

TEST(server_session, bdat_last_in_one_chunk) {
    transcript t;
    t.client("EHLO c").expect(250)
        .client("MAIL FROM:<a@b.example>").expect(250)
        .client("RCPT TO:<c@d.example>").expect(250)
        .raw("BDAT 5 LAST\r\nhello").expect(250)
        .expect_messages({"hello"});
}

TEST(server_session, bdat_errors_consume_the_chunk) {
    transcript t;
    t.client("EHLO c").expect(250)
        .raw("BDAT 4\r\nNOOP").expect(503, enhanced_code{5, 5, 1})
        .client("BDAT x").expect(501, enhanced_code{5, 5, 4})
        .client("MAIL FROM:<a@b.example>").expect(250)
        .client("RCPT TO:<x@refused.example>").expect(550)
        .raw("BDAT 4 LAST\r\nQUIT").expect(554, enhanced_code{5, 5, 1})
        .client("RSET").expect(250)
        .client("NOOP").expect(250);
}

TEST(server_session, bdat_over_size_is_552_then_refused_until_rset) {
    transcript t;
    t.client("EHLO c").expect(250)
        .client("MAIL FROM:<a@b.example>").expect(250)
        .client("RCPT TO:<c@d.example>").expect(250)
        .raw("BDAT 20000\r\n" + std::string(20000, 'z')).expect(552, enhanced_code{5, 3, 4})
        .raw("BDAT 1 LAST\r\nz").expect(503)
        .client("RSET").expect(250)
        .expect_messages({})
        .expect_aborted(1);
}

TEST(server_session, rset_between_chunks_aborts) {
    transcript t;
    t.client("EHLO c").expect(250)
        .client("MAIL FROM:<a@b.example>").expect(250)
        .client("RCPT TO:<c@d.example>").expect(250)
        .raw("BDAT 2\r\nab").expect(250)
        .client("RSET").expect(250)
        .expect_aborted(1)
        .expect_messages({});
}

TEST(server_session, data_after_bdat_and_binarymime_with_data_are_503) {
    transcript t;
    t.client("EHLO c").expect(250)
        .client("MAIL FROM:<a@b.example>").expect(250)
        .client("RCPT TO:<c@d.example>").expect(250)
        .raw("BDAT 2\r\nab").expect(250)
        .client("DATA").expect(503)
        .client("RSET").expect(250)
        .client("MAIL FROM:<a@b.example> BODY=BINARYMIME").expect(250)
        .client("RCPT TO:<c@d.example>").expect(250)
        .client("DATA").expect(503);
}

TEST(server_session, body_events_stay_small_for_a_big_message) {
    auto cfg = test_config();
    cfg.limits.max_message_size = 200u << 20;
    server_session s(cfg);
    s.greet();
    s.receive(std::string_view("EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n"));
    while (auto ev = s.next_event()) s.respond();
    const std::string block(64 * 1024, 'q');
    std::size_t biggest = 0, total = 0;
    for (int i = 0; i < 1600; ++i) {  // 100 MiB in 64 KiB reads
        s.receive(std::string_view(block));
        while (auto ev = s.next_event()) {
            auto* b = std::get_if<body_event>(&*ev);
            ASSERT_NE(b, nullptr);
            biggest = std::max(biggest, b->bytes.size());
            total += b->bytes.size();
        }
    }
    s.receive(std::string_view("\r\n.\r\n"));
    while (auto ev = s.next_event())
        if (std::holds_alternative<message_event>(*ev)) s.respond(replies::queued("X"));
    EXPECT_EQ(total, 1600u * block.size());
    EXPECT_LE(biggest, block.size());
    auto replies = parse_replies(s.take_output());
    EXPECT_EQ(replies.back().code, 250);
}

}  // namespace
}  // namespace postern::proto::testing
