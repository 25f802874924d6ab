// SPDX-License-Identifier: MIT
#include "app/mailbox_policy.hpp"

#include "app/author_check.hpp"
#include "app/store_sink.hpp"
#include "base/log.hpp"
#include "message/trace_headers.hpp"
#include "proto/replies.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>

namespace postern::app {

namespace asio = boost::asio;

namespace {

// RFC 3848 and RFC 6531 §3.7.3: the "with" keyword of the Received field (S: TLS, A: AUTH).
std::string protocol_of(const server::session_info& s, const proto::transaction& tx) {
    std::string p = tx.params.smtputf8 ? "UTF8SMTP" : s.esmtp ? "ESMTP" : "SMTP";
    if (s.tls) p += "S";
    if (!s.user.empty()) p += "A";
    return p;
}

}  // namespace

std::optional<ip_network> parse_ip_network(const std::string& text) {
    boost::system::error_code ec;
    const bool v6 = text.find(':') != std::string::npos;
    const bool slash = text.find('/') != std::string::npos;
    if (v6) {
        auto n = slash ? asio::ip::make_network_v6(text, ec) : asio::ip::network_v6(asio::ip::make_address_v6(text, ec), 128);
        if (!ec) return ip_network(n);
    } else {
        auto n = slash ? asio::ip::make_network_v4(text, ec) : asio::ip::network_v4(asio::ip::make_address_v4(text, ec), 32);
        if (!ec) return ip_network(n);
    }
    return std::nullopt;
}

bool contains(const std::vector<ip_network>& networks, const std::string& address) {
    boost::system::error_code ec;
    auto a = asio::ip::make_address(address, ec);
    if (ec) return false;
    if (a.is_v6() && a.to_v6().is_v4_mapped()) a = asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
    for (const auto& n : networks) {
        if (const auto* v4 = std::get_if<asio::ip::network_v4>(&n); v4 && a.is_v4()) {
            if (asio::ip::network_v4(a.to_v4(), 32).is_subnet_of(*v4) || v4->address() == a.to_v4()) return true;
        } else if (const auto* v6 = std::get_if<asio::ip::network_v6>(&n); v6 && a.is_v6()) {
            if (asio::ip::network_v6(a.to_v6(), 128).is_subnet_of(*v6) || v6->address() == a.to_v6()) return true;
        }
    }
    return false;
}

// Forged Authentication-Results fields are renamed in every message. Received mail is checked
// (unless its client is an internal host); mail from a real user (the sender and author checks
// have made sure MAIL FROM and From are theirs) is signed with the key of its MAIL FROM domain,
// when there is one. Accept-any sessions are not real users: checked, never signed.
void mailbox_policy::add_mailauth(store_sink& sink, const server::session_info& s, const proto::transaction& tx) {
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch()).count();
    sink.guard_results(authserv_id(), s.id);
    if (checks_senders(s)) {
        const auto& from = tx.reverse_path.mbox;
        if (!from) return;
        std::string domain = from->domain;
        std::transform(domain.begin(), domain.end(), domain.begin(), [](unsigned char c) { return std::tolower(c); });
        auto it = mailauth_.signing.find(domain);
        if (it != mailauth_.signing.end()) sink.sign(it->second, now);
        return;
    }
    if (!mailauth_.resolver || contains(mailauth_.ignore, s.peer_address)) return;
    boost::system::error_code ec;
    receive_checks c;
    c.resolver = mailauth_.resolver;
    c.request.ip = asio::ip::make_address(s.peer_address, ec);
    if (ec) return;
    c.request.helo = s.helo;
    c.request.mail_from = tx.reverse_path.mbox ? tx.reverse_path.mbox->to_string() : std::string();
    c.request.receiver = hostname_;
    c.request.now = now;
    c.request.pct_roll = static_cast<unsigned>(pct_rng_() % 100);
    c.client = {s.peer_address, s.helo};
    c.authserv_id = authserv_id();
    c.timeout = mailauth_.timeout;
    c.enforce = mailauth_.enforce;
    sink.check(std::move(c));
}

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
    const auto return_path = message::format_return_path(tx.reverse_path).size();
    auto sink = std::make_unique<store_sink>(store_, std::move(*writer), std::move(stored), on_stored_, head.size(), return_path);
    add_mailauth(*sink, s, tx);
    if (checks_senders(s)) return check_authors(std::move(sink), rules_, s.user, hostname_, s.id);
    return sink;
}

}  // namespace postern::app
