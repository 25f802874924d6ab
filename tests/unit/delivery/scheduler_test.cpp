// SPDX-License-Identifier: MIT
// The scheduler's queue and job decisions: batching, limits, fairness, retry_now, abandoned jobs.
#include "delivery/scheduler_test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

namespace postern::delivery::test {
namespace {

scheduler_limits limits(std::size_t global, std::size_t per_domain, std::size_t per_conn = 100, std::size_t per_tx = 100) {
    return {global, per_domain, per_conn, per_tx};
}

TEST(scheduler, add_refuses_duplicates_and_finished_messages) {
    scheduler s;
    ASSERT_TRUE(s.add(make_message("m1", "a@src.example", {"x@d.example"})));
    auto dup = s.add(make_message("m1", "a@src.example", {"y@d.example"}));
    ASSERT_FALSE(dup);
    EXPECT_EQ(dup.error(), scheduler_errc::duplicate_id);
    auto done = make_message("m2", "a@src.example", {"x@d.example"});
    done.recipients[0].status = delivery_status::delivered;
    auto r = s.add(done);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), scheduler_errc::finished);
    EXPECT_EQ(s.size(), 1u);
    ASSERT_NE(s.find("m1"), nullptr);
    EXPECT_EQ(s.find("m1")->recipients[0].address, "x@d.example");
    EXPECT_EQ(s.find("m2"), nullptr);
}

TEST(scheduler, recovered_recipients_keep_their_state) {
    scheduler s;
    auto m = make_message("m1", "a@src.example", {"x@a.example", "y@b.example", "z@c.example"});
    m.recipients[0].status = delivery_status::delivered;
    m.recipients[1].status = delivery_status::transient_failure;
    m.recipients[1].next_attempt = t0 + 10min;
    ASSERT_TRUE(s.add(m));
    auto jobs = s.next_jobs(t0);
    ASSERT_EQ(jobs.size(), 1u);  // the delivered one is never handed out, the deferred one waits
    EXPECT_EQ(jobs[0].domain, "c.example");
    EXPECT_EQ(s.next_wakeup(), t0 + 10min);
}

TEST(scheduler, reuses_one_connection_for_messages_to_one_domain) {
    scheduler s;
    ASSERT_TRUE(s.add(make_message("m1", "a@src.example", {"x@d.example", "y@other.example", "z@D.EXAMPLE"})));
    ASSERT_TRUE(s.add(make_message("m2", "a@src.example", {"w@d.example"}, t0 + 1s)));
    ASSERT_TRUE(s.add(make_message("m3", "a@src.example", {"v@d.example"}, t0 + 2s)));
    auto jobs = s.next_jobs(t0 + 5s);
    ASSERT_EQ(jobs.size(), 2u);
    const delivery_job& d = jobs[0].domain == "d.example" ? jobs[0] : jobs[1];
    ASSERT_EQ(d.transactions.size(), 3u);
    EXPECT_EQ(d.transactions[0], (job_transaction{"m1", {0, 2}}));  // both of m1's in one transaction
    EXPECT_EQ(d.transactions[1], (job_transaction{"m2", {0}}));
    EXPECT_EQ(d.transactions[2], (job_transaction{"m3", {0}}));
    EXPECT_NE(jobs[0].id, jobs[1].id);
}

TEST(scheduler, caps_messages_per_connection_and_recipients_per_transaction) {
    scheduler s{limits(10, 1, 2, 2)};
    ASSERT_TRUE(s.add(make_message("big", "a@src.example", {"1@d.example", "2@d.example", "3@d.example", "4@d.example",
                                                            "5@d.example"})));
    ASSERT_TRUE(s.add(make_message("m2", "a@src.example", {"x@d.example"}, t0 + 1s)));
    auto jobs = s.next_jobs(t0 + 1s);
    ASSERT_EQ(jobs.size(), 1u);  // one connection per domain
    ASSERT_EQ(jobs[0].transactions.size(), 2u);
    EXPECT_EQ(jobs[0].transactions[0], (job_transaction{"big", {0, 1}}));
    EXPECT_EQ(jobs[0].transactions[1], (job_transaction{"big", {2, 3}}));
    ASSERT_TRUE(s.report(jobs[0].id, outcomes_for(jobs[0], delivery_status::delivered), t0 + 2s));
    jobs = s.next_jobs(t0 + 2s);
    ASSERT_EQ(jobs.size(), 1u);
    ASSERT_EQ(jobs[0].transactions.size(), 2u);
    EXPECT_EQ(jobs[0].transactions[0], (job_transaction{"big", {4}}));
    EXPECT_EQ(jobs[0].transactions[1], (job_transaction{"m2", {0}}));
}

struct limit_case {
    const char* name;
    std::size_t domains, messages_per_domain, global, per_domain, per_conn;
    std::size_t expect_jobs;
};

class scheduler_limits_test : public ::testing::TestWithParam<limit_case> {};

TEST_P(scheduler_limits_test, opens_no_more_connections_than_allowed) {
    const limit_case& c = GetParam();
    scheduler s{limits(c.global, c.per_domain, c.per_conn)};
    for (std::size_t d = 0; d < c.domains; ++d)
        for (std::size_t m = 0; m < c.messages_per_domain; ++m)
            ASSERT_TRUE(s.add(make_message("m" + std::to_string(d) + "-" + std::to_string(m), "a@src.example",
                                           {"r@d" + std::to_string(d) + ".example"})));
    auto jobs = s.next_jobs(t0);
    EXPECT_EQ(jobs.size(), c.expect_jobs);
    std::map<std::string, std::size_t> per_domain;
    for (const auto& j : jobs) {
        EXPECT_LE(j.transactions.size(), std::max<std::size_t>(1, c.per_conn));
        EXPECT_LE(++per_domain[j.domain], std::max<std::size_t>(1, c.per_domain));
    }
    EXPECT_EQ(s.running_jobs(), jobs.size());
    EXPECT_TRUE(s.next_jobs(t0).empty());  // nothing more until a job ends
}

INSTANTIATE_TEST_SUITE_P(
    table, scheduler_limits_test,
    ::testing::Values(limit_case{"one_domain_one_connection", 1, 10, 10, 1, 100, 1},
                      limit_case{"per_domain_bound", 1, 10, 10, 3, 2, 3},
                      limit_case{"enough_connections_for_all", 1, 10, 10, 20, 2, 5},
                      limit_case{"global_bound", 5, 10, 4, 3, 100, 4},
                      limit_case{"global_over_per_domain", 3, 10, 100, 2, 3, 6},
                      limit_case{"zero_limits_mean_one", 2, 3, 0, 0, 0, 1}),
    [](const auto& i) { return std::string(i.param.name); });

TEST(scheduler, a_recipient_is_never_in_two_jobs) {
    scheduler s{limits(10, 10, 1)};
    ASSERT_TRUE(s.add(make_message("m1", "a@src.example", {"x@d.example"})));
    ASSERT_TRUE(s.add(make_message("m2", "a@src.example", {"y@d.example"})));
    auto first = s.next_jobs(t0);
    ASSERT_EQ(first.size(), 2u);  // one message per connection, two connections
    EXPECT_TRUE(s.next_jobs(t0 + 1h).empty());
    EXPECT_EQ(s.retry_now("m1", t0 + 1h), 0u);  // running: left alone
    EXPECT_EQ(s.retry_all(t0 + 1h), 0u);
    EXPECT_TRUE(s.next_jobs(t0 + 1h).empty());
    ASSERT_TRUE(s.add(make_message("m3", "a@src.example", {"z@d.example"})));
    auto more = s.next_jobs(t0 + 1h);
    ASSERT_EQ(more.size(), 1u);
    EXPECT_EQ(more[0].transactions[0].message_id, "m3");
    auto view = s.snapshot();
    ASSERT_EQ(view.size(), 3u);
    for (const auto& v : view) EXPECT_EQ(v.in_flight, std::vector<bool>{true});
}

TEST(scheduler, skips_recipients_not_yet_due_and_says_when_to_wake) {
    scheduler s;
    EXPECT_EQ(s.next_wakeup(), std::nullopt);
    ASSERT_TRUE(s.add(make_message("m1", "a@src.example", {"x@d.example"}, t0 + 30s)));
    EXPECT_TRUE(s.next_jobs(t0).empty());
    EXPECT_EQ(s.next_wakeup(), t0 + 30s);
    EXPECT_EQ(s.next_jobs(t0 + 30s).size(), 1u);
    EXPECT_EQ(s.next_wakeup(), std::nullopt);  // only the running job's end changes anything
}

TEST(scheduler, a_domain_with_many_messages_does_not_starve_one_with_one) {
    scheduler s{limits(1, 10, 100)};
    for (int i = 0; i < 1000; ++i)
        ASSERT_TRUE(s.add(make_message("big" + std::to_string(i), "a@src.example", {"r@busy.example"}, t0 + std::chrono::seconds(i))));
    ASSERT_TRUE(s.add(make_message("small", "a@src.example", {"r@quiet.example"}, t0 + 2000s)));
    const time_point now = t0 + 3000s;
    auto j1 = s.next_jobs(now);
    ASSERT_EQ(j1.size(), 1u);
    EXPECT_EQ(j1[0].domain, "busy.example");  // both never served: the oldest due first
    EXPECT_EQ(j1[0].transactions.front().message_id, "big0");
    EXPECT_EQ(j1[0].transactions.size(), 100u);
    ASSERT_TRUE(s.report(j1[0].id, outcomes_for(j1[0], delivery_status::delivered), now));
    auto j2 = s.next_jobs(now);
    ASSERT_EQ(j2.size(), 1u);
    EXPECT_EQ(j2[0].domain, "quiet.example");  // its turn comes before busy's second
}

TEST(scheduler, domains_take_turns_within_one_call) {
    scheduler s{limits(3, 10, 1)};
    for (int i = 0; i < 5; ++i)
        ASSERT_TRUE(s.add(make_message("a" + std::to_string(i), "s@src.example", {"r@a.example"})));
    ASSERT_TRUE(s.add(make_message("b0", "s@src.example", {"r@b.example"}, t0 + 1s)));
    auto jobs = s.next_jobs(t0 + 1s);
    ASSERT_EQ(jobs.size(), 3u);
    EXPECT_EQ(jobs[0].domain, "a.example");
    EXPECT_EQ(jobs[1].domain, "b.example");
    EXPECT_EQ(jobs[2].domain, "a.example");
}

TEST(scheduler, retry_now_makes_waiting_recipients_due) {
    scheduler s;
    ASSERT_TRUE(s.add(make_message("m1", "a@src.example", {"x@a.example", "y@b.example"})));
    ASSERT_TRUE(s.add(make_message("m2", "a@src.example", {"z@b.example"})));
    auto jobs = s.next_jobs(t0);
    ASSERT_EQ(jobs.size(), 2u);
    for (const auto& j : jobs) ASSERT_TRUE(s.report(j.id, outcomes_for(j, delivery_status::transient_failure), t0));
    EXPECT_TRUE(s.next_jobs(t0 + 1min).empty());
    EXPECT_EQ(s.retry_now("nope", t0 + 1min), 0u);
    EXPECT_EQ(s.retry_now("m1", t0 + 1min), 2u);
    EXPECT_EQ(s.find("m1")->recipients[0].next_attempt, t0 + 1min);
    EXPECT_EQ(s.find("m1")->recipients[0].attempts, 1u);  // a retry is not an attempt
    jobs = s.next_jobs(t0 + 1min);
    ASSERT_EQ(jobs.size(), 2u);
    for (const auto& j : jobs) {
        ASSERT_EQ(j.transactions.size(), 1u);
        EXPECT_EQ(j.transactions[0].message_id, "m1");
    }
    for (const auto& j : jobs) ASSERT_TRUE(s.report(j.id, outcomes_for(j, delivery_status::transient_failure), t0 + 1min));
    EXPECT_EQ(s.retry_domain("B.example", t0 + 2min), 2u);  // ETRN: both b.example recipients
    jobs = s.next_jobs(t0 + 2min);
    ASSERT_EQ(jobs.size(), 1u);
    EXPECT_EQ(jobs[0].domain, "b.example");
    EXPECT_EQ(recipients_in(jobs[0]), 2u);
    EXPECT_EQ(s.retry_all(t0 + 2min), 1u);  // x@a.example; b.example's are running
}

TEST(scheduler, an_abandoned_job_returns_its_recipients_without_an_attempt) {
    scheduler s;
    ASSERT_TRUE(s.add(make_message("m1", "a@src.example", {"x@d.example"})));
    auto jobs = s.next_jobs(t0);
    ASSERT_EQ(jobs.size(), 1u);
    EXPECT_TRUE(s.abandon(jobs[0].id));
    EXPECT_FALSE(s.abandon(jobs[0].id));
    auto late = s.report(jobs[0].id, outcomes_for(jobs[0], delivery_status::delivered), t0);
    ASSERT_FALSE(late);
    EXPECT_EQ(late.error(), scheduler_errc::unknown_job);
    EXPECT_EQ(s.find("m1")->recipients[0].attempts, 0u);
    EXPECT_EQ(s.find("m1")->recipients[0].status, delivery_status::scheduled);
    EXPECT_EQ(s.running_jobs(), 0u);
    auto again = s.next_jobs(t0);
    ASSERT_EQ(again.size(), 1u);
    EXPECT_NE(again[0].id, jobs[0].id);
}

TEST(scheduler, recipients_left_out_of_a_report_go_back_unattempted) {
    scheduler s;
    ASSERT_TRUE(s.add(make_message("m1", "a@src.example", {"x@d.example", "y@d.example"})));
    auto jobs = s.next_jobs(t0);
    ASSERT_EQ(jobs.size(), 1u);
    std::vector<rcpt_outcome> one{outcome("m1", 0, delivery_status::delivered, "250 ok")};
    auto act = s.report(jobs[0].id, one, t0 + 1s);
    ASSERT_TRUE(act);
    ASSERT_EQ(act->persist.size(), 1u);
    EXPECT_EQ(act->persist[0].recipients[0].status, delivery_status::delivered);
    EXPECT_EQ(act->persist[0].recipients[1].attempts, 0u);
    jobs = s.next_jobs(t0 + 1s);
    ASSERT_EQ(jobs.size(), 1u);
    EXPECT_EQ(jobs[0].transactions[0], (job_transaction{"m1", {1}}));
}

TEST(scheduler, a_wrong_report_changes_nothing) {
    scheduler s;
    ASSERT_TRUE(s.add(make_message("m1", "a@src.example", {"x@d.example", "y@e.example"})));
    auto jobs = s.next_jobs(t0);
    ASSERT_EQ(jobs.size(), 2u);
    const delivery_job& d = jobs[0].domain == "d.example" ? jobs[0] : jobs[1];
    const std::size_t idx = d.transactions[0].recipients[0];
    const std::size_t other = 1 - idx;
    struct bad_case { std::vector<rcpt_outcome> outcomes; scheduler_errc expect; };
    const std::vector<bad_case> cases{
        {{outcome("m1", other, delivery_status::delivered)}, scheduler_errc::not_in_job},
        {{outcome("zz", 0, delivery_status::delivered)}, scheduler_errc::not_in_job},
        {{outcome("m1", 7, delivery_status::delivered)}, scheduler_errc::not_in_job},
        {{outcome("m1", idx, delivery_status::scheduled)}, scheduler_errc::bad_outcome},
        {{outcome("m1", idx, delivery_status::delivered), outcome("m1", idx, delivery_status::permanent_failure)},
         scheduler_errc::bad_outcome},
    };
    for (const auto& c : cases) {
        auto r = s.report(d.id, c.outcomes, t0);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error(), c.expect);
    }
    EXPECT_EQ(s.find("m1")->recipients[idx].status, delivery_status::scheduled);
    EXPECT_EQ(s.running_jobs(), 2u);
    EXPECT_TRUE(s.report(d.id, outcomes_for(d, delivery_status::delivered), t0));
}

TEST(scheduler, outcomes_for_a_removed_message_are_ignored) {
    scheduler s;
    ASSERT_TRUE(s.add(make_message("m1", "a@src.example", {"x@d.example"})));
    auto jobs = s.next_jobs(t0);
    ASSERT_EQ(jobs.size(), 1u);
    auto gone = s.remove("m1");
    ASSERT_TRUE(gone);
    EXPECT_EQ(gone->id, "m1");
    EXPECT_FALSE(s.remove("m1"));
    auto act = s.report(jobs[0].id, outcomes_for(jobs[0], delivery_status::permanent_failure), t0);
    ASSERT_TRUE(act);
    EXPECT_TRUE(act->notices.empty());
    EXPECT_TRUE(act->persist.empty());
    EXPECT_TRUE(act->remove.empty());
    EXPECT_EQ(s.size(), 0u);
    EXPECT_EQ(s.next_wakeup(), std::nullopt);
}

TEST(scheduler, a_delivered_recipient_is_never_handed_out_again) {
    scheduler s;
    ASSERT_TRUE(s.add(make_message("m1", "a@src.example", {"x@d.example", "y@e.example"})));
    auto jobs = s.next_jobs(t0);
    ASSERT_EQ(jobs.size(), 2u);
    const delivery_job& d = jobs[0].domain == "d.example" ? jobs[0] : jobs[1];
    const delivery_job& e = jobs[0].domain == "d.example" ? jobs[1] : jobs[0];
    auto act = s.report(d.id, outcomes_for(d, delivery_status::delivered), t0);
    ASSERT_TRUE(act);
    EXPECT_TRUE(act->remove.empty());  // y@e.example is still running
    EXPECT_EQ(s.retry_all(t0 + 1s), 0u);
    EXPECT_TRUE(s.next_jobs(t0 + 1s).empty());
    act = s.report(e.id, outcomes_for(e, delivery_status::transient_failure), t0 + 1s);
    ASSERT_TRUE(act);
    EXPECT_EQ(s.retry_all(t0 + 2s), 1u);
    jobs = s.next_jobs(t0 + 2s);
    ASSERT_EQ(jobs.size(), 1u);
    EXPECT_EQ(jobs[0].domain, "e.example");
    act = s.report(jobs[0].id, outcomes_for(jobs[0], delivery_status::delivered), t0 + 3s);
    ASSERT_TRUE(act);
    EXPECT_EQ(act->remove, std::vector<std::string>{"m1"});
    EXPECT_TRUE(act->persist.empty());
    EXPECT_EQ(s.size(), 0u);
}

TEST(scheduler, a_destination_without_a_session_backs_off) {
    scheduler s;
    ASSERT_TRUE(s.add(make_message("m1", "a@src.example", {"x@d.example"})));
    auto jobs = s.next_jobs(t0);
    ASSERT_TRUE(s.report(jobs[0].id, outcomes_for(jobs[0], delivery_status::transient_failure, true), t0));
    // New mail for the dead destination waits for the domain's back-off (RFC 5321 §4.5.4.1).
    ASSERT_TRUE(s.add(make_message("m2", "a@src.example", {"y@d.example"}, t0 + 1min)));
    EXPECT_TRUE(s.next_jobs(t0 + 1min).empty());
    EXPECT_EQ(s.next_wakeup(), t0 + 5min);
    jobs = s.next_jobs(t0 + 5min);
    ASSERT_EQ(jobs.size(), 1u);
    EXPECT_EQ(jobs[0].transactions.size(), 2u);
    ASSERT_TRUE(s.report(jobs[0].id, outcomes_for(jobs[0], delivery_status::transient_failure, true), t0 + 5min));
    ASSERT_TRUE(s.add(make_message("m3", "a@src.example", {"z@d.example"}, t0 + 6min)));
    EXPECT_EQ(s.next_wakeup(), t0 + 15min);  // the second failure in a row: 10 minutes
    EXPECT_EQ(s.retry_domain("d.example", t0 + 6min), 3u);  // ETRN lifts it
    jobs = s.next_jobs(t0 + 6min);
    ASSERT_EQ(jobs.size(), 1u);
    // A reply from the server (even a 4xx) proves a session: the back-off ends.
    ASSERT_TRUE(s.report(jobs[0].id, outcomes_for(jobs[0], delivery_status::transient_failure, false), t0 + 6min));
    ASSERT_TRUE(s.add(make_message("m4", "a@src.example", {"w@d.example"}, t0 + 7min)));
    jobs = s.next_jobs(t0 + 7min);
    ASSERT_EQ(jobs.size(), 1u);
    EXPECT_EQ(jobs[0].transactions[0].message_id, "m4");
}

TEST(scheduler, a_dead_destination_defers_the_mail_due_behind_it) {
    scheduler s{limits(10, 1, 1)};
    ASSERT_TRUE(s.add(make_message("m1", "a@src.example", {"x@d.example"}, t0 - 6 * 24h)));
    ASSERT_TRUE(s.add(make_message("m2", "a@src.example", {"y@d.example"}, t0 - 7 * 24h)));
    ASSERT_TRUE(s.add(make_message("m3", "a@src.example", {"z@d.example"}, t0 + 1h)));  // not due yet
    auto jobs = s.next_jobs(t0);
    ASSERT_EQ(jobs.size(), 1u);  // one connection, one message each
    ASSERT_EQ(jobs[0].transactions[0].message_id, "m2");
    auto act = s.report(jobs[0].id, outcomes_for(jobs[0], delivery_status::transient_failure, true), t0);
    ASSERT_TRUE(act);
    // Both were past their lifetime: m2 was tried, m1 is deferred with the same reply, and fails too.
    EXPECT_EQ(act->remove, (std::vector<std::string>{"m2", "m1"}));
    ASSERT_EQ(act->notices.size(), 2u);
    EXPECT_EQ(act->notices[1].message.recipients[0].last_reply, "451 4.3.0 later");
    EXPECT_EQ(act->notices[1].message.recipients[0].attempts, 1u);
    EXPECT_TRUE(act->notices[1].recipients[0].expired);
    ASSERT_NE(s.find("m3"), nullptr);
    EXPECT_EQ(s.find("m3")->recipients[0].attempts, 0u);
}

TEST(scheduler, snapshot_lists_oldest_first) {
    scheduler s;
    ASSERT_TRUE(s.add(make_message("late", "a@src.example", {"x@d.example"}, t0 + 1h)));
    ASSERT_TRUE(s.add(make_message("early", "a@src.example", {"x@d.example"}, t0)));
    auto v = s.snapshot();
    ASSERT_EQ(v.size(), 2u);
    EXPECT_EQ(v[0].message.id, "early");
    EXPECT_EQ(v[1].message.id, "late");
    EXPECT_EQ(v[0].in_flight, std::vector<bool>{false});
}

}  // namespace
}  // namespace postern::delivery::test
