// SPDX-License-Identifier: MIT
#include "app/mailbox_policy.hpp"

#include "app/author_check.hpp"
#include "base/log.hpp"
#include "message/trace_headers.hpp"
#include "proto/replies.hpp"

#include <filesystem>

namespace postern::app {
namespace {

// Hands the store's writer to the server as a message_sink.
// Hands the store's writer to the server as a message_sink; tells `hook` about the stored files.
class store_sink final : public server::message_sink {
public:
    store_sink(store::maildir_store& s, std::unique_ptr<store::message_writer> w, stored_message m, stored_hook hook)
        : store_(s), writer_(std::move(w)), stored_(std::move(m)), hook_(std::move(hook)) {}
    result<void> write(std::span<const char> bytes) override { return writer_->write(bytes); }
    void commit(std::function<void(result<std::string>)> done) override {
        if (!hook_) return store_.commit(std::move(writer_), std::move(done));
        stored_.files = writer_->final_paths();
        store_.commit(std::move(writer_), [done = std::move(done), m = std::move(stored_), hook = std::move(hook_)](
                                              result<std::string> id) mutable {
            if (id) hook(std::move(m));
            done(std::move(id));
        });
    }

private:
    store::maildir_store& store_;
    std::unique_ptr<store::message_writer> writer_;
    stored_message stored_;
    stored_hook hook_;
};

// RFC 3848 and RFC 6531 §3.7.3: the "with" keyword of the Received field (S: TLS, A: AUTH).
std::string protocol_of(const server::session_info& s, const proto::transaction& tx) {
    std::string p = tx.params.smtputf8 ? "UTF8SMTP" : s.esmtp ? "ESMTP" : "SMTP";
    if (s.tls) p += "S";
    if (!s.user.empty()) p += "A";
    return p;
}

}  // namespace

std::string mailbox_policy::trace_headers(const server::session_info& s, const proto::transaction& tx,
                                          const std::string& id) const {
    message::received_fields f;
    f.helo = s.helo;
    f.peer_address = s.peer_address;
    f.by_host = hostname_;
    f.protocol = protocol_of(s, tx);
    f.tls_version = s.tls_version;
    f.tls_cipher = s.tls_cipher;
    f.requiretls = tx.params.requiretls;  // RFC 8689: kept with the message for whoever relays it on
    f.id = id;
    if (tx.recipients.size() == 1) f.for_recipient = tx.recipients.front().forward_path.to_string();
    f.when = clock_.now();
    // RFC 5321 §4.4: Return-Path is added by the final delivery; the store is final delivery here.
    return message::format_return_path(tx.reverse_path) + message::format_received(f);
}

std::optional<proto::reply> mailbox_policy::check_mail(const server::session_info& s, const proto::mail_event& ev) {
    const auto& from = ev.reverse_path.mbox;
    if (!checks_senders(s) || !from) return std::nullopt;  // <> names nobody: nothing to spoof
    if (rules_.owns(s.user, from->local_part, from->domain, hostname_)) return std::nullopt;
    log::warn(s.id, log::ev::smtp_sender_refused, {{"user", s.user}, {"from", from->to_string()}});
    return proto::replies::sender_not_owned(from->to_string(), s.user);
}

std::optional<proto::reply> mailbox_policy::check_rcpt(const server::session_info& s, const proto::transaction&,
                                                       const proto::rcpt_event& ev) {
    switch (rules_.check_recipient(ev.forward_path, !s.user.empty(), *users_)) {
    case server::rcpt_verdict::accept: return std::nullopt;
    case server::rcpt_verdict::relay_denied:
        log::warn(s.id, log::ev::smtp_relay_denied, {{"to", ev.forward_path.to_string()}, {"peer", s.peer_address}});
        return proto::replies::relay_denied();
    case server::rcpt_verdict::unknown_user: return proto::replies::unknown_user();
    }
    return std::nullopt;
}

std::optional<proto::reply> mailbox_policy::check_vrfy(const server::session_info&, const proto::vrfy_event& ev) {
    if (folders_ != store::layout::per_recipient || !ev.mailbox) return std::nullopt;
    const std::string address = ev.mailbox->to_string();
    std::error_code ec;
    if (std::filesystem::is_directory(store_.folder_for(address) / "new", ec)) return proto::replies::vrfy_ok(address);
    return std::nullopt;
}

server::begin_result mailbox_policy::begin_message(const server::session_info& s, const proto::transaction& tx) {
    std::vector<std::string> rcpts;
    rcpts.reserve(tx.recipients.size());
    for (const auto& r : tx.recipients) rcpts.push_back(r.forward_path.to_string());
    auto writer = store_.begin(rcpts);
    if (!writer) {
        log::error(s.id, log::ev::store_error, {{"error", writer.error().message()}});
        return proto::replies::storage_error(writer.error());
    }
    const std::string head = trace_headers(s, tx, (*writer)->id());
    if (auto w = (*writer)->write(std::span<const char>(head.data(), head.size())); !w) {
        log::error(s.id, log::ev::store_error, {{"error", w.error().message()}});
        return proto::replies::local_error();
    }
    stored_message stored;
    if (on_stored_) {
        stored.envelope_from = tx.reverse_path.mbox ? tx.reverse_path.mbox->to_string() : std::string();
        stored.envelope_to = rcpts;
        stored.arrival = clock_.now();
    }
    auto sink = std::make_unique<store_sink>(store_, std::move(*writer), std::move(stored), on_stored_);
    if (checks_senders(s)) return check_authors(std::move(sink), rules_, s.user, hostname_, s.id);
    return sink;
}

}  // namespace postern::app
