// SPDX-License-Identifier: MIT
#include "app/author_check.hpp"

#include "message/header_scan.hpp"
#include "proto/replies.hpp"

namespace postern::app {
namespace {

class author_check_sink final : public server::message_sink {
public:
    author_check_sink(std::unique_ptr<server::message_sink> inner, const server::relay_rules& rules, std::string user,
                      std::string hostname, log::session_id session)
        : inner_(std::move(inner)), rules_(rules), user_(std::move(user)), hostname_(std::move(hostname)), session_(session) {}

    result<void> write(std::span<const char> bytes) override {
        scanner_.feed(std::string_view(bytes.data(), bytes.size()));  // O(1) once the header section is over
        return inner_->write(bytes);
    }
    // Refuse here first; else the inner sink answers (it may sign the message first).
    void finish(std::function<void(std::optional<proto::reply>)> done) override {
        scanner_.finish();
        if (auto r = check()) return done(std::move(r));
        inner_->finish(std::move(done));
    }
    void commit(std::function<void(result<std::string>)> done) override { inner_->commit(std::move(done)); }

private:
    // Refuse rather than guess: a From the scanner cannot read, or more than one From or Sender
    // field (RFC 5322 §3.6 allows one each), could show a reader an address we never checked.
    std::optional<proto::reply> check() const {
        auto authors = scanner_.authors();
        if (!authors) return refuse("From", "unreadable: " + authors.error().message());
        if (authors->malformed_lines > 0) return refuse("From", "a header line without a field name");
        if (authors->from_fields > 1) return refuse("From", "more than one From field");
        if (authors->sender_fields > 1) return refuse("Sender", "more than one Sender field");
        for (const auto& m : authors->from) {
            if (misleading(m)) return refuse("From", "a local part that mail readers may show as another address");
            if (!rules_.owns(user_, m.local_part, m.domain, hostname_)) return not_owned("From", m);
        }
        for (const auto& m : authors->sender) {
            if (misleading(m)) return refuse("Sender", "a local part that mail readers may show as another address");
            if (!rules_.owns(user_, m.local_part, m.domain, hostname_)) return not_owned("Sender", m);
        }
        return std::nullopt;
    }
    // Some readers decode encoded words inside an address, or show a quoted "x@y" local part
    // as if it were the address: with a whole domain allowed, "ceo@bank.example"@alice.example
    // would pass the domain check and read as the bank's CEO.
    static bool misleading(const message::mailbox& m) {
        return m.local_part.find("=?") != std::string::npos || m.local_part.find('@') != std::string::npos;
    }
    proto::reply refuse(std::string_view field, const std::string& why) const {
        log::warn(session_, log::ev::smtp_sender_refused, {{"user", user_}, {"field", field}, {"reason", why}});
        return proto::replies::header_from_unreadable(field);
    }
    proto::reply not_owned(std::string_view field, const message::mailbox& m) const {
        log::warn(session_, log::ev::smtp_sender_refused, {{"user", user_}, {"field", field}, {"address", m.to_string()}});
        return proto::replies::header_from_not_owned(field, user_);
    }

    std::unique_ptr<server::message_sink> inner_;
    const server::relay_rules& rules_;
    std::string user_, hostname_;
    log::session_id session_;
    message::header_scanner scanner_;
};

}  // namespace

std::unique_ptr<server::message_sink> check_authors(std::unique_ptr<server::message_sink> inner,
                                                    const server::relay_rules& rules, std::string user,
                                                    std::string hostname, log::session_id session) {
    return std::make_unique<author_check_sink>(std::move(inner), rules, std::move(user), std::move(hostname), session);
}

}  // namespace postern::app
