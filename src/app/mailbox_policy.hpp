// SPDX-License-Identifier: MIT
#pragma once
/// The policy `postern serve` runs with: accept mail for the Maildir store (catch-all or one
/// folder per recipient), trace headers on top, durable before the 250.
#include "base/clock.hpp"
#include "server/policy.hpp"
#include "store/maildir_store.hpp"

#include <string>

namespace postern::app {

class mailbox_policy final : public server::policy {
public:
    mailbox_policy(store::maildir_store& store, store::layout folders, std::string hostname, const clock& time)
        : store_(store), folders_(folders), hostname_(std::move(hostname)), clock_(time) {}

    server::begin_result begin_message(const server::session_info& s, const proto::transaction& tx) override;
    /// 250 for a recipient that has a mailbox folder (per-recipient layout), else 252.
    std::optional<proto::reply> check_vrfy(const server::session_info& s, const proto::vrfy_event& ev) override;

private:
    std::string trace_headers(const server::session_info& s, const proto::transaction& tx, const std::string& id) const;

    store::maildir_store& store_;
    store::layout folders_;
    std::string hostname_;
    const clock& clock_;
};

}  // namespace postern::app
