// SPDX-License-Identifier: MIT
// The scheduler's report(): back-off (RFC 5321 §4.5.4.1), giving up, and which notices go out
// (RFC 3461 §4.1, §5.2; never to the null reverse path).
#include "delivery/scheduler_test_support.hpp"

#include <gtest/gtest.h>

namespace postern::delivery::test {
namespace {

spool::notify_flags flags(bool never, bool success, bool failure, bool delay) { return {never, success, failure, delay}; }

/// Starts the one job the queue holds at `now` and reports `s` for each of its recipients.
scheduler_actions run_once(scheduler& sch, time_point now, delivery_status s, bool final_delivery = false,
                           bool dsn_passed_on = false) {
    auto jobs = sch.next_jobs(now);
    EXPECT_EQ(jobs.size(), 1u);
    if (jobs.empty()) return {};
    auto outs = outcomes_for(jobs[0], s);
    for (auto& o : outs) {
        o.final_delivery = final_delivery;
        o.dsn_passed_on = dsn_passed_on;
    }
    auto act = sch.report(jobs[0].id, outs, now);
    EXPECT_TRUE(act);
    return act ? *act : scheduler_actions{};
}

TEST(scheduler_report, backs_off_5_10_20_40_80_then_80_minutes) {
    scheduler s;
    ASSERT_TRUE(s.add(make_message("m1", "a@src.example", {"x@d.example"})));
    const std::vector<std::chrono::minutes> expect{5min, 10min, 20min, 40min, 80min, 80min, 80min};
    time_point now = t0;
    for (std::size_t k = 0; k < expect.size(); ++k) {
        auto act = run_once(s, now, delivery_status::transient_failure);
        ASSERT_EQ(act.persist.size(), 1u);
        const auto& r = act.persist[0].recipients[0];
        EXPECT_EQ(r.status, delivery_status::transient_failure);
        EXPECT_EQ(r.attempts, k + 1);
        EXPECT_EQ(r.next_attempt - now, expect[k]) << "after attempt " << k + 1;
        EXPECT_EQ(r.last_reply, "451 4.3.0 later");
        EXPECT_EQ(r.remote_host, "mx.example [192.0.2.1]");
        EXPECT_TRUE(s.next_jobs(r.next_attempt - 1s).empty());
        EXPECT_EQ(s.next_wakeup(), r.next_attempt);
        now = r.next_attempt;
    }
}

TEST(scheduler_report, gives_up_after_five_days_with_one_bounce) {
    scheduler s;
    ASSERT_TRUE(s.add(make_message("m1", "sender@src.example", {"x@d.example"})));
    time_point now = t0;
    std::size_t bounces = 0, rounds = 0;
    while (s.size() > 0 && rounds++ < 1000) {
        auto act = run_once(s, now, delivery_status::transient_failure);
        for (const auto& n : act.notices) {
            ++bounces;
            ASSERT_EQ(n.recipients.size(), 1u);
            EXPECT_EQ(n.recipients[0].action, dsn_action::failed);
            EXPECT_TRUE(n.recipients[0].expired);
            EXPECT_EQ(n.message.reverse_path, "sender@src.example");
            EXPECT_EQ(n.message.recipients[0].status, delivery_status::permanent_failure);
            EXPECT_EQ(n.message.recipients[0].last_reply, "451 4.3.0 later");
        }
        if (!act.remove.empty()) {
            EXPECT_EQ(act.remove, std::vector<std::string>{"m1"});
            // The last try falls on the end of the lifetime, not up to 80 minutes after it.
            EXPECT_EQ(now, t0 + std::chrono::hours(24 * 5));
            break;
        }
        ASSERT_EQ(act.persist.size(), 1u);
        EXPECT_LE(act.persist[0].recipients[0].next_attempt, t0 + std::chrono::hours(24 * 5));
        now = act.persist[0].recipients[0].next_attempt;
    }
    EXPECT_EQ(bounces, 1u);
    EXPECT_EQ(s.size(), 0u);
}

TEST(scheduler_report, the_lifetime_is_configurable_and_a_late_first_try_still_happens) {
    retry_policy p;
    p.lifetime = 1h;
    scheduler s{{}, p};
    ASSERT_TRUE(s.add(make_message("m1", "a@src.example", {"x@d.example"})));
    auto act = run_once(s, t0 + 58min, delivery_status::transient_failure);
    ASSERT_EQ(act.persist.size(), 1u);
    EXPECT_EQ(act.persist[0].recipients[0].next_attempt, t0 + 1h);  // clamped to the lifetime
    act = run_once(s, t0 + 1h, delivery_status::transient_failure);
    EXPECT_EQ(act.remove, std::vector<std::string>{"m1"});
    ASSERT_EQ(act.notices.size(), 1u);
    // A message recovered long after its lifetime is still tried once before it fails.
    ASSERT_TRUE(s.add(make_message("old", "a@src.example", {"x@d.example"}, t0 - 24h)));
    act = run_once(s, t0, delivery_status::delivered);
    EXPECT_EQ(act.remove, std::vector<std::string>{"old"});
    EXPECT_TRUE(act.notices.empty());
}

TEST(scheduler_report, a_null_reverse_path_never_gets_a_notice) {
    for (auto s_ : {delivery_status::permanent_failure, delivery_status::transient_failure, delivery_status::delivered}) {
        scheduler s;
        auto m = make_message("bounce", "", {"x@d.example"}, t0 - 6 * 24h);  // already past its lifetime
        m.recipients[0].notify = flags(false, true, true, true);
        ASSERT_TRUE(s.add(m));
        auto act = run_once(s, t0, s_, true);
        EXPECT_TRUE(act.notices.empty()) << to_string(s_);
        EXPECT_EQ(act.remove, std::vector<std::string>{"bounce"}) << to_string(s_);
    }
}

TEST(scheduler_report, a_permanent_failure_bounces_all_failed_recipients_in_one_notice) {
    scheduler s;
    ASSERT_TRUE(s.add(make_message("m1", "a@src.example", {"x@d.example", "y@d.example", "z@e.example"})));
    auto jobs = s.next_jobs(t0);
    ASSERT_EQ(jobs.size(), 2u);
    const delivery_job& d = jobs[0].domain == "d.example" ? jobs[0] : jobs[1];
    auto act = s.report(d.id, outcomes_for(d, delivery_status::permanent_failure), t0);
    ASSERT_TRUE(act);
    ASSERT_EQ(act->notices.size(), 1u);
    EXPECT_EQ(act->notices[0].recipients,
              (std::vector<notice_recipient>{{0, dsn_action::failed, false}, {1, dsn_action::failed, false}}));
    EXPECT_EQ(act->notices[0].message.recipients[0].last_reply, "550 5.1.1 no");
    EXPECT_TRUE(act->remove.empty());  // z@e.example is still running
    ASSERT_EQ(act->persist.size(), 1u);
    EXPECT_EQ(act->persist[0].recipients[1].status, delivery_status::permanent_failure);
}

struct notify_case {
    const char* name;
    std::optional<spool::notify_flags> notify;
    bool failed, delayed, success;
};

class notify_rules : public ::testing::TestWithParam<notify_case> {};

TEST_P(notify_rules, asks_for_what_notify_names) {
    const notify_case& c = GetParam();
    spool::queued_recipient r;
    r.notify = c.notify;
    EXPECT_EQ(wants_notice("a@src.example", r, dsn_action::failed), c.failed);
    EXPECT_EQ(wants_notice("a@src.example", r, dsn_action::delayed), c.delayed);
    EXPECT_EQ(wants_notice("a@src.example", r, dsn_action::delivered), c.success);
    EXPECT_EQ(wants_notice("a@src.example", r, dsn_action::relayed), c.success);
    for (auto a : {dsn_action::failed, dsn_action::delayed, dsn_action::delivered, dsn_action::relayed})
        EXPECT_FALSE(wants_notice("", r, a)) << to_string(a);
}

INSTANTIATE_TEST_SUITE_P(
    rfc3461, notify_rules,
    ::testing::Values(notify_case{"none_given_failure_only", std::nullopt, true, false, false},
                      notify_case{"never", flags(true, false, false, false), false, false, false},
                      notify_case{"never_wins_over_a_bad_mix", flags(true, true, true, true), false, false, false},
                      notify_case{"failure", flags(false, false, true, false), true, false, false},
                      notify_case{"delay", flags(false, false, false, true), false, true, false},
                      notify_case{"success", flags(false, true, false, false), false, false, true},
                      notify_case{"success_failure", flags(false, true, true, false), true, false, true},
                      notify_case{"all_three", flags(false, true, true, true), true, true, true},
                      notify_case{"empty_list", flags(false, false, false, false), false, false, false}),
    [](const auto& i) { return std::string(i.param.name); });

struct report_notice_case {
    const char* name;
    std::optional<spool::notify_flags> notify;
    delivery_status status;
    bool final_delivery, dsn_passed_on;
    time_point when;
    std::optional<dsn_action> expect;  // the one notice expected, if any
};

class report_notices : public ::testing::TestWithParam<report_notice_case> {};

TEST_P(report_notices, sends_the_notice_notify_asks_for) {
    const report_notice_case& c = GetParam();
    scheduler s;
    auto m = make_message("m1", "a@src.example", {"x@d.example"});
    m.recipients[0].notify = c.notify;
    ASSERT_TRUE(s.add(m));
    auto act = run_once(s, c.when, c.status, c.final_delivery, c.dsn_passed_on);
    if (!c.expect) {
        EXPECT_TRUE(act.notices.empty());
        return;
    }
    ASSERT_EQ(act.notices.size(), 1u);
    ASSERT_EQ(act.notices[0].recipients.size(), 1u);
    EXPECT_EQ(act.notices[0].recipients[0].action, *c.expect);
}

const auto ok = delivery_status::delivered;
const auto temp = delivery_status::transient_failure;
const auto perm = delivery_status::permanent_failure;
const auto S = flags(false, true, false, false);
const auto F = flags(false, false, true, false);
const auto D = flags(false, false, false, true);
const auto N = flags(true, false, false, false);

INSTANTIATE_TEST_SUITE_P(
    rfc3461, report_notices,
    ::testing::Values(
        report_notice_case{"default_bounces", std::nullopt, perm, false, false, t0, dsn_action::failed},
        report_notice_case{"never_no_bounce", N, perm, false, false, t0, std::nullopt},
        report_notice_case{"success_only_no_bounce", S, perm, false, false, t0, std::nullopt},
        report_notice_case{"failure_bounces", F, perm, false, false, t0, dsn_action::failed},
        report_notice_case{"default_no_delay_notice", std::nullopt, temp, false, false, t0 + 5h, std::nullopt},
        report_notice_case{"delay_too_early", D, temp, false, false, t0 + 3h, std::nullopt},
        report_notice_case{"delay_after_4h", D, temp, false, false, t0 + 4h, dsn_action::delayed},
        report_notice_case{"never_no_delay_notice", N, temp, false, false, t0 + 5h, std::nullopt},
        report_notice_case{"success_in_mailbox", S, ok, true, false, t0, dsn_action::delivered},
        report_notice_case{"success_relayed_without_dsn", S, ok, false, false, t0, dsn_action::relayed},
        report_notice_case{"success_passed_on", S, ok, false, true, t0, std::nullopt},
        report_notice_case{"default_no_success_notice", std::nullopt, ok, true, false, t0, std::nullopt},
        report_notice_case{"failure_only_no_success_notice", F, ok, true, false, t0, std::nullopt}),
    [](const auto& i) { return std::string(i.param.name); });

TEST(scheduler_report, a_delay_notice_goes_out_once_per_recipient) {
    scheduler s;
    auto m = make_message("m1", "a@src.example", {"x@d.example"});
    m.recipients[0].notify = flags(false, false, true, true);
    ASSERT_TRUE(s.add(m));
    std::size_t delays = 0;
    time_point now = t0;
    for (int k = 0; k < 12; ++k) {
        auto act = run_once(s, now, delivery_status::transient_failure);
        delays += act.notices.size();
        ASSERT_EQ(act.persist.size(), 1u);
        EXPECT_EQ(act.persist[0].recipients[0].delay_notified, now - t0 >= 4h);
        now = act.persist[0].recipients[0].next_attempt;
    }
    EXPECT_GT(now - t0, 4h);
    EXPECT_EQ(delays, 1u);
}

}  // namespace
}  // namespace postern::delivery::test
