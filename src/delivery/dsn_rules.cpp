// SPDX-License-Identifier: MIT
#include "delivery/dsn_rules.hpp"

namespace postern::delivery {

std::string_view to_string(dsn_action a) noexcept {
    switch (a) {
        case dsn_action::failed: return "failed";
        case dsn_action::delayed: return "delayed";
        case dsn_action::delivered: return "delivered";
        case dsn_action::relayed: return "relayed";
    }
    return "failed";
}

bool wants_notice(std::string_view reverse_path, const spool::queued_recipient& r, dsn_action a) noexcept {
    // RFC 5321 §4.5.5 / RFC 3461 §6.1: a notice goes to the reverse path, and notices themselves
    // carry a null one, so that a failing notice can never cause another (no bounce loops).
    if (reverse_path.empty()) return false;
    if (!r.notify) return a == dsn_action::failed;  // RFC 3461 §4.1: default is FAILURE (DELAY optional)
    const spool::notify_flags& n = *r.notify;
    if (n.never) return false;  // §4.1: NEVER "MUST NOT" be combined with others; it asks for nothing
    switch (a) {
        case dsn_action::failed: return n.failure;
        case dsn_action::delayed: return n.delay;
        case dsn_action::delivered:
        case dsn_action::relayed: return n.success;
    }
    return false;
}

}  // namespace postern::delivery
