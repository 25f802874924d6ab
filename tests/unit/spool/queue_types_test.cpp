// SPDX-License-Identifier: MIT
#include "spool/queue_types.hpp"

#include <gtest/gtest.h>

namespace postern::spool {
namespace {

TEST(queue_types, status_words_round_trip) {
    for (auto s : {delivery_status::scheduled, delivery_status::delivered, delivery_status::transient_failure,
                   delivery_status::permanent_failure})
        EXPECT_EQ(parse_delivery_status(to_string(s)), s);
    EXPECT_FALSE(parse_delivery_status("Delivered"));
}

TEST(queue_types, finished_once_every_recipient_is_final) {
    queued_message m;
    m.recipients.resize(2);
    m.recipients[0].address = "a@x.example";
    m.recipients[1].address = "b@y.example";
    EXPECT_FALSE(m.finished());
    m.recipients[0].status = delivery_status::delivered;
    m.recipients[1].status = delivery_status::transient_failure;
    EXPECT_FALSE(m.finished());
    m.recipients[1].status = delivery_status::permanent_failure;
    EXPECT_TRUE(m.finished());
}

TEST(queue_types, domain_of_takes_the_last_at_and_lowers_case) {
    EXPECT_EQ(domain_of("\"a@b\"@Example.ORG"), "example.org");
    EXPECT_EQ(domain_of("postmaster"), "");
}

}  // namespace
}  // namespace postern::spool
