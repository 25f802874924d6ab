// SPDX-License-Identifier: MIT
// The relay policy and the sender-ownership rule, and the per-IP AUTH failure window (time
// passed in, no sleeping).
#include "server/auth_service.hpp"
#include "server/relay_rules.hpp"

#include <gtest/gtest.h>

#include <set>

namespace postern::server {
namespace {

class names_store final : public auth::credential_store {
public:
    explicit names_store(std::set<std::string> n) : names(std::move(n)) {}
    bool empty() const override { return names.empty(); }
    bool exists(std::string_view u) const override { return names.contains(std::string(u)); }
    auth::verify_result verify_password(std::string_view, std::string_view) const override { return auth::verify_result::bad; }
    std::optional<auth::scram_secret> scram_sha256(std::string_view) const override { return std::nullopt; }
    std::optional<std::string> cram_md5_secret(std::string_view) const override { return std::nullopt; }
    auth::store_features features() const override { return {}; }
    std::set<std::string> names;
};

message::path rcpt(const std::string& text) {
    auto p = message::parse_path("<" + text + ">", message::path_kind::forward, true);
    EXPECT_TRUE(p) << text;
    return p->value;
}

TEST(relay_rules, catch_all_accepts_everything) {
    relay_rules r;
    names_store users({"alice@example.org"});
    EXPECT_TRUE(r.catch_all());
    EXPECT_EQ(r.check_recipient(rcpt("anyone@anywhere.example"), false, users), rcpt_verdict::accept);
}

TEST(relay_rules, local_domains_users_and_postmaster) {
    relay_rules r{{"example.org"}, {}};
    names_store users({"alice@example.org", "bob"});
    EXPECT_EQ(r.check_recipient(rcpt("alice@example.org"), false, users), rcpt_verdict::accept);
    EXPECT_EQ(r.check_recipient(rcpt("Alice@EXAMPLE.org"), false, users), rcpt_verdict::accept);
    EXPECT_EQ(r.check_recipient(rcpt("bob@example.org"), false, users), rcpt_verdict::accept);  // a bare user name
    EXPECT_EQ(r.check_recipient(rcpt("carol@example.org"), false, users), rcpt_verdict::unknown_user);
    EXPECT_EQ(r.check_recipient(rcpt("carol@example.org"), true, users), rcpt_verdict::unknown_user);
    EXPECT_EQ(r.check_recipient(rcpt("PostMaster@example.ORG"), false, users), rcpt_verdict::accept);
    EXPECT_EQ(r.check_recipient(rcpt("Postmaster"), false, users), rcpt_verdict::accept);
    EXPECT_EQ(r.check_recipient(rcpt("alice@other.example"), false, users), rcpt_verdict::relay_denied);
    EXPECT_EQ(r.check_recipient(rcpt("postmaster@other.example"), false, users), rcpt_verdict::relay_denied);
    EXPECT_EQ(r.check_recipient(rcpt("x@[192.0.2.1]"), false, users), rcpt_verdict::relay_denied);
    EXPECT_EQ(r.check_recipient(rcpt("alice@other.example"), true, users), rcpt_verdict::accept);
    EXPECT_EQ(r.check_recipient(rcpt("alice@sub.example.org"), false, users), rcpt_verdict::relay_denied);
}

TEST(relay_rules, local_domain_with_no_users_accepts_every_local_part) {
    relay_rules r{{"example.org"}, {}};
    names_store users({});
    EXPECT_EQ(r.check_recipient(rcpt("whoever@example.org"), false, users), rcpt_verdict::accept);
    EXPECT_EQ(r.check_recipient(rcpt("whoever@example.net"), false, users), rcpt_verdict::relay_denied);
}

TEST(relay_rules, ownership_of_sender_addresses) {
    relay_rules r{{"example.org", "example.net"}, {{"alice@example.org", {"sales@example.org", "@alice.example"}}}};
    EXPECT_TRUE(r.owns("alice@example.org", "alice", "example.org", "mx.example.org"));
    EXPECT_TRUE(r.owns("Alice@Example.org", "ALICE", "EXAMPLE.ORG", "mx.example.org"));
    EXPECT_FALSE(r.owns("alice@example.org", "alice", "example.net", "mx.example.org"));  // another domain
    EXPECT_FALSE(r.owns("alice@example.org", "bob", "example.org", "mx.example.org"));
    EXPECT_TRUE(r.owns("alice@example.org", "sales", "example.org", "mx.example.org"));     // an alias
    EXPECT_TRUE(r.owns("alice@example.org", "anything", "alice.example", "mx.example.org"));  // a whole domain
    EXPECT_FALSE(r.owns("bob@example.org", "sales", "example.org", "mx.example.org"));
    // A bare user name owns that local part at every local domain...
    EXPECT_TRUE(r.owns("bob", "bob", "example.net", "mx.example.org"));
    EXPECT_FALSE(r.owns("bob", "bob", "elsewhere.example", "mx.example.org"));
    // ...and at the host name in catch-all mode.
    relay_rules catch_all;
    EXPECT_TRUE(catch_all.owns("bob", "bob", "MX.example.org", "mx.example.org"));
    EXPECT_FALSE(catch_all.owns("bob", "bob", "example.org", "mx.example.org"));
}

// One failed check: admitted, then finished as a failure; returns the count.
std::size_t fail_once(auth_service& svc, const std::string& ip, std::chrono::steady_clock::time_point t) {
    EXPECT_EQ(svc.admit(ip, t), auth_service::admission::ok);
    return svc.finish(ip, true, t);
}

TEST(auth_service, failures_are_counted_per_ip_within_a_window) {
    auth_config cfg;
    cfg.credentials = std::make_shared<names_store>(std::set<std::string>{"alice"});
    cfg.max_failures_per_ip = 3;
    cfg.failure_window = std::chrono::minutes(10);
    cfg.threads = 1;
    auth_service svc(cfg, "mx.example");
    const auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
    EXPECT_FALSE(svc.blocked("192.0.2.1", t0));
    EXPECT_EQ(fail_once(svc, "192.0.2.1", t0), 1u);
    EXPECT_EQ(fail_once(svc, "192.0.2.1", t0 + std::chrono::minutes(1)), 2u);
    EXPECT_EQ(fail_once(svc, "192.0.2.2", t0), 1u);  // another client counts apart
    EXPECT_FALSE(svc.blocked("192.0.2.1", t0 + std::chrono::minutes(2)));
    EXPECT_TRUE(svc.limit_reached(fail_once(svc, "192.0.2.1", t0 + std::chrono::minutes(2))));
    EXPECT_TRUE(svc.blocked("192.0.2.1", t0 + std::chrono::minutes(9)));
    EXPECT_EQ(svc.admit("192.0.2.1", t0 + std::chrono::minutes(9)), auth_service::admission::blocked);
    EXPECT_FALSE(svc.blocked("192.0.2.2", t0 + std::chrono::minutes(9)));
    // The window opened with the first failure: ten minutes on, the client starts afresh.
    EXPECT_FALSE(svc.blocked("192.0.2.1", t0 + std::chrono::minutes(10)));
    EXPECT_EQ(fail_once(svc, "192.0.2.1", t0 + std::chrono::minutes(10)), 1u);
    svc.prune(t0 + std::chrono::minutes(10));
    EXPECT_EQ(svc.tracked_ips(), 1u);  // 192.0.2.2's window has passed
    svc.prune(t0 + std::chrono::minutes(30));
    EXPECT_EQ(svc.tracked_ips(), 0u);
}

TEST(auth_service, checks_under_way_count_against_the_limit) {
    auth_config cfg;
    cfg.credentials = std::make_shared<names_store>(std::set<std::string>{"alice"});
    cfg.max_failures_per_ip = 3;
    cfg.threads = 1;
    auth_service svc(cfg, "mx.example");
    const auto t = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
    EXPECT_EQ(fail_once(svc, "192.0.2.1", t), 1u);
    // Two checks at once (the most one IP may run): with the failure, the budget is spent.
    EXPECT_EQ(svc.admit("192.0.2.1", t), auth_service::admission::ok);
    EXPECT_EQ(svc.admit("192.0.2.1", t), auth_service::admission::ok);
    EXPECT_EQ(svc.admit("192.0.2.1", t), auth_service::admission::blocked);  // not a third guess
    EXPECT_EQ(svc.finish("192.0.2.1", false, t), 1u);  // one of them was right
    EXPECT_EQ(svc.admit("192.0.2.1", t), auth_service::admission::ok);
    EXPECT_EQ(svc.admit("192.0.2.3", t), auth_service::admission::ok);
    EXPECT_EQ(svc.admit("192.0.2.3", t), auth_service::admission::ok);
    EXPECT_EQ(svc.admit("192.0.2.3", t), auth_service::admission::busy);  // two in flight per IP at most
    // IPv6 clients are counted by /64.
    EXPECT_EQ(svc.admit("2001:db8:1:2::1", t), auth_service::admission::ok);
    EXPECT_EQ(svc.admit("2001:db8:1:2::ffff", t), auth_service::admission::ok);
    EXPECT_EQ(svc.admit("2001:db8:1:2:abcd::1", t), auth_service::admission::busy);
    EXPECT_EQ(svc.admit("2001:db8:1:3::1", t), auth_service::admission::ok);
}

TEST(auth_service, no_mechanisms_while_there_are_no_users) {
    auth_config cfg;
    auto users = std::make_shared<names_store>(std::set<std::string>{});
    cfg.credentials = users;
    cfg.threads = 1;
    auth_service svc(cfg, "mx.example");
    EXPECT_TRUE(svc.mechanisms().empty());
    users->names.insert("alice");
    EXPECT_EQ(svc.mechanisms(), (std::vector<std::string>{"PLAIN", "LOGIN"}));
}

}  // namespace
}  // namespace postern::server
