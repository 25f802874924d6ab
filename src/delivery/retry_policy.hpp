// SPDX-License-Identifier: MIT
#pragma once
/// When to try a recipient again after a temporary failure, and when to give up (RFC 5321
/// §4.5.4.1). Pure: time is passed in.
#include "spool/queue_types.hpp"

#include <chrono>
#include <vector>

namespace postern::delivery {

struct retry_policy {
    /// The wait after the 1st, 2nd, ... failed attempt; past the end the last one repeats. The
    /// default doubles from 5 minutes to 80 (as Postfix's minimal/maximal_backoff_time do): RFC
    /// 5321 §4.5.4.1 asks for at least 30 minutes between tries of one destination in general,
    /// which holds from the fourth try on; the first ones are quick because most 4xx are greylisting.
    std::vector<std::chrono::seconds> intervals{std::chrono::minutes(5), std::chrono::minutes(10),
                                                std::chrono::minutes(20), std::chrono::minutes(40),
                                                std::chrono::minutes(80)};
    /// §4.5.4.1: "give-up time generally needs to be at least 4-5 days".
    std::chrono::seconds lifetime = std::chrono::hours(24 * 5);
    /// RFC 3461 NOTIFY=DELAY: a delay notice once a recipient has waited this long.
    std::chrono::seconds delay_notice_after = std::chrono::hours(4);

    /// The next attempt after the `attempts`-th failed one (attempts >= 1), from `now`.
    spool::time_point next_attempt(spool::time_point now, unsigned attempts) const;
    /// The message has been queued longer than `lifetime`.
    bool expired(spool::time_point arrival, spool::time_point now) const { return now - arrival >= lifetime; }
};

}  // namespace postern::delivery
