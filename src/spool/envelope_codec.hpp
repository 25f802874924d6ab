// SPDX-License-Identifier: MIT
#pragma once
/// The envelope file of a queued message: versioned JSON holding every field of queued_message and
/// queued_recipient. Pure: no I/O, no clock. Used by queue_store; exposed for its tests and for
/// `postern queue show --json`.
///
///   {"version": 1, "id": "...", "reverse_path": "...", "arrival": <Unix seconds>, "size": <octets>,
///    "envid": "...", "ret": "unspecified" | "full" | "headers", "smtputf8": false, "eight_bit": false,
///    "requiretls": false, "recipients": [{"address": "...", "notify": null | {"never": false,
///    "success": false, "failure": true, "delay": false}, "orcpt": "...", "status": "scheduled",
///    "attempts": 0, "next_attempt": <Unix seconds>, "last_reply": "...", "remote_host": "...",
///    "delay_notified": false}]}
///
/// Times are kept to the second (sub-second parts are dropped when encoding). A string that is not
/// valid UTF-8 (JSON strings must be) is written as {"hex": "<octets in hex>"}, so every octet
/// round-trips: an address or a remote reply is never altered on its way through the queue.
#include "base/expected.hpp"
#include "spool/queue_types.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace postern::spool {

inline constexpr int envelope_version = 1;
/// Envelope files larger than this are refused (a recipient takes a few hundred octets; the
/// SMTP server accepts far fewer recipients than this allows).
inline constexpr std::size_t max_envelope_size = 4u << 20;

/// The envelope file text for `m` (compact JSON, one line, ending in "\n"). Never throws.
std::string encode_envelope(const queued_message& m);

/// Reads an envelope file. Errors: spool_errc::bad_envelope (not JSON, nested too deep, a field
/// missing or of the wrong type, a value out of range), unsupported_version, envelope_too_large.
/// Never throws. Fields it does not know are ignored (a later minor addition stays readable).
result<queued_message> decode_envelope(std::string_view text);

}  // namespace postern::spool
