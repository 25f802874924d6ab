// SPDX-License-Identifier: MIT
// A randomized simulation of days of queue running: messages arrive, jobs run for a while and
// end with random outcomes (some domains dead, some flaky, some jobs abandoned or half reported).
// Whatever happens: every recipient ends delivered or failed exactly once, is never delivered
// twice, never rides in two jobs at once, is never handed out before it is due, ends within the
// lifetime plus the largest retry interval, and gets at most the notices NOTIFY asked for.
#include "delivery/scheduler_test_support.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

namespace postern::delivery::test {
namespace {

enum class character { healthy, flaky, greylisting, dead, rejecting };

struct rcpt_track {
    time_point arrival;
    std::string reverse_path;
    std::optional<spool::notify_flags> notify;
    int finals = 0, delivered = 0, failed_notices = 0, delay_notices = 0, success_notices = 0;
    bool failed = false;
    time_point final_at{};
};

struct running_job {
    delivery_job job;
    time_point ends;
};

class simulation {
public:
    explicit simulation(unsigned seed) : rng_(seed), sch_(scheduler_limits{6, 2, 5, 3}, retry_policy{}) {
        const character chars[] = {character::healthy, character::flaky, character::greylisting, character::dead,
                                   character::rejecting, character::flaky};
        for (int d = 0; d < 6; ++d) domains_.emplace_back("d" + std::to_string(d) + ".example", chars[d]);
        for (int m = 0; m < 120; ++m) arrivals_.push_back(t0 + std::chrono::seconds(pick(0, 2 * 24 * 3600)));
        std::sort(arrivals_.begin(), arrivals_.end());
    }

    void run() {
        time_point now = t0;
        for (std::size_t steps = 0; steps < 500'000; ++steps) {
            while (next_arrival_ < arrivals_.size() && arrivals_[next_arrival_] <= now) arrive(arrivals_[next_arrival_++]);
            if (pick(0, 99) == 0 && sch_.size() > 0) sch_.retry_all(now);
            for (auto& j : sch_.next_jobs(now)) start(std::move(j), now);
            std::optional<time_point> next;
            auto consider = [&](time_point t) { if (!next || t < *next) next = t; };
            if (next_arrival_ < arrivals_.size()) consider(arrivals_[next_arrival_]);
            for (const auto& [id, r] : running_) consider(r.ends);
            if (auto w = sch_.next_wakeup(); w && *w > now) consider(*w);
            if (auto w = sch_.next_wakeup(); w && *w <= now) {
                ASSERT_FALSE(running_.empty()) << "work due but nothing runs";
            }
            if (!next) break;
            now = *next;
            finish_jobs(now);
            if (::testing::Test::HasFatalFailure()) return;
        }
        EXPECT_EQ(sch_.size(), 0u);
        EXPECT_TRUE(running_.empty());
    }

    void check_end_state() const {
        // The last try falls due at the lifetime's end at the latest; a destination's back-off can
        // hold it up to the largest interval; then jobs run (up to max_job_time each, and an
        // abandoned or half-reported job is followed by another): a few job times of slack.
        const auto bound = retry_policy{}.lifetime + retry_policy{}.intervals.back() + 10 * max_job_time;
        for (const auto& [key, t] : rcpts_) {
            SCOPED_TRACE(key.first + "/" + std::to_string(key.second));
            EXPECT_EQ(t.finals, 1);
            EXPECT_LE(t.delivered, 1);
            EXPECT_LE(t.final_at - t.arrival, bound);
            EXPECT_LE(t.delay_notices, 1);
            spool::queued_recipient probe;
            probe.notify = t.notify;
            const bool want_bounce = t.failed && wants_notice(t.reverse_path, probe, dsn_action::failed);
            EXPECT_EQ(t.failed_notices, want_bounce ? 1 : 0);
            if (t.reverse_path.empty()) {
                EXPECT_EQ(t.failed_notices + t.delay_notices + t.success_notices, 0);
            }
            if (t.success_notices > 0) {
                EXPECT_EQ(t.delivered, 1);
            }
        }
        EXPECT_GT(rcpts_.size(), 100u);
    }

private:
    static constexpr std::chrono::seconds max_job_time{120};

    int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

    void arrive(time_point at) {
        auto m = make_message("m" + std::to_string(next_id_++), pick(0, 9) == 0 ? "" : "s@src.example", {}, at);
        const int n = pick(1, 4);
        for (int i = 0; i < n; ++i) {
            spool::queued_recipient r;
            r.address = "r" + std::to_string(i) + "@" + domains_[pick(0, 5)].first;
            r.next_attempt = at;
            const int k = pick(0, 4);
            if (k == 1) r.notify = spool::notify_flags{true, false, false, false};
            if (k >= 2) r.notify = spool::notify_flags{false, k == 2, k != 4, k >= 3};
            rcpts_[{m.id, i}] = rcpt_track{at, m.reverse_path, r.notify};
            m.recipients.push_back(std::move(r));
        }
        ASSERT_TRUE(sch_.add(std::move(m)));
    }

    void start(delivery_job j, time_point now) {
        ASSERT_FALSE(j.transactions.empty());
        for (const auto& tx : j.transactions) {
            const spool::queued_message* m = sch_.find(tx.message_id);
            ASSERT_NE(m, nullptr);
            for (std::size_t i : tx.recipients) {
                const auto key = std::make_pair(tx.message_id, i);
                EXPECT_TRUE(in_flight_.insert(key).second) << "a recipient in two jobs";
                EXPECT_EQ(rcpts_.at(key).finals, 0) << "handed out after its end";
                EXPECT_LE(m->recipients[i].next_attempt, now) << "handed out before it was due";
                EXPECT_EQ(spool::domain_of(m->recipients[i].address), j.domain);
            }
        }
        const job_id id = j.id;
        running_.emplace(id, running_job{std::move(j), now + std::chrono::seconds(pick(0, int(max_job_time.count())))});
    }

    delivery_status outcome_for(character c, bool& connection) {
        connection = false;
        switch (c) {
            case character::healthy: return delivery_status::delivered;
            case character::dead: connection = true; return delivery_status::transient_failure;
            case character::rejecting: return pick(0, 3) == 0 ? delivery_status::transient_failure : delivery_status::permanent_failure;
            case character::greylisting: return pick(0, 2) == 0 ? delivery_status::delivered : delivery_status::transient_failure;
            case character::flaky: break;
        }
        const int k = pick(0, 9);
        connection = k == 0;
        return k < 3 ? delivery_status::transient_failure : k < 9 ? delivery_status::delivered : delivery_status::permanent_failure;
    }

    void finish_jobs(time_point now) {
        std::vector<job_id> done;
        for (const auto& [id, r] : running_) if (r.ends <= now) done.push_back(id);
        for (job_id id : done) {
            running_job r = std::move(running_.at(id));
            running_.erase(id);
            for (const auto& tx : r.job.transactions)
                for (std::size_t i : tx.recipients) in_flight_.erase({tx.message_id, i});
            if (pick(0, 49) == 0) {  // the agent stopped: nothing tried
                ASSERT_TRUE(sch_.abandon(id));
                continue;
            }
            finish(r.job, now);
        }
    }

    void finish(const delivery_job& j, time_point now) {
        character c = character::healthy;
        for (const auto& d : domains_) if (d.first == j.domain) c = d.second;
        std::vector<rcpt_outcome> outs;
        for (const auto& tx : j.transactions)
            for (std::size_t i : tx.recipients) {
                if (pick(0, 49) == 0) continue;  // left out of the report: goes back untried
                bool conn = false;
                auto o = outcome(tx.message_id, i, outcome_for(c, conn), "451 4.0.0 x");
                o.connection_failure = conn;
                o.final_delivery = pick(0, 1) == 0;
                outs.push_back(std::move(o));
            }
        auto act = sch_.report(j.id, outs, now);
        ASSERT_TRUE(act);
        for (const auto& n : act->notices)
            for (const auto& nr : n.recipients) {
                rcpt_track& t = rcpts_.at({n.message.id, nr.index});
                if (nr.action == dsn_action::failed) ++t.failed_notices;
                if (nr.action == dsn_action::delayed) ++t.delay_notices;
                if (nr.action == dsn_action::delivered || nr.action == dsn_action::relayed) ++t.success_notices;
            }
        std::set<std::string> touched;
        for (const auto& o : outs) touched.insert(o.message_id);
        for (const auto& m : act->persist) touched.insert(m.id);
        for (const auto& id : act->remove) touched.insert(id);
        std::map<std::pair<std::string, std::size_t>, delivery_status> reported;
        for (const auto& o : outs) reported[{o.message_id, o.recipient}] = o.status;
        for (const auto& id : touched) account(id, reported, now);
    }

    // Every recipient of a message that report() touched (those in the job, and those deferred
    // with a dead destination) is either still waiting, under the rules, or ended exactly now.
    void account(const std::string& id, const std::map<std::pair<std::string, std::size_t>, delivery_status>& reported,
                 time_point now) {
        const spool::queued_message* m = sch_.find(id);
        for (auto it = rcpts_.lower_bound({id, 0}); it != rcpts_.end() && it->first.first == id; ++it) {
            rcpt_track& t = it->second;
            if (t.finals > 0) continue;
            const std::size_t i = it->first.second;
            auto rep = reported.find(it->first);
            if (m && (m->recipients[i].status == delivery_status::scheduled ||
                      m->recipients[i].status == delivery_status::transient_failure)) {
                if (rep != reported.end()) {
                    EXPECT_EQ(rep->second, delivery_status::transient_failure);
                    EXPECT_GT(m->recipients[i].next_attempt, now);
                    EXPECT_LE(m->recipients[i].next_attempt, t.arrival + retry_policy{}.lifetime);
                }
                continue;
            }
            ++t.finals;
            t.final_at = now;
            const bool delivered = m ? m->recipients[i].status == delivery_status::delivered
                                     : rep != reported.end() && rep->second == delivery_status::delivered;
            if (delivered) {
                ++t.delivered;
                EXPECT_TRUE(rep != reported.end() && rep->second == delivery_status::delivered);
            } else {
                t.failed = true;
                // Failed without a permanent reply: given up, so the lifetime is over.
                if (rep == reported.end() || rep->second != delivery_status::permanent_failure) {
                    EXPECT_GE(now - t.arrival, retry_policy{}.lifetime);
                }
            }
        }
    }

    std::mt19937 rng_;
    scheduler sch_;
    std::vector<std::pair<std::string, character>> domains_;
    std::vector<time_point> arrivals_;
    std::size_t next_arrival_ = 0;
    int next_id_ = 0;
    std::map<std::pair<std::string, std::size_t>, rcpt_track> rcpts_;
    std::set<std::pair<std::string, std::size_t>> in_flight_;
    std::map<job_id, running_job> running_;
};

class scheduler_property : public ::testing::TestWithParam<unsigned> {};

TEST_P(scheduler_property, every_recipient_ends_once_within_the_lifetime) {
    simulation sim(GetParam());
    sim.run();
    if (HasFatalFailure()) return;
    sim.check_end_state();
}

INSTANTIATE_TEST_SUITE_P(seeds, scheduler_property, ::testing::Range(1u, 21u));

}  // namespace
}  // namespace postern::delivery::test
