// SPDX-License-Identifier: MIT
// STARTTLS (RFC 3207) and AUTH (RFC 4954) in the protocol core, driven by a small test driver
// that plays the TLS handshake (tls_started) and a PLAIN/LOGIN mechanism with one user.
#include "message/base64.hpp"
#include "proto/replies.hpp"
#include "proto/server_session.hpp"
#include "transcript.hpp"

#include <gtest/gtest.h>

namespace postern::proto::testing {
namespace {

using message::base64_decode;
using message::base64_encode;

session_config tls_config(bool submission = false) {
    session_config cfg = test_config();
    cfg.starttls = true;
    cfg.auth_mechanisms = {"PLAIN", "LOGIN"};
    cfg.auth_required = submission;
    return cfg;
}

struct driver {
    explicit driver(session_config c) : cfg(std::move(c)), s(cfg) {
        s.set_tracer([this](bool in, std::string_view line) { if (in) trace.emplace_back(line); });
        s.greet();
        (void)s.take_output();
    }
    // Sends `input` and returns the replies it produced.
    std::vector<parsed_reply> send(const std::string& input) {
        s.receive(std::string_view(input));
        pump();
        return parse_replies(s.take_output());
    }
    void pump() {
        while (auto ev = s.next_event()) {
            if (auto* st = std::get_if<starttls_event>(&*ev)) {
                discarded += st->discarded;
                if (handshake_ok) s.tls_started();
            } else if (auto* a = std::get_if<auth_event>(&*ev)) {
                if (a->mechanism == "PLAIN" && a->initial_response) check_plain(*a->initial_response);
                else if (a->mechanism == "PLAIN") s.auth_continue("");
                else s.auth_continue("Username:");
            } else if (auto* r = std::get_if<auth_response_event>(&*ev)) {
                if (login_user.empty() && !plain_wait()) {
                    login_user = r->response;
                    s.auth_continue("Password:");
                } else if (plain_wait()) {
                    check_plain(r->response);
                } else {
                    finish(login_user, r->response);
                    login_user.clear();
                }
            } else if (s.awaiting_decision()) {
                s.respond();
            }
        }
    }
    bool plain_wait() const { return trace.size() >= 2 && trace[trace.size() - 2] == "AUTH PLAIN"; }
    void check_plain(const std::string& raw) {
        const auto a = raw.find('\0');
        const auto b = a == std::string::npos ? a : raw.find('\0', a + 1);
        if (b == std::string::npos) return s.respond(replies::auth_bad_base64());
        finish(raw.substr(a + 1, b - a - 1), raw.substr(b + 1));
    }
    void finish(const std::string& user, const std::string& pass) {
        if (user == "me@example.org" && pass == "secret") s.auth_succeeded(user);
        else s.respond(replies::auth_failed());
    }
    session_config cfg;
    server_session s;
    std::vector<std::string> trace;
    std::size_t discarded = 0;
    bool handshake_ok = true;
    std::string login_user;
};

bool has_line(const parsed_reply& r, std::string_view line) {
    return std::find(r.lines.begin(), r.lines.end(), line) != r.lines.end();
}

const std::string plain_ok = base64_encode(std::string("\0me@example.org\0secret", 22));

TEST(base64, round_trip_and_strictness) {
    EXPECT_EQ(base64_encode(""), "");
    EXPECT_EQ(base64_encode("f"), "Zg==");
    EXPECT_EQ(base64_encode("fo"), "Zm8=");
    EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
    EXPECT_EQ(base64_decode("Zm9vYg=="), "foob");
    EXPECT_EQ(base64_decode("Zm9vYmE="), "fooba");
    for (const char* bad : {"Zg", "Zg=", "Z===", "Zh==", "Zm9=", "Zm 9v", "Zm9v\r\n", "Zg==Zg==", "*"})
        EXPECT_FALSE(base64_decode(bad).has_value()) << bad;
}

TEST(starttls, advertised_then_session_reset_and_not_advertised_again) {
    driver d(tls_config());
    auto r = d.send("EHLO c.example\r\n");
    ASSERT_EQ(r.size(), 1u);
    EXPECT_TRUE(has_line(r[0], "STARTTLS"));
    EXPECT_FALSE(has_line(r[0], "AUTH PLAIN LOGIN")) << "AUTH is not offered in clear";
    EXPECT_FALSE(has_line(r[0], "REQUIRETLS"));
    r = d.send("STARTTLS\r\n");
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].code, 220);
    EXPECT_TRUE(d.s.tls_active());
    // RFC 3207 §4.2: the client must EHLO again; MAIL now is out of sequence.
    r = d.send("MAIL FROM:<a@b.example>\r\n");
    EXPECT_EQ(r.at(0).code, 503);
    r = d.send("EHLO c.example\r\n");
    EXPECT_FALSE(has_line(r.at(0), "STARTTLS"));
    EXPECT_TRUE(has_line(r.at(0), "AUTH PLAIN LOGIN"));
    EXPECT_TRUE(has_line(r.at(0), "REQUIRETLS"));
    r = d.send("STARTTLS\r\n");
    EXPECT_EQ(r.at(0).code, 503);
}

TEST(starttls, argument_is_501_and_unavailable_is_454) {
    driver d(tls_config());
    d.send("EHLO c.example\r\n");
    auto r = d.send("STARTTLS now\r\n");
    EXPECT_EQ(r.at(0).code, 501);
    EXPECT_EQ(r.at(0).esc, (enhanced_code{5, 5, 4}));
    driver plain(test_config());
    plain.send("EHLO c.example\r\n");
    r = plain.send("STARTTLS\r\n");
    EXPECT_EQ(r.at(0).code, 454);
    EXPECT_EQ(r.at(0).esc, (enhanced_code{4, 7, 0}));
    EXPECT_FALSE(plain.s.tls_active());
}

// CVE-2011-0411: commands pipelined behind STARTTLS were sent in clear; they must not run.
TEST(starttls, pipelined_input_after_starttls_is_discarded) {
    driver d(tls_config());
    d.send("EHLO c.example\r\n");
    d.handshake_ok = false;  // look at the session between the 220 and the handshake
    auto r = d.send("STARTTLS\r\nMAIL FROM:<evil@x.example>\r\nRCPT TO:<v@y.example>\r\n");
    ASSERT_EQ(r.size(), 1u) << "only the 220 is answered";
    EXPECT_EQ(r[0].code, 220);
    EXPECT_EQ(d.discarded, std::string("MAIL FROM:<evil@x.example>\r\nRCPT TO:<v@y.example>\r\n").size());
    d.s.tls_started();
    r = d.send("EHLO c.example\r\nMAIL FROM:<a@b.example>\r\n");
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[1].code, 250);
    EXPECT_EQ(d.s.current_transaction()->reverse_path.mbox->to_string(), "a@b.example");
}

TEST(auth, before_tls_is_538_and_plain_with_initial_response_succeeds_after) {
    driver d(tls_config());
    d.send("EHLO c.example\r\n");
    auto r = d.send("AUTH LOGIN\r\n");
    EXPECT_EQ(r.at(0).code, 538);
    EXPECT_EQ(r.at(0).esc, (enhanced_code{5, 7, 11}));
    d.send("STARTTLS\r\n");
    d.send("EHLO c.example\r\n");
    r = d.send("AUTH PLAIN " + plain_ok + "\r\n");
    EXPECT_EQ(r.at(0).code, 235);
    EXPECT_EQ(r.at(0).esc, (enhanced_code{2, 7, 0}));
    EXPECT_EQ(d.s.authenticated_user(), "me@example.org");
    r = d.send("AUTH PLAIN " + plain_ok + "\r\n");
    EXPECT_EQ(r.at(0).code, 503) << "a second AUTH";
}

TEST(auth, login_exchange_and_wrong_password) {
    driver d(tls_config());
    d.s.tls_started();
    d.send("EHLO c.example\r\n");
    auto r = d.send("AUTH LOGIN\r\n");
    ASSERT_EQ(r.at(0).code, 334);
    EXPECT_EQ(base64_decode(r[0].lines.at(0)), "Username:");
    r = d.send(base64_encode("me@example.org") + "\r\n");
    ASSERT_EQ(r.at(0).code, 334);
    EXPECT_EQ(base64_decode(r[0].lines.at(0)), "Password:");
    r = d.send(base64_encode("wrong") + "\r\n");
    EXPECT_EQ(r.at(0).code, 535);
    EXPECT_EQ(r.at(0).esc, (enhanced_code{5, 7, 8}));
    EXPECT_FALSE(d.s.authenticated_user().has_value());
    // The payloads never reach the trace.
    for (const auto& line : d.trace) EXPECT_EQ(line.find(base64_encode("wrong")), std::string::npos) << line;
}

TEST(auth, a_421_refusal_closes_the_session) {
    driver d(tls_config());
    d.s.tls_started();
    d.send("EHLO c.example\r\n");
    d.s.receive(std::string_view("AUTH PLAIN " + base64_encode(std::string("\0me@example.org\0wrong", 21)) + "\r\nNOOP\r\n"));
    ASSERT_TRUE(d.s.next_event().has_value());  // the auth_event, held for the driver
    d.s.respond(replies::auth_too_many_failures());
    const auto r = parse_replies(d.s.take_output());
    ASSERT_EQ(r.size(), 1u);  // the pipelined NOOP is never answered
    EXPECT_EQ(r[0].code, 421);
    EXPECT_EQ(r[0].esc, (enhanced_code{4, 7, 0}));
    EXPECT_TRUE(d.s.closing());
}

TEST(auth, an_over_long_response_line_ends_the_exchange_with_500_5_5_6) {
    driver d(tls_config());
    d.s.tls_started();
    d.send("EHLO c.example\r\n");
    ASSERT_EQ(d.send("AUTH LOGIN\r\n").at(0).code, 334);
    auto r = d.send(std::string(13000, 'A') + "\r\n");
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].code, 500);
    EXPECT_EQ(r[0].esc, (enhanced_code{5, 5, 6}));
    EXPECT_EQ(d.send("NOOP\r\n").at(0).code, 250);  // a command again, not the user name
}

TEST(auth, payloads_are_masked_whatever_the_separator) {
    driver d(tls_config());
    d.s.tls_started();
    d.send("EHLO c.example\r\n");
    const std::string secret = base64_encode(std::string("\0me@example.org\0secret", 22));
    d.send("AUTH\tPLAIN " + secret + "\r\n");
    d.send("AUTH PLAIN\t" + secret + "\r\n");
    d.send("auth plain " + secret + "\r\n");
    for (const auto& line : d.trace) EXPECT_EQ(line.find(secret), std::string::npos) << line;
}

TEST(auth, cancel_bad_base64_unknown_mechanism_and_syntax) {
    driver d(tls_config());
    d.s.tls_started();
    d.send("EHLO c.example\r\n");
    EXPECT_EQ(d.send("AUTH LOGIN\r\n").at(0).code, 334);
    auto r = d.send("*\r\n");
    EXPECT_EQ(r.at(0).code, 501) << "RFC 4954 §4: '*' cancels with 501";
    r = d.send("AUTH PLAIN not*base64\r\n");
    EXPECT_EQ(r.at(0).code, 501);
    EXPECT_EQ(r.at(0).esc, (enhanced_code{5, 5, 2}));
    EXPECT_EQ(d.send("AUTH LOGIN\r\n").at(0).code, 334);
    r = d.send("%%%\r\n");
    EXPECT_EQ(r.at(0).esc, (enhanced_code{5, 5, 2}));
    r = d.send("AUTH CRAM-MD5\r\n");
    EXPECT_EQ(r.at(0).code, 504);
    r = d.send("AUTH\r\n");
    EXPECT_EQ(r.at(0).code, 501);
    // After all that the session still works.
    EXPECT_EQ(d.send("AUTH PLAIN " + plain_ok + "\r\n").at(0).code, 235);
}

TEST(auth, needs_ehlo_and_no_open_transaction) {
    driver d(tls_config());
    d.s.tls_started();
    EXPECT_EQ(d.send("AUTH PLAIN " + plain_ok + "\r\n").at(0).code, 503);
    d.send("HELO c.example\r\n");
    EXPECT_EQ(d.send("AUTH PLAIN " + plain_ok + "\r\n").at(0).code, 503) << "AUTH is an ESMTP extension";
    d.send("EHLO c.example\r\nMAIL FROM:<a@b.example>\r\n");
    EXPECT_EQ(d.send("AUTH PLAIN " + plain_ok + "\r\n").at(0).code, 503);
}

TEST(auth, submission_requires_auth_before_mail) {
    driver d(tls_config(true));
    d.s.tls_started();
    d.send("EHLO c.example\r\n");
    auto r = d.send("MAIL FROM:<me@example.org>\r\n");
    EXPECT_EQ(r.at(0).code, 530);
    EXPECT_EQ(r.at(0).esc, (enhanced_code{5, 7, 0}));
    d.send("AUTH PLAIN " + plain_ok + "\r\n");
    r = d.send("MAIL FROM:<me@example.org> AUTH=<> REQUIRETLS\r\n");
    EXPECT_EQ(r.at(0).code, 250);
    EXPECT_TRUE(d.s.current_transaction()->params.requiretls);
}

TEST(auth, long_initial_response_within_12288_octets_is_read) {
    driver d(tls_config());
    d.s.tls_started();
    d.send("EHLO c.example\r\n");
    auto r = d.send("AUTH PLAIN " + base64_encode(std::string("\0me@example.org\0", 16) + std::string(6000, 'x')) + "\r\n");
    EXPECT_EQ(r.at(0).code, 535) << "read whole and judged, not refused as too long";
}

TEST(requiretls, refused_as_unknown_without_tls) {
    driver d(tls_config());
    d.send("EHLO c.example\r\n");
    auto r = d.send("MAIL FROM:<a@b.example> REQUIRETLS\r\n");
    EXPECT_EQ(r.at(0).code, 555);
}

TEST(help, lists_starttls_and_auth_when_offered) {
    driver d(tls_config());
    auto r = d.send("HELP\r\n");
    ASSERT_FALSE(r.empty());
    EXPECT_NE(r[0].lines.at(0).find("STARTTLS"), std::string::npos);
    EXPECT_NE(r[0].lines.at(0).find("AUTH"), std::string::npos);
    r = d.send("HELP AUTH\r\n");
    EXPECT_EQ(r.at(0).code, 214);
}

}  // namespace
}  // namespace postern::proto::testing
