// SPDX-License-Identifier: MIT
// The client's mail transactions: the envelope (MAIL, RCPT; pipelined with DATA where the
// server offers PIPELINING), the body through DATA (dot-stuffed) or BDAT, RSET after a
// transaction that did not end in a reply to its data, and QUIT after the last one.
#include "proto/client_session.hpp"

#include "proto/text.hpp"

#include <algorithm>

namespace postern::proto {
namespace {

constexpr std::size_t last_chunk = 1;  // pending_reply::index of the BDAT ... LAST reply

std::string notify_text(const dsn_notify& n) {
    if (n.never) return "NEVER";
    std::string out;
    for (auto [on, name] : {std::pair{n.success, "SUCCESS"}, {n.failure, "FAILURE"}, {n.delay, "DELAY"}})
        if (on) out += (out.empty() ? "" : ",") + std::string(name);
    return out;
}

bool pipelined(const client_config& cfg, const capabilities& caps) { return cfg.pipelining && caps.has("PIPELINING"); }

}  // namespace

bool client_session::any_rcpt_accepted() const {
    const auto& r = result_.transactions.back().rcpts;
    return std::any_of(r.begin(), r.end(), [](const auto& x) { return x && x->completed(); });
}

std::optional<std::string> client_session::unsupported_by_server(const outgoing_message& m) const {
    const auto& caps = result_.caps;
    if (!safe_path_text(m.reverse_path)) return "bad sender address";
    for (const auto& r : m.recipients)
        if (r.address.empty() || !safe_path_text(r.address)) return "bad recipient address <" + r.address + ">";
    if (m.recipients.empty()) return "no recipients";
    if (m.params.smtputf8 && !caps.has("SMTPUTF8")) return "the message needs SMTPUTF8 (RFC 6531), which the server does not offer";
    if (m.params.body == body_type::eight_bit_mime && !caps.has("8BITMIME"))
        return "the message has 8-bit data and the server does not offer 8BITMIME (RFC 6152)";
    if (m.params.body == body_type::binary_mime && !(caps.has("BINARYMIME") && caps.has("CHUNKING") && cfg_.chunking))
        return "the message is binary and the server does not offer BINARYMIME with CHUNKING (RFC 3030)";
    if (m.params.requiretls && !(result_.tls && caps.has("REQUIRETLS")))
        return "the message requires TLS all the way (RFC 8689) and this server does not offer REQUIRETLS in TLS";
    if (m.params.size && caps.size && *m.params.size > *caps.size)
        return "the message (" + std::to_string(*m.params.size) + " octets) is over the server's SIZE limit (" +
               std::to_string(*caps.size) + ")";
    return std::nullopt;
}

std::string client_session::mail_command(const outgoing_message& m) const {
    const auto& caps = result_.caps;
    const auto& p = m.params;
    std::string line = "MAIL FROM:<" + m.reverse_path + ">";
    if (p.size && caps.has("SIZE")) line += " SIZE=" + std::to_string(*p.size);
    if (p.body == body_type::eight_bit_mime) line += " BODY=8BITMIME";
    if (p.body == body_type::binary_mime) line += " BODY=BINARYMIME";
    if (p.smtputf8) line += " SMTPUTF8";
    if (caps.has("DSN")) {
        if (p.ret != dsn_ret::unspecified) line += p.ret == dsn_ret::full ? " RET=FULL" : " RET=HDRS";
        if (p.envid) line += " ENVID=" + *p.envid;
    }
    if (p.requiretls) line += " REQUIRETLS";
    if (p.auth && result_.authenticated) line += " AUTH=" + *p.auth;
    return line;
}

std::string client_session::rcpt_command(const outgoing_rcpt& r) const {
    std::string line = "RCPT TO:<" + r.address + ">";
    if (result_.caps.has("DSN")) {
        if (r.params.notify) line += " NOTIFY=" + notify_text(*r.params.notify);
        if (r.params.orcpt) line += " ORCPT=" + r.params.orcpt_type.value_or("rfc822") + ";" + *r.params.orcpt;
    }
    return line;
}

void client_session::next_transaction() {
    if (queue_.empty()) return quit();
    msg_ = std::move(queue_.front());
    queue_.pop_front();
    result_.transactions.emplace_back();
    current().rcpts.resize(msg_->recipients.size());
    if (auto why = unsupported_by_server(*msg_)) {
        current().refused = client_failure::unsupported;
        current().refused_why = std::move(*why);
        msg_.reset();
        return next_transaction();
    }
    data_sent_ = false;
    body_chunked_ = msg_->has_body && cfg_.chunking && result_.caps.has("CHUNKING");
    send_envelope();
}

void client_session::send_envelope() {
    send_line(mail_command(*msg_), expect::mail);
    if (!pipelined(cfg_, result_.caps)) return;  // one command at a time: on_transaction_reply goes on
    for (std::size_t i = 0; i < msg_->recipients.size(); ++i) send_line(rcpt_command(msg_->recipients[i]), expect::rcpt, i);
    // RFC 2920 §3.1: DATA may end the group; its 354 (or refusal) comes after the RCPT replies.
    if (msg_->has_body && !body_chunked_) {
        send_line("DATA", expect::data);
        data_sent_ = true;
    }
}

void client_session::on_transaction_reply(const pending_reply& p, const reply& r) {
    auto& tx = current();
    const bool pipe = pipelined(cfg_, result_.caps);
    switch (p.what) {
    case expect::mail:
        tx.mail = r;
        if (!pipe) return r.completed() ? send_line(rcpt_command(msg_->recipients[0]), expect::rcpt, 0) : after_envelope();
        return;
    case expect::rcpt:
        tx.rcpts[p.index] = r;
        if (p.index + 1 < msg_->recipients.size()) {  // more RCPT replies to come
            if (!pipe) send_line(rcpt_command(msg_->recipients[p.index + 1]), expect::rcpt, p.index + 1);
            return;
        }
        if (!data_sent_) return after_envelope();  // pipelined with DATA: its reply decides
        return;
    case expect::data:
        if (r.completed()) {  // 2xx to DATA: no body was sent, so nothing was delivered
            tx.data = reply{554, enhanced_code{5, 5, 0}, {"the server answered DATA with " + reply_text(r) + " instead of 354"}};
            return finish(client_failure::protocol, "the server answered DATA with " + reply_text(r));
        }
        if (r.code != 354) tx.data = r;
        if (r.code == 354 && (!tx.mail || !tx.mail->completed() || !any_rcpt_accepted())) {
            // A 354 with no valid recipient (a server bug): end the empty message at once.
            out_ += ".\r\n";
            pending_.push_back({expect::body_end});
            return;
        }
        if (r.code == 354) {
            in_body_ = true;
            return;
        }
        return finish_transaction(false);
    case expect::body_end:
        if (!tx.data) tx.data = r;
        return finish_transaction(true);
    case expect::bdat:
        if (!r.completed() || p.index == last_chunk) {
            tx.data = r;
            return finish_transaction(p.index == last_chunk && r.completed());
        }
        in_body_ = true;
        return;
    case expect::rset: return next_transaction();
    default: return;
    }
}

// The replies to MAIL and every RCPT are in (and, pipelined, the one to DATA is still to come).
void client_session::after_envelope() {
    const auto& tx = current();
    const bool ok = tx.mail && tx.mail->completed() && any_rcpt_accepted();
    if (data_sent_) return;  // pipelined: the DATA reply decides (on_transaction_reply)
    if (!ok || !msg_->has_body) return finish_transaction(false);
    if (body_chunked_) {
        in_body_ = true;
        return;
    }
    send_line("DATA", expect::data);
    data_sent_ = true;
}

void client_session::finish_transaction(bool completed) {
    in_body_ = false;
    body_octets_ = 0;
    last_octets_[0] = '\r';
    last_octets_[1] = '\n';
    stuff_at_line_start_ = true;
    msg_.reset();
    // A message that got its final reply leaves the server reset (RFC 5321 §4.1.1.4); anything
    // else (a refused MAIL or RCPT, a probe, a failed BDAT) is cleared with RSET.
    if (completed) return next_transaction();
    send_line("RSET", expect::rset);
}

void client_session::quit() { send_line("QUIT", expect::quit); }

void client_session::body(std::span<const char> chunk) {
    if (!in_body_ || chunk.empty()) return;
    body_octets_ += chunk.size();
    if (body_chunked_) {
        out_ += "BDAT " + std::to_string(chunk.size()) + "\r\n";
        out_.append(chunk.data(), chunk.size());
        if (trace_) trace_(false, "BDAT " + std::to_string(chunk.size()));
        pending_.push_back({expect::bdat});
        in_body_ = false;  // the next chunk goes after this one's reply (memory stays bounded)
        return;
    }
    stuff(chunk);
}

void client_session::end_body() {
    if (!in_body_) return;
    in_body_ = false;
    if (body_chunked_) {
        if (trace_) trace_(false, "BDAT 0 LAST");
        out_ += "BDAT 0 LAST\r\n";
        pending_.push_back({expect::bdat, last_chunk});
        return;
    }
    // RFC 5321 §4.1.1.4: the data ends with CRLF "." CRLF; add the CRLF the data lacks.
    const bool ends_in_crlf = body_octets_ == 0 || (last_octets_[0] == '\r' && last_octets_[1] == '\n');
    out_ += ends_in_crlf ? ".\r\n" : "\r\n.\r\n";
    if (trace_) trace_(false, "(" + std::to_string(body_octets_) + " octets of message data) .");
    pending_.push_back({expect::body_end});
}

// RFC 5321 §4.5.2: a '.' at the start of a line gets another in front. A line starts after any
// CR or LF, bare ones included, so that no server, however it splits lines, sees an early end.
void client_session::stuff(std::span<const char> chunk) {
    out_.reserve(out_.size() + chunk.size() + 16);
    for (char c : chunk) {
        if (stuff_at_line_start_ && c == '.') out_ += '.';
        out_ += c;
        stuff_at_line_start_ = c == '\r' || c == '\n';
        last_octets_[0] = last_octets_[1];
        last_octets_[1] = c;
    }
}

namespace {

class plain_client final : public sasl_client {
public:
    plain_client(std::string u, std::string p) : user_(std::move(u)), pass_(std::move(p)) {}
    std::string name() const override { return "PLAIN"; }
    // RFC 4616 §2: [authzid] NUL authcid NUL passwd
    std::optional<std::string> initial_response() override { return std::string(1, '\0') + user_ + '\0' + pass_; }
    std::optional<std::string> respond(std::string_view challenge) override {
        if (!challenge.empty() || sent_) return std::nullopt;
        sent_ = true;
        return initial_response();
    }

private:
    std::string user_, pass_;
    bool sent_ = false;
};

class login_client final : public sasl_client {
public:
    login_client(std::string u, std::string p) : user_(std::move(u)), pass_(std::move(p)) {}
    std::string name() const override { return "LOGIN"; }
    std::optional<std::string> initial_response() override { return std::nullopt; }
    // The challenges are "Username:" and "Password:" (draft-murchison-sasl-login); answer in order.
    std::optional<std::string> respond(std::string_view) override {
        if (step_ >= 2) return std::nullopt;
        return step_++ == 0 ? user_ : pass_;
    }

private:
    std::string user_, pass_;
    int step_ = 0;
};

}  // namespace

std::unique_ptr<sasl_client> make_plain_client(std::string user, std::string password) {
    return std::make_unique<plain_client>(std::move(user), std::move(password));
}
std::unique_ptr<sasl_client> make_login_client(std::string user, std::string password) {
    return std::make_unique<login_client>(std::move(user), std::move(password));
}

}  // namespace postern::proto
