// SPDX-License-Identifier: MIT
#include "client/probe.hpp"

#include "proto/reply_parser.hpp"

#include <algorithm>

namespace postern::client {
namespace {

proto::client_config session_config(const probe_options& o) {
    proto::client_config c;
    c.helo_name = o.helo;
    c.tls = o.starttls ? proto::client_tls::opportunistic : proto::client_tls::none;
    c.chunking = false;
    return c;
}

proto::outgoing_message probe_message(const probe_options& o, const std::string& rcpt) {
    proto::outgoing_message m;
    m.reverse_path = o.from;
    m.has_body = false;
    m.recipients.push_back({rcpt, {}});
    // RFC 6531: a UTF-8 address travels only with SMTPUTF8 (refused locally when not offered).
    m.params.smtputf8 = std::any_of(rcpt.begin(), rcpt.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
    if (!o.random_local.empty()) m.recipients.push_back({o.random_local + "@" + o.domain, {}});
    return m;
}

// One server: every address of the host in turn until one connects.
asio::awaitable<probe_server_report> probe_one(const probe_target& t, const probe_options& o, const std::string& rcpt) {
    probe_server_report r;
    r.host = t.host;
    r.preference = t.preference;
    if (t.addresses.empty()) {
        r.error = t.dns_error.empty() ? "no address for " + t.host : t.dns_error;
        co_return r;
    }
    for (const auto& addr : t.addresses) {
        proto::client_session s(session_config(o));
        r.transcript.clear();
        s.set_tracer([&r](bool in, std::string_view line) { r.transcript.push_back((in ? "<-  " : " -> ") + std::string(line)); });
        s.add(probe_message(o, rcpt));
        auto opts = o.session;
        opts.tls.verify = false;  // reported, not enforced: a probe wants to see the answers
        opts.tls.server_name = t.host;
        auto task = run_session(asio::ip::tcp::endpoint(addr, t.port), opts, &s, {});  // see docs/coroutines.md
        r.connection = co_await std::move(task);
        const auto& res = s.result();
        r.banner = res.greeting;
        r.extensions = res.caps.lines;
        r.starttls_offered = res.starttls_offered;
        r.starttls = res.starttls;
        if (!res.transactions.empty()) {
            const auto& tx = res.transactions.front();
            r.mail = tx.mail;
            r.rcpt = tx.rcpts.empty() ? std::nullopt : tx.rcpts[0];
            if (tx.rcpts.size() > 1) r.catch_all_rcpt = tx.rcpts[1];
            if (tx.refused) r.error = tx.refused_why;
        }
        r.error = res.failure ? std::string(proto::failure_name(*res.failure)) + ": " + res.failure_text : std::string{};
        if (r.connection.connected) break;
    }
    co_return r;
}

}  // namespace

std::string_view verdict_name(verdict v) {
    switch (v) {
    case verdict::deliverable: return "deliverable";
    case verdict::undeliverable: return "undeliverable";
    case verdict::risky: return "risky";
    case verdict::unknown: return "unknown";
    }
    return "unknown";
}

std::optional<decision> decide(const probe_server_report& s, const std::string& address) {
    if (s.mail && !s.mail->completed()) {
        if (s.mail->transient()) return std::nullopt;
        return decision{verdict::unknown, "the server refused the sender: " + proto::reply_text(*s.mail), std::nullopt};
    }
    if (!s.rcpt || s.rcpt->transient()) return std::nullopt;
    std::optional<bool> catch_all;
    if (s.catch_all_rcpt && !s.catch_all_rcpt->transient()) catch_all = s.catch_all_rcpt->completed();
    const std::string text = proto::reply_text(*s.rcpt);
    if (s.rcpt->completed()) {
        if (catch_all == true)
            return decision{verdict::risky, "the server accepts any address at the domain (catch-all): " + text, catch_all};
        return decision{verdict::deliverable, "the server accepts " + address + ": " + text, catch_all};
    }
    // 5.7.x is the server's policy about us (a blocklist, a relay rule), not about the mailbox.
    if (s.rcpt->esc && s.rcpt->esc->subject == 7)
        return decision{verdict::unknown, "the server refused to answer for the mailbox: " + text, catch_all};
    return decision{verdict::undeliverable, "the server refuses " + address + ": " + text, catch_all};
}

asio::awaitable<probe_report> probe(std::vector<probe_target> targets, probe_options o) {
    probe_report report;
    report.address = o.address.empty() ? o.domain : o.address;
    const std::string rcpt = o.address.empty() ? "postmaster@" + o.domain : o.address;
    std::string deferred;
    for (const auto& t : targets) {
        auto task = probe_one(t, o, rcpt);
        report.servers.push_back(co_await std::move(task));
        const auto& s = report.servers.back();
        if (auto d = decide(s, rcpt)) {
            report.result = d->result;
            report.reason = d->reason;
            report.catch_all = d->catch_all;
            co_return report;
        }
        if (s.rcpt && s.rcpt->transient() && deferred.empty()) deferred = proto::reply_text(*s.rcpt);
        else if (s.mail && s.mail->transient() && deferred.empty()) deferred = proto::reply_text(*s.mail);
    }
    if (!deferred.empty()) {
        report.result = verdict::risky;
        report.reason = "deferred (greylisting or a temporary problem): " + deferred;
    } else {
        report.result = verdict::unknown;
        std::string why;
        for (const auto& s : report.servers) why += (why.empty() ? "" : "; ") + s.host + ":" + std::to_string(s.connection.port ? s.connection.port : 25) + " " + s.error;
        report.reason = targets.empty() ? "no mail server to ask" : "no server answered: " + why;
    }
    co_return report;
}

}  // namespace postern::client
