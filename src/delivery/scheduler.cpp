// SPDX-License-Identifier: MIT
//
// Theory of operation.
//
// Every queued message lives in `messages_`. Each of its recipients is in exactly one of three
// places: finished (delivered or permanent_failure: never handed out again, so nothing is sent
// twice after a clean delivery), running (in_job[i] names the job carrying it), or waiting (a key
// in its domain's `pending` set, ordered by next_attempt, then arrival). The keys are derived from
// the recipient's state, so a recipient leaves `pending` (dequeue) before that state changes and
// comes back (enqueue) after.
//
// next_jobs() gives domains turns: the least recently served domain first, then the one whose
// oldest waiting recipient is due first, one job per turn, until the limits stop it. A domain with
// a thousand messages thus gets one connection, then every other domain with due mail gets one,
// before it gets a second (Postfix's round-robin over destinations, OpenSMTPD's per-domain
// queues). A job is one connection: up to max_messages_per_connection transactions, the oldest
// due first, each carrying every due recipient of its message in the domain (up to
// max_recipients_per_transaction).
//
// report() applies outcomes while the recipients are still marked running, then releases the
// job: whatever still waits goes back to `pending` under its new next_attempt. RFC 5321 §4.5.4.1
// asks the client to delay retrying a destination after a failed attempt; a per-recipient
// back-off does that for 4xx replies, and a per-domain back-off (after whole jobs that got no
// session) keeps new mail for a dead destination from reconnecting at once.
#include "delivery/scheduler.hpp"

#include <algorithm>
#include <cassert>
#include <deque>
#include <tuple>
#include <utility>

namespace postern::delivery {

using spool::delivery_status;

scheduler::scheduler(scheduler_limits limits, retry_policy policy) : limits_(limits), policy_(std::move(policy)) {
    // A limit of 0 would never start anything; treat it as the smallest useful one.
    limits_.max_connections = std::max<std::size_t>(1, limits_.max_connections);
    limits_.max_connections_per_domain = std::max<std::size_t>(1, limits_.max_connections_per_domain);
    limits_.max_messages_per_connection = std::max<std::size_t>(1, limits_.max_messages_per_connection);
    limits_.max_recipients_per_transaction = std::max<std::size_t>(1, limits_.max_recipients_per_transaction);
}

bool scheduler::waiting(const spool::queued_recipient& r) noexcept {
    return r.status == delivery_status::scheduled || r.status == delivery_status::transient_failure;
}

scheduler::pending_key scheduler::key_of(const entry& e, std::size_t i) const {
    return {e.message.recipients[i].next_attempt, e.seq, i, e.message.id};
}

void scheduler::enqueue(entry& e, std::size_t i) {
    if (e.in_job[i] != 0 || !waiting(e.message.recipients[i])) return;
    domains_[spool::domain_of(e.message.recipients[i].address)].pending.insert(key_of(e, i));
}

void scheduler::dequeue(entry& e, std::size_t i) {
    auto d = domains_.find(spool::domain_of(e.message.recipients[i].address));
    if (d != domains_.end()) d->second.pending.erase(key_of(e, i));
}

void scheduler::forget_domain_if_idle(const std::string& domain) {
    // The back-off state goes too: it only matters while mail for the domain waits.
    auto d = domains_.find(domain);
    if (d != domains_.end() && d->second.pending.empty() && d->second.running == 0) domains_.erase(d);
}

result<void> scheduler::add(spool::queued_message m) {
    if (messages_.contains(m.id)) return fail(scheduler_errc::duplicate_id);
    if (m.finished()) return fail(scheduler_errc::finished);
    const std::string id = m.id;
    const std::size_t n = m.recipients.size();
    entry& e = messages_.emplace(id, entry{std::move(m), next_seq_++, std::vector<job_id>(n, 0)}).first->second;
    for (std::size_t i = 0; i < n; ++i) enqueue(e, i);
    return {};
}

std::optional<spool::queued_message> scheduler::remove(std::string_view id) {
    auto it = messages_.find(std::string(id));
    if (it == messages_.end()) return std::nullopt;
    entry& e = it->second;
    std::vector<std::string> touched;
    for (std::size_t i = 0; i < e.message.recipients.size(); ++i) {
        dequeue(e, i);
        touched.push_back(spool::domain_of(e.message.recipients[i].address));
    }
    spool::queued_message out = std::move(e.message);
    messages_.erase(it);
    for (const auto& d : touched) forget_domain_if_idle(d);
    return out;
}

std::size_t scheduler::make_due(entry& e, std::optional<std::string_view> domain, spool::time_point now) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < e.message.recipients.size(); ++i) {
        auto& r = e.message.recipients[i];
        if (e.in_job[i] != 0 || !waiting(r)) continue;
        const std::string d = spool::domain_of(r.address);
        if (domain && d != *domain) continue;
        dequeue(e, i);
        r.next_attempt = std::min(r.next_attempt, now);  // an earlier due time keeps its place
        enqueue(e, i);
        // An explicit retry (queue retry, ETRN) overrides the destination's back-off.
        domain_state& ds = domains_[d];
        ds.retry_after = {};
        ds.connection_failures = 0;
        ++n;
    }
    return n;
}

std::size_t scheduler::retry_now(std::string_view id, spool::time_point now) {
    auto it = messages_.find(std::string(id));
    return it == messages_.end() ? 0 : make_due(it->second, std::nullopt, now);
}

std::size_t scheduler::retry_domain(std::string_view domain, spool::time_point now) {
    std::string d(domain);
    std::transform(d.begin(), d.end(), d.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::size_t n = 0;
    for (auto& [id, e] : messages_) n += make_due(e, std::string_view(d), now);
    return n;
}

std::size_t scheduler::retry_all(spool::time_point now) {
    std::size_t n = 0;
    for (auto& [id, e] : messages_) n += make_due(e, std::nullopt, now);
    return n;
}

bool scheduler::can_start(const domain_state& d, spool::time_point now) const {
    return !d.pending.empty() && d.pending.begin()->due <= now && d.running < limits_.max_connections_per_domain &&
           d.retry_after <= now;
}

std::vector<delivery_job> scheduler::next_jobs(spool::time_point now) {
    std::vector<std::string> order;
    for (const auto& [name, d] : domains_)
        if (can_start(d, now)) order.push_back(name);
    std::sort(order.begin(), order.end(), [this](const std::string& a, const std::string& b) {
        const domain_state& da = domains_.at(a);
        const domain_state& db = domains_.at(b);
        return std::tie(da.last_served, da.pending.begin()->due, a) <
               std::tie(db.last_served, db.pending.begin()->due, b);
    });
    std::deque<std::string> turns(order.begin(), order.end());
    std::vector<delivery_job> out;
    while (!turns.empty() && jobs_.size() < limits_.max_connections) {
        std::string name = std::move(turns.front());
        turns.pop_front();
        domain_state& d = domains_.at(name);
        out.push_back(make_job(name, d, now));
        // Served last, so it goes behind every domain still waiting for its turn.
        if (can_start(d, now)) turns.push_back(std::move(name));
    }
    return out;
}

delivery_job scheduler::make_job(const std::string& domain, domain_state& d, spool::time_point now) {
    delivery_job job{next_job_++, domain, {}};
    job_record rec{domain, {}};
    while (job.transactions.size() < limits_.max_messages_per_connection && !d.pending.empty() &&
           d.pending.begin()->due <= now) {
        const std::string id = d.pending.begin()->id;
        entry& e = messages_.at(id);
        // Every due recipient of this message in this domain, the earliest due first (so the
        // head is always taken), up to the per-transaction cap; the rest waits for a later one.
        std::vector<std::pair<spool::time_point, std::size_t>> due;
        for (std::size_t i = 0; i < e.message.recipients.size(); ++i) {
            const auto& r = e.message.recipients[i];
            if (e.in_job[i] == 0 && waiting(r) && r.next_attempt <= now && spool::domain_of(r.address) == domain)
                due.emplace_back(r.next_attempt, i);
        }
        std::sort(due.begin(), due.end());
        if (due.size() > limits_.max_recipients_per_transaction) due.resize(limits_.max_recipients_per_transaction);
        job_transaction tx{id, {}};
        for (const auto& [t, i] : due) tx.recipients.push_back(i);
        std::sort(tx.recipients.begin(), tx.recipients.end());
        for (std::size_t i : tx.recipients) {
            dequeue(e, i);
            e.in_job[i] = job.id;
            rec.recipients.emplace_back(id, i);
        }
        assert(!tx.recipients.empty());  // the head of `pending` is always among them
        job.transactions.push_back(std::move(tx));
    }
    ++d.running;
    d.last_served = ++turn_;
    jobs_.emplace(job.id, std::move(rec));
    return job;
}

std::optional<spool::time_point> scheduler::next_wakeup() const {
    if (jobs_.size() >= limits_.max_connections) return std::nullopt;
    std::optional<spool::time_point> best;
    for (const auto& [name, d] : domains_) {
        if (d.pending.empty() || d.running >= limits_.max_connections_per_domain) continue;
        const spool::time_point t = std::max(d.pending.begin()->due, d.retry_after);
        if (!best || t < *best) best = t;
    }
    return best;
}

void scheduler::release(job_id job, const job_record& rec) {
    for (const auto& [id, i] : rec.recipients) {
        auto it = messages_.find(id);
        if (it == messages_.end() || it->second.in_job[i] != job) continue;  // removed meanwhile
        it->second.in_job[i] = 0;
        enqueue(it->second, i);
    }
    auto d = domains_.find(rec.domain);
    if (d != domains_.end()) {
        --d->second.running;
        forget_domain_if_idle(rec.domain);
    }
}

bool scheduler::abandon(job_id job) {
    auto it = jobs_.find(job);
    if (it == jobs_.end()) return false;
    const job_record rec = std::move(it->second);
    jobs_.erase(it);
    release(job, rec);
    return true;
}

const spool::queued_message* scheduler::find(std::string_view id) const {
    auto it = messages_.find(std::string(id));
    return it == messages_.end() ? nullptr : &it->second.message;
}

std::vector<queue_view> scheduler::snapshot() const {
    std::vector<const entry*> all;
    all.reserve(messages_.size());
    for (const auto& [id, e] : messages_) all.push_back(&e);
    std::sort(all.begin(), all.end(), [](const entry* a, const entry* b) {
        return std::tie(a->message.arrival, a->seq) < std::tie(b->message.arrival, b->seq);
    });
    std::vector<queue_view> out;
    out.reserve(all.size());
    for (const entry* e : all) {
        queue_view v{e->message, {}};
        for (job_id j : e->in_job) v.in_flight.push_back(j != 0);
        out.push_back(std::move(v));
    }
    return out;
}

}  // namespace postern::delivery
