// SPDX-License-Identifier: MIT
#pragma once
/// The delivery scheduler: the in-memory view of the outgoing queue, and the decisions of what to
/// try when (RFC 5321 §4.5.4.1), over how many connections, and what the sender is told (RFC 3461).
/// Sans-I/O (h11 / quinn style): it never reads the clock, opens a socket or touches the spool;
/// time is passed in, and every decision comes back as a value the caller carries out.
///
/// The caller's loop:
///   1. at start, add() every message the spool recovers;
///   2. start each job from next_jobs(now) (one connection per job, the job's messages in order);
///   3. when a job ends, report(job, outcomes, now) and carry out the returned actions in order
///      (enqueue the notices, persist, remove); when the process stops, abandon() running jobs;
///   4. arm one timer for next_wakeup(); on the timer, after report() and after add(), go to 2.
#include "base/expected.hpp"
#include "delivery/dsn_rules.hpp"
#include "delivery/retry_policy.hpp"
#include "delivery/scheduler_errors.hpp"
#include "spool/queue_types.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace postern::delivery {

/// How much runs at once. Plain configuration (app/config.cpp fills it).
struct scheduler_limits {
    /// Connections open at once, all destinations together (Postfix's default_process_limit).
    std::size_t max_connections = 100;
    /// Connections open at once to one destination domain (Postfix's
    /// default_destination_concurrency_limit): a receiver that sees many of ours answers 421.
    std::size_t max_connections_per_domain = 20;
    /// Transactions (messages) carried over one connection before it is closed (Exim's
    /// connection_max_messages is 500): one slow domain must not hold a connection for ever.
    std::size_t max_messages_per_connection = 100;
    /// Recipients in one transaction: RFC 5321 §4.5.3.1.8 makes every server take at least 100.
    /// A message with more recipients in one domain goes as several transactions.
    std::size_t max_recipients_per_transaction = 100;
};

using job_id = std::uint64_t;

/// One SMTP transaction of a job: one message, some of its recipients (indexes into
/// queued_message::recipients, all in the job's domain).
struct job_transaction {
    std::string message_id;
    std::vector<std::size_t> recipients;
    friend bool operator==(const job_transaction&, const job_transaction&) = default;
};

/// One connection's work: deliver these transactions, in order, to `domain` (RFC 5321 §5.1 MX
/// lookup of it), reusing the connection for each (RSET between them).
struct delivery_job {
    job_id id = 0;
    std::string domain;  ///< lower-case; "" for recipients without a domain
    std::vector<job_transaction> transactions;
};

/// What happened to one recipient of a job.
struct rcpt_outcome {
    std::string message_id;
    std::size_t recipient = 0;      ///< index into queued_message::recipients
    /// delivered, transient_failure (4xx, connection or local trouble) or permanent_failure
    /// (5xx, null MX, no such domain ...). "scheduled" is refused (scheduler_errc::bad_outcome).
    spool::delivery_status status = spool::delivery_status::delivered;
    std::string reply;              ///< the remote reply ("451 4.7.1 Try later") or our error text
    std::string remote_host;        ///< "mx1.example.org [192.0.2.1]", "" if none was reached
    /// Transient because no session could be had (connect, greeting, TLS, 421): the destination,
    /// not this recipient, is at fault; if a whole job fails so, the domain backs off.
    bool connection_failure = false;
    /// For status delivered: the next hop accepted our NOTIFY/ORCPT (it offered DSN), so the
    /// duty to notify passes to it (RFC 3461 §5.2.1). false with `final_delivery` false means a
    /// next hop without DSN: a "relayed" notice is owed for NOTIFY=SUCCESS (§5.2.2).
    bool dsn_passed_on = false;
    /// For status delivered: stored in a local mailbox ("delivered" notice, RFC 3461 §5.2.3).
    bool final_delivery = false;
};

/// One notice to send: a DSN (RFC 3464) from the null reverse path to `message.reverse_path`.
struct notice_recipient {
    std::size_t index = 0;   ///< into message.recipients (its last_reply, remote_host, orcpt)
    dsn_action action = dsn_action::failed;
    bool expired = false;    ///< failed because the lifetime ran out: Status 4.4.7 (RFC 3463)
    friend bool operator==(const notice_recipient&, const notice_recipient&) = default;
};
struct notice {
    spool::queued_message message;          ///< the message's state after this report
    std::vector<notice_recipient> recipients;
};

/// What report() asks the caller to do, in this order: a crash between the steps then sends a
/// notice twice rather than never (RFC 3461 asks for a notice; a duplicate does no harm).
struct scheduler_actions {
    std::vector<notice> notices;                  ///< 1. make each a queued message (null reverse path) and add() it
    std::vector<spool::queued_message> persist;   ///< 2. write these states to the spool (still queued)
    std::vector<std::string> remove;              ///< 3. delete these ids from the spool: finished
};

/// One queued message as a listing shows it.
struct queue_view {
    spool::queued_message message;
    std::vector<bool> in_flight;  ///< per recipient: part of a running job
};

class scheduler {
public:
    explicit scheduler(scheduler_limits limits = {}, retry_policy policy = {});

    /// Takes a message into the queue: a newly spooled one, or one recovered at start. Its
    /// recipients that are still scheduled or transient_failure become due at their next_attempt.
    /// Errors: duplicate_id; finished (nothing left to do: remove it from the spool).
    result<void> add(spool::queued_message m);
    /// Drops a message (`postern queue delete`). A running job that carries it may still deliver
    /// it; its outcomes are then ignored. Returns the message, or nullopt if it is not queued.
    std::optional<spool::queued_message> remove(std::string_view id);

    /// Makes every waiting recipient of the message due at `now` (`postern queue retry ID`) and
    /// lifts the back-off of their domains. Recipients in a running job are left alone. Returns
    /// how many became due; their next_attempt changed, but persisting that is optional.
    std::size_t retry_now(std::string_view id, spool::time_point now);
    /// The same for every recipient in one domain (ETRN, RFC 1985; `postern queue retry --domain`).
    std::size_t retry_domain(std::string_view domain, spool::time_point now);
    /// The same for the whole queue (`postern queue retry`).
    std::size_t retry_all(spool::time_point now);

    /// The jobs to start now. Each recipient is in at most one running job; recipients whose
    /// next_attempt is after `now` or whose domain is backing off wait. Domains take turns (the
    /// least recently served first, then the oldest due), one job each per turn, within the
    /// per-domain and global connection limits; within a domain the oldest due goes first.
    std::vector<delivery_job> next_jobs(spool::time_point now);
    /// The earliest time at which next_jobs() could return a job that it cannot return now;
    /// nullopt when only a running job's end can change that (or the queue is empty). May be
    /// <= now when a limit held work back. Arm one timer for it.
    std::optional<spool::time_point> next_wakeup() const;

    /// A job ended. Applies the outcomes: delivered recipients are done for good; a transient
    /// failure counts an attempt and waits retry_policy::next_attempt (never past the lifetime),
    /// or fails as expired once the lifetime is over (RFC 5321 §4.5.4.1); permanent failures are
    /// done. Recipients of the job without an outcome go back unattempted, as with abandon().
    /// When no outcome got a session (all connection failures), the domain backs off, and its
    /// other due recipients are deferred with the same reply as if tried (Postfix's "dead
    /// destination"), so that they expire on time instead of waiting behind the back-off.
    /// Errors (nothing changes, the job keeps running): unknown_job, not_in_job, bad_outcome.
    result<scheduler_actions> report(job_id job, std::span<const rcpt_outcome> outcomes, spool::time_point now);
    /// A job that will never report (the process is stopping, the agent crashed before trying):
    /// its recipients return to the queue with no attempt counted. false if no such job runs.
    bool abandon(job_id job);

    /// The message, or nullptr if it is not queued (valid until the next non-const call).
    const spool::queued_message* find(std::string_view id) const;
    /// Every queued message, oldest arrival first, for `postern queue list`.
    std::vector<queue_view> snapshot() const;
    std::size_t size() const noexcept { return messages_.size(); }
    std::size_t running_jobs() const noexcept { return jobs_.size(); }

private:
    struct entry {
        spool::queued_message message;
        std::uint64_t seq = 0;            // arrival order, breaks ties between equal due times
        std::vector<job_id> in_job;       // per recipient: the running job carrying it, or 0
    };
    // A waiting recipient, ordered by when it is due, then by message arrival.
    struct pending_key {
        spool::time_point due;
        std::uint64_t seq = 0;
        std::size_t rcpt = 0;
        std::string id;
        bool operator<(const pending_key& o) const {
            if (due != o.due) return due < o.due;
            if (seq != o.seq) return seq < o.seq;
            return rcpt < o.rcpt;
        }
    };
    struct domain_state {
        std::set<pending_key> pending;    // waiting recipients, not in a running job
        std::size_t running = 0;          // jobs open to this domain
        std::uint64_t last_served = 0;    // the turn it last got a job; 0: never
        unsigned connection_failures = 0; // whole jobs in a row that got no session
        spool::time_point retry_after{};  // back-off after connection failures (§4.5.4.1)
    };
    struct job_record {
        std::string domain;
        std::vector<std::pair<std::string, std::size_t>> recipients;  // (message id, index)
    };

    static bool waiting(const spool::queued_recipient& r) noexcept;
    pending_key key_of(const entry& e, std::size_t i) const;
    void enqueue(entry& e, std::size_t i);
    void dequeue(entry& e, std::size_t i);
    void forget_domain_if_idle(const std::string& domain);
    bool can_start(const domain_state& d, spool::time_point now) const;
    delivery_job make_job(const std::string& domain, domain_state& d, spool::time_point now);
    std::size_t make_due(entry& e, std::optional<std::string_view> domain, spool::time_point now);
    void release(job_id job, const job_record& rec);
    struct message_notices;
    void apply(entry& e, const rcpt_outcome& o, spool::time_point now, message_notices& out) const;
    result<void> check(const job_record& rec, std::span<const rcpt_outcome> outcomes) const;
    bool note_connection(const std::string& domain, std::span<const rcpt_outcome> outcomes, spool::time_point now);
    std::vector<rcpt_outcome> defer_due(const std::string& domain, const rcpt_outcome& like, spool::time_point now);

    scheduler_limits limits_;
    retry_policy policy_;
    std::unordered_map<std::string, entry> messages_;
    std::map<std::string, domain_state> domains_;
    std::map<job_id, job_record> jobs_;
    std::uint64_t next_seq_ = 1;
    std::uint64_t next_job_ = 1;
    std::uint64_t turn_ = 0;
};

}  // namespace postern::delivery
