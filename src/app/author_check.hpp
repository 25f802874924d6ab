// SPDX-License-Identifier: MIT
#pragma once
/// The submission rule for the message itself: an authenticated user's From: (and Sender:)
/// must name addresses the user owns (docs/relay-policy.md). The header section is scanned as
/// it streams through to the store; at the end of the data the verdict refuses the message with
/// 553 5.7.1 before anything is committed.
#include "base/log.hpp"
#include "server/policy.hpp"
#include "server/relay_rules.hpp"

#include <memory>
#include <string>

namespace postern::app {

/// Wraps `inner` (the store's sink). `rules` must outlive the sink.
std::unique_ptr<server::message_sink> check_authors(std::unique_ptr<server::message_sink> inner,
                                                    const server::relay_rules& rules, std::string user,
                                                    std::string hostname, log::session_id session);

}  // namespace postern::app
