// SPDX-License-Identifier: MIT
//
// scheduler::report(): the end of a job. The outcomes are checked whole before anything changes
// (a wrong report is the caller's bug, and half-applying it would lose track of recipients), then
// applied per recipient, then the job is released, and the caller is told what to write, what to
// delete and which notices to send. See scheduler.cpp for the model.
#include "delivery/scheduler.hpp"

#include <algorithm>
#include <chrono>
#include <set>
#include <utility>

namespace postern::delivery {

using spool::delivery_status;

/// The notices one message owes after one report, one DSN per kind (RFC 3464 §2 allows several
/// recipients in one DSN; mixing actions in one would delay a failure report behind a success).
struct scheduler::message_notices {
    std::vector<notice_recipient> failed, delayed, succeeded;
};

result<void> scheduler::check(const job_record& rec, std::span<const rcpt_outcome> outcomes) const {
    std::set<std::pair<std::string_view, std::size_t>> carried, seen;
    for (const auto& [id, i] : rec.recipients) carried.emplace(id, i);
    for (const rcpt_outcome& o : outcomes) {
        if (o.status == delivery_status::scheduled) return fail(scheduler_errc::bad_outcome);
        const std::pair<std::string_view, std::size_t> k{o.message_id, o.recipient};
        if (!carried.contains(k)) return fail(scheduler_errc::not_in_job);
        if (!seen.insert(k).second) return fail(scheduler_errc::bad_outcome);
    }
    return {};
}

void scheduler::apply(entry& e, const rcpt_outcome& o, spool::time_point now, message_notices& out) const {
    spool::queued_recipient& r = e.message.recipients[o.recipient];
    const std::string_view from = e.message.reverse_path;
    r.last_reply = o.reply;
    r.remote_host = o.remote_host;
    ++r.attempts;
    switch (o.status) {
        case delivery_status::delivered: {
            r.status = delivery_status::delivered;
            // RFC 3461 §5.2.1: a next hop that took the DSN parameters notifies from now on.
            if (o.dsn_passed_on && !o.final_delivery) break;
            const dsn_action a = o.final_delivery ? dsn_action::delivered : dsn_action::relayed;
            if (wants_notice(from, r, a)) out.succeeded.push_back({o.recipient, a, false});
            break;
        }
        case delivery_status::permanent_failure:
            r.status = delivery_status::permanent_failure;
            if (wants_notice(from, r, dsn_action::failed)) out.failed.push_back({o.recipient, dsn_action::failed, false});
            break;
        case delivery_status::transient_failure:
        case delivery_status::scheduled:  // refused by check()
            if (policy_.expired(e.message.arrival, now)) {
                // RFC 5321 §4.5.4.1: give up after the lifetime; the failure is then permanent.
                r.status = delivery_status::permanent_failure;
                if (wants_notice(from, r, dsn_action::failed))
                    out.failed.push_back({o.recipient, dsn_action::failed, true});
                break;
            }
            r.status = delivery_status::transient_failure;
            // Never later than the end of the lifetime, so the last try falls on it; never at
            // `now` itself, which would retry in a loop if the intervals were configured empty.
            r.next_attempt = std::clamp(policy_.next_attempt(now, r.attempts), now + std::chrono::seconds(1),
                                        std::max(now + std::chrono::seconds(1), e.message.arrival + policy_.lifetime));
            // RFC 3461 §5.2.5: one "delayed" notice per recipient, once it has waited a while.
            if (!r.delay_notified && now - e.message.arrival >= policy_.delay_notice_after &&
                wants_notice(from, r, dsn_action::delayed)) {
                r.delay_notified = true;
                out.delayed.push_back({o.recipient, dsn_action::delayed, false});
            }
            break;
    }
}

bool scheduler::note_connection(const std::string& domain, std::span<const rcpt_outcome> outcomes,
                                spool::time_point now) {
    auto it = domains_.find(domain);
    if (it == domains_.end() || outcomes.empty()) return false;  // an empty report says nothing of the domain
    domain_state& d = it->second;
    const bool no_session = std::all_of(outcomes.begin(), outcomes.end(), [](const rcpt_outcome& o) {
        return o.status == delivery_status::transient_failure && o.connection_failure;
    });
    if (no_session) {
        // RFC 5321 §4.5.4.1: "the SMTP client MUST delay retrying a particular destination after
        // one attempt has failed"; the same schedule as a recipient's, counted per destination.
        ++d.connection_failures;
        d.retry_after = policy_.next_attempt(now, d.connection_failures);
    } else {
        d.connection_failures = 0;
        d.retry_after = {};
    }
    return no_session;
}

std::vector<rcpt_outcome> scheduler::defer_due(const std::string& domain, const rcpt_outcome& like,
                                                spool::time_point now) {
    std::vector<rcpt_outcome> out;
    auto it = domains_.find(domain);
    if (it == domains_.end()) return out;
    for (const pending_key& k : it->second.pending) {
        if (k.due > now) break;
        rcpt_outcome o = like;
        o.message_id = k.id;
        o.recipient = k.rcpt;
        out.push_back(std::move(o));
    }
    return out;
}

result<scheduler_actions> scheduler::report(job_id job, std::span<const rcpt_outcome> outcomes,
                                            spool::time_point now) {
    auto it = jobs_.find(job);
    if (it == jobs_.end()) return fail(scheduler_errc::unknown_job);
    if (auto ok = check(it->second, outcomes); !ok) return fail(ok.error());
    const job_record rec = std::move(it->second);
    jobs_.erase(it);
    const bool destination_down = note_connection(rec.domain, outcomes, now);

    std::vector<std::string> touched;  // message ids in the order of the job
    std::map<std::string, message_notices> owed;
    for (const rcpt_outcome& o : outcomes) {
        auto m = messages_.find(o.message_id);
        if (m == messages_.end() || m->second.in_job[o.recipient] != job) continue;  // removed meanwhile
        if (!owed.contains(o.message_id)) touched.push_back(o.message_id);
        apply(m->second, o, now, owed[o.message_id]);
    }
    release(job, rec);
    if (destination_down) {
        // The recipients that were due behind this job would only wait for the back-off to end;
        // defer them now, so that they count toward their lifetime and expire on time.
        for (const rcpt_outcome& o : defer_due(rec.domain, outcomes.front(), now)) {
            entry& e = messages_.at(o.message_id);
            if (!owed.contains(o.message_id)) touched.push_back(o.message_id);
            dequeue(e, o.recipient);
            apply(e, o, now, owed[o.message_id]);
            enqueue(e, o.recipient);
        }
    }

    scheduler_actions act;
    for (const std::string& id : touched) {
        auto m = messages_.find(id);
        const message_notices& n = owed[id];
        for (const auto* list : {&n.failed, &n.delayed, &n.succeeded})
            if (!list->empty()) act.notices.push_back({m->second.message, *list});
        if (m->second.message.finished()) {
            act.remove.push_back(id);
            remove(id);
        } else {
            act.persist.push_back(m->second.message);
        }
    }
    return act;
}

}  // namespace postern::delivery
