// SPDX-License-Identifier: MIT
#pragma once
/// Which delivery status notifications a recipient asked for (RFC 3461 §4.1) and whether one may be
/// sent at all (never to the null reverse path: RFC 5321 §4.5.5, RFC 3461 §6.1). Pure.
#include "spool/queue_types.hpp"

#include <string_view>

namespace postern::delivery {

/// RFC 3464 §2.3.3 Action values a scheduler decides on ("expanded" belongs to alias expansion).
enum class dsn_action {
    failed,     ///< permanent failure or given up: RFC 3461 §5.2.6, NOTIFY=FAILURE
    delayed,    ///< still trying after a while: §5.2.5, NOTIFY=DELAY
    delivered,  ///< put into the recipient's mailbox: §5.2.3, NOTIFY=SUCCESS
    relayed,    ///< handed to a next hop that does not take DSN parameters: §5.2.2, NOTIFY=SUCCESS
};
/// "failed", "delayed", "delivered", "relayed" (the RFC 3464 field values).
std::string_view to_string(dsn_action a) noexcept;

/// Whether a notice of this kind is owed to the reverse path for this recipient: never when the
/// reverse path is null; NOTIFY=NEVER asks for none; a NOTIFY list asks for exactly what it names;
/// no NOTIFY means failures only (RFC 3461 §4.1 leaves DELAY to the MTA: we send none unasked).
/// Call when the recipient reaches the state `a` describes.
bool wants_notice(std::string_view reverse_path, const spool::queued_recipient& r, dsn_action a) noexcept;

}  // namespace postern::delivery
