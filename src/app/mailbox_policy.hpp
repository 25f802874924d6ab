// SPDX-License-Identifier: MIT
#pragma once
/// The policy `postern serve` runs with: the relay rules (local domains, users, postmaster),
/// the submission rule that an authenticated user sends only as themselves, then accept mail
/// for the Maildir store (catch-all or one folder per recipient), trace headers on top, durable
/// before the 250.
#include "auth/credentials.hpp"
#include "base/clock.hpp"
#include "server/policy.hpp"
#include "server/relay_rules.hpp"
#include "store/maildir_store.hpp"

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <vector>
#include <string>

namespace postern::app {

/// A message now durable in the store: its files (one per folder) and envelope.
struct stored_message {
    std::vector<std::filesystem::path> files;
    std::string envelope_from;              ///< without '<' '>', "" for the null path
    std::vector<std::string> envelope_to;
    std::chrono::system_clock::time_point arrival;
};
/// Called on the store's committer thread, after the message is durable and before the 250.
using stored_hook = std::function<void(stored_message)>;

class mailbox_policy final : public server::policy {
public:
    /// `users` are the real users (DATA/users and any passwd-file), never the accept-any stand-in.
    mailbox_policy(store::maildir_store& store, store::layout folders, std::string hostname, const clock& time,
                   server::relay_rules rules, std::shared_ptr<const auth::credential_store> users)
        : store_(store), folders_(folders), hostname_(std::move(hostname)), clock_(time), rules_(std::move(rules)),
          users_(std::move(users)) {}

    /// 553 5.7.1 when an authenticated user gives an envelope sender they do not own.
    std::optional<proto::reply> check_mail(const server::session_info& s, const proto::mail_event& ev) override;
    /// 554 5.7.1 relay denied, 550 5.1.1 unknown local user (see server::relay_rules).
    std::optional<proto::reply> check_rcpt(const server::session_info& s, const proto::transaction& tx,
                                           const proto::rcpt_event& ev) override;

    /// Told about every message once it is stored (the web inbox indexes it).
    void on_stored(stored_hook h) { on_stored_ = std::move(h); }

    server::begin_result begin_message(const server::session_info& s, const proto::transaction& tx) override;
    /// 250 for a recipient that has a mailbox folder (per-recipient layout), else 252.
    std::optional<proto::reply> check_vrfy(const server::session_info& s, const proto::vrfy_event& ev) override;

private:
    std::string trace_headers(const server::session_info& s, const proto::transaction& tx, const std::string& id) const;
    /// The From:/Sender: check applies: the session authenticated as one of the real users.
    bool checks_senders(const server::session_info& s) const { return !s.user.empty() && !users_->empty(); }

    store::maildir_store& store_;
    store::layout folders_;
    std::string hostname_;
    const clock& clock_;
    server::relay_rules rules_;
    std::shared_ptr<const auth::credential_store> users_;
    stored_hook on_stored_;
};

}  // namespace postern::app
