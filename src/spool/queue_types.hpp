// SPDX-License-Identifier: MIT
#pragma once
/// A message in the outgoing queue as values: its envelope, DSN parameters (RFC 3461) and the
/// delivery state of each recipient. Shared by the spool (which keeps them durable), the
/// scheduler (which decides when to try what) and delivery (which tries). Pure: no I/O, no clock.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postern::spool {

using time_point = std::chrono::system_clock::time_point;

/// Per recipient (conventions.md, "Outcomes are closed sets").
enum class delivery_status { scheduled, delivered, transient_failure, permanent_failure };
/// "scheduled", "delivered", "transient_failure", "permanent_failure".
std::string_view to_string(delivery_status s) noexcept;
std::optional<delivery_status> parse_delivery_status(std::string_view s) noexcept;

/// RFC 3461 §4.1 NOTIFY; none given means the default (failure, and delay at the MTA's choice).
struct notify_flags {
    bool never = false, success = false, failure = false, delay = false;
    friend bool operator==(const notify_flags&, const notify_flags&) = default;
};

enum class dsn_return { unspecified, full, headers };  ///< RFC 3461 §4.3 RET

struct queued_recipient {
    std::string address;                   ///< forward-path without angle brackets
    std::optional<notify_flags> notify;    ///< NOTIFY as given; nullopt: not given
    std::string orcpt;                     ///< ORCPT as given ("rfc822;a@b.example"), "" if none
    delivery_status status = delivery_status::scheduled;
    unsigned attempts = 0;                 ///< delivery attempts made for this recipient
    time_point next_attempt{};             ///< when to try next (scheduled / transient_failure)
    std::string last_reply;                ///< the remote server's last reply ("451 4.7.1 ..."), or our error
    std::string remote_host;               ///< the MX host that gave it ("mx1.example.org [192.0.2.1]")
    bool delay_notified = false;           ///< a NOTIFY=DELAY notice went out already
    friend bool operator==(const queued_recipient&, const queued_recipient&) = default;
};

struct queued_message {
    std::string id;                        ///< the queue id (also the id in the 250 reply)
    std::string reverse_path;              ///< MAIL FROM without angle brackets; "" is the null path <>
    std::vector<queued_recipient> recipients;
    time_point arrival{};
    std::uint64_t size = 0;                ///< octets of the message file
    std::string envid;                     ///< ENVID as given, "" if none
    dsn_return ret = dsn_return::unspecified;
    bool smtputf8 = false;                 ///< needs SMTPUTF8 from the next hop (RFC 6531)
    bool eight_bit = false;                ///< BODY=8BITMIME
    bool requiretls = false;               ///< RFC 8689: only over verified TLS
    friend bool operator==(const queued_message&, const queued_message&) = default;

    /// Every recipient is delivered or permanently failed: the message can leave the queue.
    bool finished() const noexcept;
};

/// The domain of an address (after the last '@'), lower-cased; "" if none.
std::string domain_of(std::string_view address);

}  // namespace postern::spool
