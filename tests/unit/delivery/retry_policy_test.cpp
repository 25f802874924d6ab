// SPDX-License-Identifier: MIT
#include "delivery/retry_policy.hpp"

#include <gtest/gtest.h>

namespace postern::delivery {
namespace {

using namespace std::chrono_literals;

TEST(retry_policy, doubles_then_repeats_the_last_interval) {
    retry_policy p;
    const spool::time_point t0{std::chrono::seconds(1'795'000'000)};
    EXPECT_EQ(p.next_attempt(t0, 1) - t0, 5min);
    EXPECT_EQ(p.next_attempt(t0, 2) - t0, 10min);
    EXPECT_EQ(p.next_attempt(t0, 5) - t0, 80min);
    EXPECT_EQ(p.next_attempt(t0, 50) - t0, 80min);
    EXPECT_EQ(p.next_attempt(t0, 0) - t0, 5min);
}

TEST(retry_policy, gives_up_after_the_lifetime) {
    retry_policy p;
    const spool::time_point arrival{std::chrono::seconds(1'795'000'000)};
    EXPECT_FALSE(p.expired(arrival, arrival + std::chrono::hours(24 * 5) - 1s));
    EXPECT_TRUE(p.expired(arrival, arrival + std::chrono::hours(24 * 5)));
}

}  // namespace
}  // namespace postern::delivery
