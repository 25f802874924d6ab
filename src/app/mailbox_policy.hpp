// SPDX-License-Identifier: MIT
#pragma once
/// The policy `postern serve` runs with: the relay rules (local domains, users, postmaster),
/// the submission rule that an authenticated user sends only as themselves, then accept mail
/// for the Maildir store (catch-all or one folder per recipient), trace headers on top, durable
/// before the 250.
#include "auth/credentials.hpp"
#include "dns/resolver.hpp"
#include "mailauth/dkim_sign.hpp"
#include "base/clock.hpp"
#include "server/policy.hpp"
#include "server/relay_rules.hpp"
#include "store/maildir_store.hpp"

#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>

#include <chrono>
#include <map>
#include <random>
#include <variant>
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
    std::string auth;                       ///< the mail authentication verdict (JSON), "" if none was made
};
/// Called on the store's committer thread, after the message is durable and before the 250.
using stored_hook = std::function<void(stored_message)>;

/// A network whose clients are not checked (SPF, DKIM, DMARC): "127.0.0.0/8", "::1", "10.1.2.3".
using ip_network = std::variant<boost::asio::ip::network_v4, boost::asio::ip::network_v6>;
/// Parses one; nullopt if it is not an address or a network.
std::optional<ip_network> parse_ip_network(const std::string& text);
bool contains(const std::vector<ip_network>& networks, const std::string& address);

/// What `postern serve` does for mail authentication ([mailauth] and [[dkim]] in the config).
struct mailauth_settings {
    dns::resolver* resolver = nullptr;  ///< nullptr: received mail is not checked
    bool enforce = false;               ///< refuse DMARC p=reject failures, quarantine p=quarantine ones
    std::string authserv_id;            ///< the name in Authentication-Results (the host name)
    std::chrono::milliseconds timeout{15000};
    std::vector<ip_network> ignore;     ///< clients not checked (OpenDKIM/OpenDMARC's internal hosts)
    /// Signing keys by domain (lower case): mail from authenticated users whose MAIL FROM domain
    /// has one is DKIM-signed before it is stored.
    std::map<std::string, mailauth::dkim_signer_config> signing;
};

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
    /// SPF/DKIM/DMARC for received mail and DKIM signing for submitted mail.
    void set_mailauth(mailauth_settings m) { mailauth_ = std::move(m); }

    server::begin_result begin_message(const server::session_info& s, const proto::transaction& tx) override;
    /// 250 for a recipient that has a mailbox folder (per-recipient layout), else 252.
    std::optional<proto::reply> check_vrfy(const server::session_info& s, const proto::vrfy_event& ev) override;

private:
    const std::string& authserv_id() const { return mailauth_.authserv_id.empty() ? hostname_ : mailauth_.authserv_id; }
    void add_mailauth(class store_sink& sink, const server::session_info& s, const proto::transaction& tx);
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
    mailauth_settings mailauth_;
    std::minstd_rand pct_rng_{std::random_device{}()};  // DMARC pct= sampling (RFC 7489 §6.6.4)
};

}  // namespace postern::app
