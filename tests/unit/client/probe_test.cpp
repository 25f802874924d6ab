// SPDX-License-Identifier: MIT
// The probe's verdict from one server's replies (no sockets).
#include "client/probe.hpp"

#include <gtest/gtest.h>

namespace postern::client {
namespace {

proto::reply r(std::uint16_t code, std::optional<proto::enhanced_code> esc = std::nullopt) { return {code, esc, {"text"}}; }

probe_server_report server(std::optional<proto::reply> mail, std::optional<proto::reply> rcpt,
                           std::optional<proto::reply> catch_all = std::nullopt) {
    probe_server_report s;
    s.mail = std::move(mail);
    s.rcpt = std::move(rcpt);
    s.catch_all_rcpt = std::move(catch_all);
    return s;
}

TEST(probe_decide, verdicts) {
    const std::string a = "bob@example.org";
    auto d = decide(server(r(250), r(250), r(550, proto::enhanced_code{5, 1, 1})), a);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->result, verdict::deliverable);
    EXPECT_EQ(d->catch_all, false);
    d = decide(server(r(250), r(250), r(250)), a);
    EXPECT_EQ(d->result, verdict::risky);
    EXPECT_EQ(d->catch_all, true);
    d = decide(server(r(250), r(550, proto::enhanced_code{5, 1, 1}), r(550)), a);
    EXPECT_EQ(d->result, verdict::undeliverable);
    d = decide(server(r(250), r(554, proto::enhanced_code{5, 7, 1})), a);  // a policy refusal says nothing of the mailbox
    EXPECT_EQ(d->result, verdict::unknown);
    d = decide(server(r(550, proto::enhanced_code{5, 7, 1}), std::nullopt), a);
    EXPECT_EQ(d->result, verdict::unknown);
    d = decide(server(r(250), r(250), r(451)), a);  // the catch-all test deferred: unknown, not false
    EXPECT_EQ(d->result, verdict::deliverable);
    EXPECT_FALSE(d->catch_all);
}

TEST(probe_decide, undecided_servers_pass_to_the_next) {
    EXPECT_FALSE(decide(server(r(250), r(451, proto::enhanced_code{4, 7, 1})), "a@b"));  // greylisted
    EXPECT_FALSE(decide(server(r(421), std::nullopt), "a@b"));
    EXPECT_FALSE(decide(server(std::nullopt, std::nullopt), "a@b"));                   // never connected
}

}  // namespace
}  // namespace postern::client
