// SPDX-License-Identifier: MIT
#include "spool/queue_types.hpp"

#include <algorithm>

namespace postern::spool {

std::string_view to_string(delivery_status s) noexcept {
    switch (s) {
        case delivery_status::scheduled: return "scheduled";
        case delivery_status::delivered: return "delivered";
        case delivery_status::transient_failure: return "transient_failure";
        case delivery_status::permanent_failure: return "permanent_failure";
    }
    return "scheduled";
}

std::optional<delivery_status> parse_delivery_status(std::string_view s) noexcept {
    for (auto v : {delivery_status::scheduled, delivery_status::delivered, delivery_status::transient_failure,
                   delivery_status::permanent_failure})
        if (to_string(v) == s) return v;
    return std::nullopt;
}

bool queued_message::finished() const noexcept {
    return std::all_of(recipients.begin(), recipients.end(), [](const queued_recipient& r) {
        return r.status == delivery_status::delivered || r.status == delivery_status::permanent_failure;
    });
}

std::string domain_of(std::string_view address) {
    auto at = address.rfind('@');
    if (at == std::string_view::npos) return {};
    std::string d(address.substr(at + 1));
    std::transform(d.begin(), d.end(), d.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return d;
}

}  // namespace postern::spool
