// SPDX-License-Identifier: MIT
#pragma once
// Builders shared by the scheduler tests: messages, outcomes, and a fake clock (plain time_points).
#include "delivery/scheduler.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace postern::delivery::test {

using namespace std::chrono_literals;
using spool::delivery_status;
using spool::time_point;

inline const time_point t0{std::chrono::seconds(1'795'000'000)};

inline spool::queued_message make_message(std::string id, std::string from, std::vector<std::string> rcpts,
                                          time_point arrival = t0) {
    spool::queued_message m;
    m.id = std::move(id);
    m.reverse_path = std::move(from);
    m.arrival = arrival;
    for (auto& a : rcpts) {
        spool::queued_recipient r;
        r.address = std::move(a);
        r.next_attempt = arrival;
        m.recipients.push_back(std::move(r));
    }
    return m;
}

inline rcpt_outcome outcome(std::string id, std::size_t i, delivery_status s, std::string reply = {}) {
    rcpt_outcome o;
    o.message_id = std::move(id);
    o.recipient = i;
    o.status = s;
    o.reply = std::move(reply);
    o.remote_host = "mx.example [192.0.2.1]";
    return o;
}

/// The same outcome for every recipient a job carries.
inline std::vector<rcpt_outcome> outcomes_for(const delivery_job& j, delivery_status s, bool connection = false) {
    std::vector<rcpt_outcome> out;
    for (const auto& tx : j.transactions)
        for (std::size_t i : tx.recipients) {
            auto o = outcome(tx.message_id, i, s, s == delivery_status::permanent_failure ? "550 5.1.1 no" : "451 4.3.0 later");
            o.connection_failure = connection;
            out.push_back(std::move(o));
        }
    return out;
}

inline std::size_t recipients_in(const delivery_job& j) {
    std::size_t n = 0;
    for (const auto& tx : j.transactions) n += tx.recipients.size();
    return n;
}

}  // namespace postern::delivery::test
