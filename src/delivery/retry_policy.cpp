// SPDX-License-Identifier: MIT
#include "delivery/retry_policy.hpp"

namespace postern::delivery {

spool::time_point retry_policy::next_attempt(spool::time_point now, unsigned attempts) const {
    if (intervals.empty()) return now;
    const std::size_t i = attempts == 0 ? 0 : std::min<std::size_t>(attempts - 1, intervals.size() - 1);
    return now + intervals[i];
}

}  // namespace postern::delivery
