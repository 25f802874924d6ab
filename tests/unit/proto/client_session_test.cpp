// SPDX-License-Identifier: MIT
// The sans-I/O SMTP client, driven by scripted server replies: what it writes, when it waits,
// and what it records. No sockets.
#include "message/base64.hpp"
#include "proto/client_session.hpp"
#include "proto/reply_parser.hpp"

#include <gtest/gtest.h>

namespace postern::proto {
namespace {

using namespace std::chrono_literals;

const std::string ehlo_plain = "250-mx.example\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250-8BITMIME\r\n250 DSN\r\n";

struct harness {
    explicit harness(client_config cfg = {}, std::unique_ptr<sasl_client> auth = nullptr) : c(std::move(cfg), std::move(auth)) {
        c.set_tracer([this](bool in, std::string_view l) { trace.push_back((in ? "S: " : "C: ") + std::string(l)); });
    }
    // Runs the client until it waits for something other than a write; returns what it wrote.
    std::string run() {
        std::string wrote;
        while ((last = c.next_action()) == client_action::write) wrote += c.take_output();
        return wrote;
    }
    std::string server(std::string_view replies) {
        c.receive(replies);
        return run();
    }
    std::string start(bool tls = false) {
        c.start(tls);
        return run();
    }
    client_session c;
    client_action last = client_action::read;
    std::vector<std::string> trace;
};

outgoing_message msg(std::vector<std::string> to, bool body = true) {
    outgoing_message m;
    m.reverse_path = "a@b.example";
    for (auto& t : to) m.recipients.push_back({t, {}});
    m.has_body = body;
    return m;
}

client_config no_tls() {
    client_config cfg;
    cfg.helo_name = "client.example";
    cfg.tls = client_tls::none;
    return cfg;
}

TEST(client_session, pipelined_transaction_with_a_refused_recipient_and_dot_stuffing) {
    harness h(no_tls());
    h.c.add(msg({"x@y.example", "bad@y.example"}));
    EXPECT_EQ(h.start(), "");
    EXPECT_EQ(h.last, client_action::read);
    EXPECT_EQ(h.server("220 mx.example ESMTP\r\n"), "EHLO client.example\r\n");
    EXPECT_EQ(h.server(ehlo_plain), "MAIL FROM:<a@b.example>\r\nRCPT TO:<x@y.example>\r\nRCPT TO:<bad@y.example>\r\nDATA\r\n");
    EXPECT_EQ(h.server("250 2.1.0 OK\r\n250 2.1.5 OK\r\n550 5.1.1 No such user\r\n"), "");
    EXPECT_EQ(h.last, client_action::read);
    EXPECT_EQ(h.server("354 go ahead\r\n"), "");
    ASSERT_EQ(h.last, client_action::send_body);
    h.c.body(std::span<const char>(std::string_view(".a\r\nb\n.c\r.d")));
    h.c.end_body();
    EXPECT_EQ(h.run(), "..a\r\nb\n..c\r..d\r\n.\r\n");  // stuffed after any CR or LF; CRLF added before the dot
    EXPECT_EQ(h.server("250 2.0.0 queued as X\r\n"), "QUIT\r\n");
    EXPECT_EQ(h.server("221 bye\r\n"), "");
    EXPECT_EQ(h.last, client_action::done);
    const auto& r = h.c.result();
    ASSERT_EQ(r.transactions.size(), 1u);
    EXPECT_EQ(r.transactions[0].rcpts[1]->code, 550);
    EXPECT_EQ(r.transactions[0].rcpts[1]->esc, (enhanced_code{5, 1, 1}));
    EXPECT_EQ(r.transactions[0].data->code, 250);
    EXPECT_FALSE(r.failure);
    EXPECT_TRUE(r.caps.has("pipelining"));
    EXPECT_EQ(r.caps.size, 1000u);
}

TEST(client_session, helo_fallback_and_one_command_at_a_time) {
    harness h(no_tls());
    h.c.add(msg({"x@y.example"}));
    h.start();
    h.server("220 old.example\r\n");
    EXPECT_EQ(h.server("502 5.5.1 What?\r\n"), "HELO client.example\r\n");
    EXPECT_EQ(h.server("250 old.example\r\n"), "MAIL FROM:<a@b.example>\r\n");
    EXPECT_EQ(h.server("250 OK\r\n"), "RCPT TO:<x@y.example>\r\n");
    EXPECT_EQ(h.server("250 OK\r\n"), "DATA\r\n");
    h.server("354 go\r\n");
    h.c.body(std::span<const char>(std::string_view("line\r\n")));
    h.c.end_body();
    EXPECT_EQ(h.run(), "line\r\n.\r\n");
    EXPECT_EQ(h.server("250 OK\r\n"), "QUIT\r\n");
    EXPECT_FALSE(h.c.result().caps.esmtp);
}

TEST(client_session, opportunistic_starttls_forgets_the_clear_text_capabilities) {
    client_config cfg = no_tls();
    cfg.tls = client_tls::opportunistic;
    harness h(cfg);
    h.c.add(msg({"x@y.example"}, false));
    h.start();
    h.server("220 mx\r\n");
    EXPECT_EQ(h.server("250-mx\r\n250-STARTTLS\r\n250 SIZE 10\r\n"), "STARTTLS\r\n");
    EXPECT_EQ(h.server("220 2.0.0 Ready\r\n"), "");
    EXPECT_EQ(h.last, client_action::start_tls);
    h.c.tls_started();
    EXPECT_EQ(h.run(), "EHLO client.example\r\n");
    EXPECT_FALSE(h.c.result().caps.size);
    EXPECT_EQ(h.server("250-mx\r\n250 PIPELINING\r\n"), "MAIL FROM:<a@b.example>\r\nRCPT TO:<x@y.example>\r\n");
    EXPECT_TRUE(h.c.result().tls);
}

TEST(client_session, required_tls_not_offered_fails_politely) {
    client_config cfg = no_tls();
    cfg.tls = client_tls::required;
    harness h(cfg);
    h.c.add(msg({"x@y.example"}));
    h.start();
    h.server("220 mx\r\n");
    EXPECT_EQ(h.server("250 mx\r\n"), "QUIT\r\n");
    h.server("221 bye\r\n");
    ASSERT_TRUE(h.c.result().failure);
    EXPECT_EQ(*h.c.result().failure, client_failure::tls);
    EXPECT_TRUE(h.c.result().transactions.empty());
}

TEST(client_session, data_after_the_starttls_220_is_an_injection) {
    client_config cfg = no_tls();
    cfg.tls = client_tls::required;
    harness h(cfg);
    h.start();
    h.server("220 mx\r\n");
    h.server("250-mx\r\n250 STARTTLS\r\n");
    h.server("220 Ready\r\n250 injected\r\n");
    EXPECT_EQ(h.last, client_action::failed);
    EXPECT_EQ(*h.c.result().failure, client_failure::protocol);
}

TEST(client_session, auth_plain_is_masked_and_a_refusal_ends_the_session) {
    harness h(no_tls(), make_plain_client("me", "secret"));
    h.c.add(msg({"x@y.example"}));
    h.start(true);  // implicit TLS
    h.server("220 mx\r\n");
    const std::string plain = message::base64_encode(std::string("\0me\0secret", 10));
    EXPECT_EQ(h.server("250-mx\r\n250 AUTH LOGIN PLAIN\r\n"), "AUTH PLAIN " + plain + "\r\n");
    EXPECT_EQ(h.server("535 5.7.8 No\r\n"), "QUIT\r\n");
    h.server("221 bye\r\n");
    EXPECT_EQ(*h.c.result().failure, client_failure::auth);
    EXPECT_EQ(h.c.result().auth->code, 535);
    for (const auto& l : h.trace) EXPECT_EQ(l.find(plain), std::string::npos) << l;
}

TEST(client_session, auth_login_answers_the_challenges) {
    harness h(no_tls(), make_login_client("me", "secret"));
    h.c.add(msg({"x@y.example"}, false));
    h.start(true);
    h.server("220 mx\r\n");
    EXPECT_EQ(h.server("250-mx\r\n250 AUTH PLAIN LOGIN\r\n"), "AUTH LOGIN\r\n");
    EXPECT_EQ(h.server("334 VXNlcm5hbWU6\r\n"), message::base64_encode("me") + "\r\n");
    EXPECT_EQ(h.server("334 UGFzc3dvcmQ6\r\n"), message::base64_encode("secret") + "\r\n");
    EXPECT_EQ(h.server("235 2.7.0 OK\r\n"), "MAIL FROM:<a@b.example>\r\n");
    EXPECT_TRUE(h.c.result().authenticated);
}

TEST(client_session, auth_mechanism_not_offered) {
    harness h(no_tls(), make_plain_client("me", "x"));
    h.start(true);
    h.server("220 mx\r\n");
    EXPECT_EQ(h.server("250 mx\r\n"), "QUIT\r\n");
    EXPECT_EQ(*h.c.result().failure, client_failure::auth);
}

TEST(client_session, every_recipient_refused_pipelined_data_refused_then_rset) {
    harness h(no_tls());
    h.c.add(msg({"x@y.example"}));
    h.c.add(msg({"z@y.example"}, false));
    h.start();
    h.server("220 mx\r\n");
    h.server(ehlo_plain);
    EXPECT_EQ(h.server("250 OK\r\n550 5.1.1 no\r\n554 5.5.1 No valid recipients\r\n"), "RSET\r\n");
    EXPECT_EQ(h.server("250 OK\r\n"), "MAIL FROM:<a@b.example>\r\nRCPT TO:<z@y.example>\r\n");
    EXPECT_EQ(h.server("250 OK\r\n250 OK\r\n"), "RSET\r\n");  // a probe ends with RSET
    EXPECT_EQ(h.server("250 OK\r\n"), "QUIT\r\n");
    const auto& r = h.c.result();
    EXPECT_EQ(r.transactions[0].data->code, 554);
    EXPECT_EQ(r.transactions[1].rcpts[0]->code, 250);
    EXPECT_FALSE(r.transactions[1].data);
}

TEST(client_session, chunking_sends_bdat_and_waits_for_each_reply) {
    harness h(no_tls());
    h.c.add(msg({"x@y.example"}));
    h.start();
    h.server("220 mx\r\n");
    EXPECT_EQ(h.server("250-mx\r\n250-PIPELINING\r\n250 CHUNKING\r\n"), "MAIL FROM:<a@b.example>\r\nRCPT TO:<x@y.example>\r\n");
    h.server("250 OK\r\n250 OK\r\n");
    ASSERT_EQ(h.last, client_action::send_body);
    h.c.body(std::span<const char>(std::string_view(".no stuffing\r\n")));
    EXPECT_EQ(h.run(), "BDAT 14\r\n.no stuffing\r\n");
    EXPECT_EQ(h.last, client_action::read);
    h.server("250 2.0.0 chunk\r\n");
    ASSERT_EQ(h.last, client_action::send_body);
    h.c.end_body();
    EXPECT_EQ(h.run(), "BDAT 0 LAST\r\n");
    EXPECT_EQ(h.server("250 2.0.0 queued\r\n"), "QUIT\r\n");
}

TEST(client_session, over_size_and_missing_extensions_are_refused_before_mail) {
    harness h(no_tls());
    auto big = msg({"x@y.example"});
    big.params.size = 5000;
    auto utf8 = msg({"x@y.example"});
    utf8.params.smtputf8 = true;
    auto injected = msg({"x@y.example>\r\nRCPT TO:<evil@z.example"});
    h.c.add(big);
    h.c.add(utf8);
    h.c.add(injected);
    h.start();
    h.server("220 mx\r\n");
    EXPECT_EQ(h.server(ehlo_plain), "QUIT\r\n");
    const auto& r = h.c.result();
    ASSERT_EQ(r.transactions.size(), 3u);
    for (const auto& t : r.transactions) EXPECT_EQ(t.refused, client_failure::unsupported) << t.refused_why;
}

TEST(client_session, parameters_follow_the_offered_extensions) {
    harness h(no_tls());
    auto m = msg({"x@y.example"});
    m.params.size = 10;
    m.params.body = body_type::eight_bit_mime;
    m.params.ret = dsn_ret::hdrs;
    m.params.envid = "id+2B1";
    m.recipients[0].params.notify = dsn_notify{false, true, true, false};
    m.recipients[0].params.orcpt = "x@y.example";
    h.c.add(m);
    h.start();
    h.server("220 mx\r\n");
    EXPECT_EQ(h.server(ehlo_plain),
              "MAIL FROM:<a@b.example> SIZE=10 BODY=8BITMIME RET=HDRS ENVID=id+2B1\r\n"
              "RCPT TO:<x@y.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;x@y.example\r\nDATA\r\n");
}

TEST(client_session, a_421_ends_the_session_without_quit) {
    harness h(no_tls());
    h.c.add(msg({"x@y.example"}));
    h.start();
    h.server("220 mx\r\n");
    h.server(ehlo_plain);
    EXPECT_EQ(h.server("421 4.3.2 Shutting down\r\n"), "");
    EXPECT_EQ(h.last, client_action::failed);
    EXPECT_EQ(*h.c.result().failure, client_failure::rejected);
    EXPECT_EQ(h.c.result().transactions[0].mail->code, 421);
}

TEST(client_session, greeting_554_and_malformed_replies) {
    harness refused(no_tls());
    refused.start();
    EXPECT_EQ(refused.server("554 5.7.1 Go away\r\n"), "QUIT\r\n");
    EXPECT_EQ(*refused.c.result().failure, client_failure::rejected);

    harness broken(no_tls());
    broken.start();
    broken.server("hello there\r\n");
    EXPECT_EQ(broken.last, client_action::failed);
    EXPECT_EQ(*broken.c.result().failure, client_failure::protocol);
}

TEST(client_session, body_endings_and_timeouts) {
    harness h(no_tls());
    h.c.add(msg({"x@y.example"}));
    h.c.add(msg({"x@y.example"}));
    h.start();
    EXPECT_EQ(h.c.timeout(), 300s);
    h.server("220 mx\r\n");
    h.server(ehlo_plain);
    h.server("250 OK\r\n250 OK\r\n");
    EXPECT_EQ(h.c.timeout(), 120s);  // waiting for the 354
    h.server("354 go\r\n");
    EXPECT_EQ(h.c.timeout(), 180s);
    h.c.body(std::span<const char>(std::string_view("no final newline")));
    h.c.end_body();
    EXPECT_EQ(h.run(), "no final newline\r\n.\r\n");
    EXPECT_EQ(h.c.timeout(), 600s);
    h.server("250 OK\r\n250 OK\r\n250 OK\r\n354 go\r\n");
    h.c.end_body();  // an empty message
    EXPECT_EQ(h.run(), ".\r\n");
}

TEST(client_session, pipelined_probe_waits_for_every_rcpt_reply) {
    harness h(no_tls());
    h.c.add(msg({"x@y.example", "random@y.example"}, false));
    h.start();
    h.server("220 mx\r\n");
    EXPECT_EQ(h.server(ehlo_plain), "MAIL FROM:<a@b.example>\r\nRCPT TO:<x@y.example>\r\nRCPT TO:<random@y.example>\r\n");
    EXPECT_EQ(h.server("250 OK\r\n250 OK\r\n"), "");  // one RCPT reply still to come
    EXPECT_EQ(h.server("550 5.1.1 no\r\n"), "RSET\r\n");
    EXPECT_EQ(h.server("250 OK\r\n"), "QUIT\r\n");
}

TEST(client_session, chunking_with_the_first_recipient_refused) {
    harness h(no_tls());
    h.c.add(msg({"bad@y.example", "good@y.example"}));
    h.start();
    h.server("220 mx\r\n");
    h.server("250-mx\r\n250-PIPELINING\r\n250 CHUNKING\r\n");
    EXPECT_EQ(h.server("250 OK\r\n550 5.1.1 no\r\n"), "");
    EXPECT_EQ(h.last, client_action::read);  // not the body yet
    h.server("250 OK\r\n");
    ASSERT_EQ(h.last, client_action::send_body);
    h.c.body(std::span<const char>(std::string_view("x\r\n")));
    EXPECT_EQ(h.run(), "BDAT 3\r\nx\r\n");
    h.server("250 OK\r\n");
    h.c.end_body();
    EXPECT_EQ(h.run(), "BDAT 0 LAST\r\n");
    EXPECT_EQ(h.server("250 2.0.0 queued\r\n"), "QUIT\r\n");
    EXPECT_EQ(h.c.result().transactions[0].data->code, 250);
}

// A mechanism that has not finished (SCRAM before the server's signature) cannot be "successful".
struct unfinished_client final : sasl_client {
    std::string name() const override { return "SCRAM-SHA-256"; }
    std::optional<std::string> initial_response() override { return std::string("n,,n=u,r=abc"); }
    std::optional<std::string> respond(std::string_view) override { return std::string("c=biws"); }
    bool complete() const override { return false; }
};

TEST(client_session, a_235_before_the_mechanism_is_complete_is_a_failure) {
    harness h(no_tls(), std::make_unique<unfinished_client>());
    h.c.add(msg({"x@y.example"}));
    h.start(true);
    h.server("220 mx\r\n");
    h.server("250-mx\r\n250 AUTH SCRAM-SHA-256\r\n");
    EXPECT_EQ(h.server("235 2.7.0 OK\r\n"), "QUIT\r\n");
    EXPECT_EQ(*h.c.result().failure, client_failure::auth);
    EXPECT_FALSE(h.c.result().authenticated);
}

TEST(client_session, a_421_greeting_is_kept_and_a_hang_up_after_quit_keeps_the_reason) {
    harness h(no_tls());
    h.start();
    h.server("421 4.3.2 busy\r\n");
    ASSERT_TRUE(h.c.result().greeting);
    EXPECT_EQ(h.c.result().greeting->code, 421);
    harness g(no_tls());
    g.start();
    EXPECT_EQ(g.server("554 5.7.1 You are blocked\r\n"), "QUIT\r\n");
    g.c.fail(client_failure::lost, "connection closed by the server");
    EXPECT_EQ(*g.c.result().failure, client_failure::rejected);
    EXPECT_NE(g.c.result().failure_text.find("blocked"), std::string::npos);
}

TEST(client_session, a_2xx_to_data_delivers_nothing) {
    harness h(no_tls());
    h.c.add(msg({"x@y.example"}));
    h.start();
    h.server("220 mx\r\n");
    h.server(ehlo_plain);
    h.server("250 OK\r\n250 OK\r\n250 OK\r\n");
    EXPECT_EQ(h.last, client_action::failed);
    EXPECT_NE(h.c.result().transactions[0].data->code, 250);
}

TEST(reply_parser, multiline_enhanced_codes_and_errors) {
    reply_parser p;
    p.feed(std::string_view("250-first\r\n250-5.1.1 not an esc for 2xx\r\n250 2.1.0 last\r\n550 5.1.1 User\r\n"));
    auto r = p.next();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->lines.size(), 3u);
    EXPECT_EQ(r->lines[1], "5.1.1 not an esc for 2xx");
    r = p.next();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->esc, (enhanced_code{5, 1, 1}));
    EXPECT_EQ(r->lines[0], "User");
    EXPECT_EQ(reply_text(*r), "550 5.1.1 User");
    EXPECT_FALSE(p.next());
    for (const std::string& bad : std::vector<std::string>{"25 x\r\n", "250x\r\n", "650 x\r\n", "250-a\r\n251 b\r\n", std::string(5000, '2') + "\r\n"}) {
        reply_parser q;
        q.feed(std::string_view(bad));
        EXPECT_FALSE(q.next()) << bad;
        EXPECT_TRUE(q.error()) << bad;
    }
    reply_parser split;  // a reply split byte by byte
    for (char c : std::string("220 mx ready\r\n")) {
        EXPECT_FALSE(split.next());
        split.feed(std::string_view(&c, 1));
    }
    EXPECT_TRUE(split.next());
}

}  // namespace
}  // namespace postern::proto
