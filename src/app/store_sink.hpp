// SPDX-License-Identifier: MIT
#pragma once
/// The message_sink `postern serve` stores with: the store's writer, plus what mail
/// authentication does with the message on its way in. Received mail (unauthenticated sessions)
/// gets SPF, DKIM and DMARC checked (the body hashed as it streams) and an Authentication-Results
/// field written above the trace fields of this hop (RFC 8601 §5); under the enforce policy a
/// DMARC p=reject failure is refused (550 5.7.1) and a p=quarantine failure goes to the
/// quarantine folder. Mail from authenticated users is DKIM-signed when its domain has a key.
#include "app/mailbox_policy.hpp"
#include "mailauth/dkim_sign.hpp"
#include "mailauth/evaluate.hpp"
#include "message/field_locator.hpp"
#include "server/policy.hpp"
#include "store/maildir_store.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace postern::app {

/// What to check: set for received mail, unset when nothing is checked.
struct receive_checks {
    dns::resolver* resolver = nullptr;      ///< must outlive the sink
    mailauth::evaluate_request request;
    mailauth::client_info client;
    std::string authserv_id;
    std::chrono::milliseconds timeout{15000};
    bool enforce = false;                   ///< act on DMARC p=reject / p=quarantine failures
};

class store_sink final : public server::message_sink {
public:
    /// `head_size`: octets of trace fields already written (Return-Path then Received);
    /// `return_path_size`: of which the Return-Path field (the Authentication-Results goes after it).
    store_sink(store::maildir_store& s, std::unique_ptr<store::message_writer> w, stored_message m, stored_hook hook,
               std::size_t head_size, std::size_t return_path_size);
    ~store_sink() override;

    /// Authentication-Results fields in the message that claim `authserv_id` are renamed (RFC
    /// 8601 §5), whether or not the message is checked. Call first: it names the session logged.
    void guard_results(std::string authserv_id, log::session_id session);
    void check(receive_checks c);
    void sign(mailauth::dkim_signer_config c, std::int64_t now);

    result<void> write(std::span<const char> bytes) override;
    void finish(std::function<void(std::optional<proto::reply>)> done) override;
    void commit(std::function<void(result<std::string>)> done) override;

private:
    std::optional<proto::reply> prepare();
    void evaluate(std::function<void(std::optional<proto::reply>)> done);
    std::optional<proto::reply> apply(const mailauth::auth_verdict& v);
    result<void> rename_forged_results();
    result<void> add_signature();

    store::maildir_store& store_;
    std::unique_ptr<store::message_writer> writer_;
    stored_message stored_;
    stored_hook hook_;
    std::size_t head_size_, return_path_size_;
    std::optional<receive_checks> checks_;
    std::optional<mailauth::dkim_verifier> verifier_;
    std::optional<message::field_locator> results_fields_;  // Authentication-Results already in the message
    std::optional<mailauth::dkim_signer> signer_;
    std::int64_t sign_time_ = 0;
    log::session_id session_ = log::no_session;
};

}  // namespace postern::app
