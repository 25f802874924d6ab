// SPDX-License-Identifier: MIT
#include "transcript.hpp"

namespace postern::proto::testing {
namespace {

constexpr enhanced_code ok200{2, 0, 0}, sender_ok{2, 1, 0}, rcpt_ok{2, 1, 5};
constexpr enhanced_code seq{5, 5, 1}, syntax{5, 5, 4}, unknown{5, 5, 1};

transcript hello() {
    transcript t;
    t.client("EHLO client.example").expect(250);
    return t;
}

TEST(server_session, minimal_transaction_is_stored) {
    hello()
        .client("MAIL FROM:<a@b.example>").expect(250, sender_ok)
        .client("RCPT TO:<c@d.example>").expect(250, rcpt_ok)
        .client("DATA").expect(354)
        .raw("Subject: hi\r\n\r\nbody\r\n.\r\n").expect(250, ok200)
        .client("QUIT").expect(221, ok200)
        .expect_messages({"Subject: hi\r\n\r\nbody\r\n"})
        .expect_closing();
}

TEST(server_session, ehlo_advertises_extensions) {
    transcript t;
    t.client("EHLO c.example").expect(250);
    const auto& r = t.result();
    const auto& lines = r.replies.at(1).lines;
    for (const char* ext : {"PIPELINING", "SIZE 10000", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "CHUNKING",
                            "BINARYMIME", "DSN", "HELP"})
        EXPECT_NE(std::find(lines.begin(), lines.end(), ext), lines.end()) << ext;
    EXPECT_FALSE(r.replies.at(1).esc.has_value()) << "no enhanced code on the EHLO reply (RFC 2034)";
}

TEST(server_session, helo_and_ehlo_need_a_domain) {
    transcript t;
    t.client("HELO").expect(501, syntax).client("EHLO").expect(501, syntax).client("EHLO <bad>").expect(501, syntax)
        .client("HELO relay.example.org").expect(250).client("EHLO [192.0.2.1]").expect(250);
}

TEST(server_session, sequence_errors_are_503) {
    transcript t;
    t.client("MAIL FROM:<a@b.example>").expect(503, seq)
        .client("RCPT TO:<a@b.example>").expect(503, seq)
        .client("DATA").expect(503, seq)
        .client("EHLO c.example").expect(250)
        .client("RCPT TO:<a@b.example>").expect(503, seq)
        .client("DATA").expect(503, seq)
        .client("MAIL FROM:<a@b.example>").expect(250)
        .client("MAIL FROM:<a@b.example>").expect(503, seq)
        .client("DATA").expect(503, seq);
}

TEST(server_session, data_with_every_recipient_refused_is_554) {
    hello()
        .client("MAIL FROM:<a@b.example>").expect(250)
        .client("RCPT TO:<x@refused.example>").expect(550, enhanced_code{5, 1, 1})
        .client("DATA").expect(554, enhanced_code{5, 5, 1});
}

TEST(server_session, unknown_command_and_long_line_are_500) {
    hello()
        .client("FOO bar").expect(500, unknown)
        .client("NOOP " + std::string(600, 'x')).expect(500, enhanced_code{5, 5, 2})
        .client("NOOP").expect(250, ok200);
}

TEST(server_session, a_megabyte_line_keeps_the_session_in_step) {
    hello()
        .raw(std::string(1 << 20, 'A') + "\r\n").expect(500, enhanced_code{5, 5, 2})
        .client("NOOP").expect(250);
}

TEST(server_session, not_implemented_commands_are_502) {
    hello().client("EXPN staff").expect(502, enhanced_code{5, 5, 1}).client("TURN").expect(502);
}

TEST(server_session, bad_addresses) {
    hello()
        .client("MAIL FROM:a@b.example").expect(501, enhanced_code{5, 1, 7})
        .client("MAIL FROM:<a@b.example").expect(501, enhanced_code{5, 1, 7})
        .client("MAIL FROM:<a@b.example>>").expect(501, enhanced_code{5, 1, 7})
        .client("MAIL FROM:<a b@c.example>").expect(553, enhanced_code{5, 1, 7})
        .client("MAIL FROM:<a@b..example>").expect(553, enhanced_code{5, 1, 7})
        .client("MAIL FROM:<@>").expect(553, enhanced_code{5, 1, 7})
        .client("MAIL FROM:<>").expect(250)
        .client("RCPT TO:<>").expect(553, enhanced_code{5, 1, 3})
        .client("RCPT TO:<a@>").expect(553, enhanced_code{5, 1, 3})
        .client("RCPT TO:<Postmaster>").expect(250)
        .client("RCPT TO:<@relay.example:u@d.example>").expect(250)
        .client("RCPT TO:<\"john doe\"@d.example>").expect(250)
        .client("RCPT TO").expect(501, syntax);
}

TEST(server_session, parameters) {
    hello()
        .client("MAIL FROM:<a@b.example> FOO=bar").expect(555, syntax)
        .client("MAIL FROM:<a@b.example> SIZE=abc").expect(501, syntax)
        .client("MAIL FROM:<a@b.example> SIZE=1 SIZE=2").expect(501, syntax)
        .client("MAIL FROM:<a@b.example> SIZE=20000").expect(552, enhanced_code{5, 3, 4})
        .client("MAIL FROM:<a@b.example> BODY=9BIT").expect(501, syntax)
        .client("MAIL FROM:<a@b.example> RET=FULLISH").expect(501, syntax)
        .client("MAIL FROM:<a@b.example> ENVID=a=b").expect(555, syntax)
        .client("MAIL FROM:<a@b.example> AUTH=<>").expect(555, syntax)  // AUTH= only where AUTH is offered
        .client("MAIL FROM:<a@b.example> SIZE=100 BODY=8BITMIME RET=HDRS ENVID=QQ+2B1").expect(250)
        .client("RCPT TO:<c@d.example> NOTIFY=NEVER,SUCCESS").expect(501, syntax)
        .client("RCPT TO:<c@d.example> NOTIFY=SUCCESS,SUCCESS").expect(501, syntax)
        .client("RCPT TO:<c@d.example> ORCPT=rfc822").expect(501, syntax)
        .client("RCPT TO:<c@d.example> XYZ").expect(555, syntax)
        .client("RCPT TO:<c@d.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;c+40d.example").expect(250);
}

TEST(server_session, dsn_parameters_are_kept_with_the_envelope) {
    const auto cfg = test_config();
    server_session s(cfg);
    s.greet();
    s.receive(std::string_view("EHLO c\r\nMAIL FROM:<a@b.example> RET=HDRS ENVID=X1\r\nRCPT TO:<c@d.example> NOTIFY=DELAY ORCPT=rfc822;c@d.example\r\n"));
    while (auto ev = s.next_event()) s.respond();
    const transaction* tx = s.current_transaction();
    ASSERT_NE(tx, nullptr);
    EXPECT_EQ(tx->params.ret, dsn_ret::hdrs);
    EXPECT_EQ(tx->params.envid, "X1");
    ASSERT_EQ(tx->recipients.size(), 1u);
    EXPECT_EQ(tx->recipients[0].params.notify, (dsn_notify{false, false, false, true}));
    EXPECT_EQ(tx->recipients[0].params.orcpt, "c@d.example");
}

TEST(server_session, params_need_ehlo) {
    transcript t;
    t.client("HELO c.example").expect(250).client("MAIL FROM:<a@b.example> SIZE=10").expect(555, syntax);
}

TEST(server_session, smtputf8) {
    hello()
        .client("MAIL FROM:<ü@b.example>").expect(553, enhanced_code{5, 6, 7})
        .client("MAIL FROM:<a@b.example>").expect(250)
        .client("RCPT TO:<用户@例子.广告>").expect(553, enhanced_code{5, 6, 7})
        .client("RSET").expect(250)
        .client("MAIL FROM:<ü@b.example> SMTPUTF8").expect(250)
        .client("RCPT TO:<用户@例子.广告>").expect(250);
}

TEST(server_session, recipient_limit_is_452) {
    auto cfg = test_config();
    cfg.limits.max_recipients = 100;
    transcript t(cfg);
    t.client("EHLO c").expect(250).client("MAIL FROM:<a@b.example>").expect(250);
    for (int i = 0; i < 100; ++i) t.client("RCPT TO:<r" + std::to_string(i) + "@d.example>").expect(250);
    t.client("RCPT TO:<one-more@d.example>").expect(452, enhanced_code{4, 5, 3});
    t.client("DATA").expect(354).raw("x\r\n.\r\n").expect(250);
}

TEST(server_session, rset_and_ehlo_reset_the_transaction) {
    hello()
        .client("MAIL FROM:<a@b.example>").expect(250)
        .client("RSET").expect(250, ok200)
        .client("RCPT TO:<c@d.example>").expect(503, seq)
        .client("MAIL FROM:<a@b.example>").expect(250)
        .client("EHLO again.example").expect(250)
        .client("RCPT TO:<c@d.example>").expect(503, seq)
        .client("MAIL FROM:<a@b.example>").expect(250);
}

TEST(server_session, message_over_size_is_552_and_session_stays_in_step) {
    hello()
        .client("MAIL FROM:<a@b.example>").expect(250)
        .client("RCPT TO:<c@d.example>").expect(250)
        .client("DATA").expect(354)
        .raw(std::string(20000, 'x') + "\r\n.\r\n").expect(552, enhanced_code{5, 3, 4})
        .client("NOOP").expect(250)
        .expect_messages({})
        .expect_aborted(1);
}

TEST(server_session, dot_stuffing_is_removed) {
    hello()
        .client("MAIL FROM:<a@b.example>").expect(250)
        .client("RCPT TO:<c@d.example>").expect(250)
        .client("DATA").expect(354)
        .raw("..leading\r\n.\r\n").expect(250)
        .client("MAIL FROM:<a@b.example>").expect(250)
        .client("RCPT TO:<c@d.example>").expect(250)
        .client("DATA").expect(354)
        .raw(".\r\n").expect(250)
        .expect_messages({".leading\r\n", ""});
}

TEST(server_session, vrfy) {
    hello()
        .client("VRFY").expect(501, syntax)
        .client("VRFY someone@elsewhere.example").expect(252, ok200)
        .client("VRFY <known@local.example>").expect(250, ok200);
}

TEST(server_session, help_lists_and_explains) {
    transcript t;
    t.client("HELP").expect(214, ok200).client("HELP mail").expect(214, ok200).client("HELP FOO").expect(504);
    const auto& r = t.result();
    EXPECT_NE(r.replies.at(1).lines.at(0).find("BDAT"), std::string::npos);
    EXPECT_NE(r.replies.at(1).lines.at(1).find("PIPELINING"), std::string::npos);
    // The 501 for MAIL and HELP MAIL use the same syntax string.
    EXPECT_NE(r.replies.at(2).lines.at(0).find(std::string(syntax_of(verb::mail))), std::string::npos);
}

TEST(server_session, help_shows_only_enabled_commands) {
    auto cfg = test_config();
    cfg.ext.chunking = false;
    transcript t(cfg);
    t.client("HELP").expect(214).client("HELP BDAT").expect(504).client("BDAT 1 LAST").expect(500);
    EXPECT_EQ(t.result().replies.at(1).lines.at(0).find("BDAT"), std::string::npos);
}

TEST(server_session, too_many_errors_closes_with_421) {
    auto cfg = test_config();
    cfg.limits.max_errors = 3;
    transcript t(cfg);
    t.client("X1").expect(500).client("X2").expect(500).client("X3").expect(500).expect(421, enhanced_code{4, 7, 0})
        .client("NOOP")
        .expect_closing();
}

TEST(server_session, policy_refusals) {
    fake_policy p;
    p.refuse_data = true;
    hello()
        .with_policy(p)
        .client("MAIL FROM:<x@blocked.example>").expect(550, enhanced_code{5, 7, 1})
        .client("MAIL FROM:<x@ok.example>").expect(250)
        .client("RCPT TO:<c@d.example>").expect(250)
        .client("DATA").expect(451, enhanced_code{4, 3, 0})
        .client("RSET").expect(250);
}

TEST(server_session, quit_with_argument_is_501) {
    hello().client("QUIT now").expect(501, syntax).client("QUIT").expect(221).expect_closing();
}

TEST(server_session, input_after_quit_is_ignored) {
    hello().client("QUIT").expect(221).client("NOOP").expect_closing();
}

TEST(server_session, nul_in_command_is_refused) {
    hello().raw(std::string("NO\0OP\r\n", 7)).expect(500, enhanced_code{5, 5, 2}).client("NOOP").expect(250);
}

TEST(server_session, timeout_and_shutdown_send_421) {
    const auto cfg = test_config();
    server_session s(cfg);
    s.greet();
    s.timeout();
    auto r = parse_replies(s.take_output());
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[1].code, 421);
    EXPECT_EQ(*r[1].esc, (enhanced_code{4, 4, 2}));
    EXPECT_TRUE(s.closing());

    server_session s2(cfg);
    s2.greet();
    s2.shutdown();
    r = parse_replies(s2.take_output());
    EXPECT_EQ(*r.at(1).esc, (enhanced_code{4, 3, 2}));
}

TEST(server_session, connection_lost_mid_data_aborts_the_message) {
    const auto cfg = test_config();
    server_session s(cfg);
    s.greet();
    s.receive(std::string_view("EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\npartial"));
    int bodies = 0;
    while (auto ev = s.next_event()) {
        if (std::holds_alternative<body_event>(*ev)) ++bodies;
        else s.respond();
    }
    EXPECT_EQ(bodies, 1);
    s.connection_lost();
    auto ev = s.next_event();
    ASSERT_TRUE(ev.has_value());
    EXPECT_TRUE(std::holds_alternative<message_aborted_event>(*ev));
    EXPECT_FALSE(s.next_event().has_value());
}

TEST(server_session, no_enhanced_codes_when_disabled) {
    auto cfg = test_config();
    cfg.ext.enhanced_status_codes = false;
    transcript t(cfg);
    t.client("NOOP").expect(250);
    EXPECT_FALSE(t.result().replies.at(1).esc.has_value());
}

}  // namespace
}  // namespace postern::proto::testing
