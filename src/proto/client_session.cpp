// SPDX-License-Identifier: MIT
// Theory of operation: every command sent records the reply it waits for in pending_; each
// reply that arrives is matched with the oldest entry (RFC 2920: replies come in order) and
// handled by what it answers. With PIPELINING a message's MAIL, RCPTs and DATA go out in one
// write, and the decision to send the body is taken once the DATA reply is in; without it the
// commands go one at a time. Hello, STARTTLS and AUTH are never pipelined.
#include "proto/client_session.hpp"

#include "message/base64.hpp"
#include "proto/text.hpp"

#include <algorithm>
#include <utility>

namespace postern::proto {

using namespace std::chrono_literals;

std::string_view failure_name(client_failure f) {
    switch (f) {
    case client_failure::connect: return "connect";
    case client_failure::timeout: return "timeout";
    case client_failure::tls: return "tls";
    case client_failure::protocol: return "protocol";
    case client_failure::rejected: return "rejected";
    case client_failure::auth: return "auth";
    case client_failure::unsupported: return "unsupported";
    case client_failure::lost: return "lost";
    case client_failure::local: return "local";
    }
    return "protocol";
}

bool safe_path_text(std::string_view a) {
    bool quoted = false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const auto c = static_cast<unsigned char>(a[i]);
        if (c < 0x20 || c == 0x7f || c == '<' || c == '>') return false;
        if (c == '"') quoted = !quoted;
        else if (c == '\\' && quoted) ++i;
        else if (c == ' ' && !quoted) return false;
    }
    return !quoted;
}

bool capabilities::has(std::string_view keyword) const {
    return std::any_of(lines.begin(), lines.end(), [&](const std::string& l) {
        return iequals(std::string_view(l).substr(0, l.find(' ')), keyword);
    });
}

client_session::client_session(client_config cfg, std::unique_ptr<sasl_client> auth)
    : cfg_(std::move(cfg)), auth_(std::move(auth)) {}

client_session::client_session(client_config cfg, sasl_chooser choose_auth)
    : cfg_(std::move(cfg)), choose_auth_(std::move(choose_auth)) {}

client_session::~client_session() = default;

void client_session::add(outgoing_message m) { queue_.push_back(std::move(m)); }

void client_session::start(bool tls_active) {
    started_ = true;
    result_.tls = tls_active;
    pending_.push_back({expect::greeting});
}

client_action client_session::next_action() {
    if (!out_.empty()) return client_action::write;
    if (failed_) return client_action::failed;
    if (ended_) return client_action::done;
    if (tls_wanted_) return client_action::start_tls;
    if (in_body_) return client_action::send_body;
    if (!pending_.empty()) return client_action::read;
    return client_action::done;  // not reached: every state leaves a pending reply or an end
}

std::string client_session::take_output() { return std::exchange(out_, {}); }

std::chrono::seconds client_session::timeout() const {
    if (in_body_) return 180s;  // §4.5.3.2.5: each data block
    if (pending_.empty()) return 300s;
    switch (pending_.front().what) {
    case expect::data: return 120s;      // §4.5.3.2.4: DATA initiation
    case expect::body_end: return 600s;  // §4.5.3.2.6: DATA termination
    case expect::bdat: return 600s;
    default: return 300s;                // §4.5.3.2.1-3 and 7: greeting, MAIL, RCPT, others
    }
}

void client_session::fail(client_failure why, std::string text) {
    if (ended_ || failed_) return;
    // Waiting for the reply to a polite QUIT: the failure that made us quit is the one to tell.
    if (result_.failure) return finish(*result_.failure, result_.failure_text);
    finish(why, std::move(text));
}

void client_session::finish(std::optional<client_failure> failure, std::string text) {
    pending_.clear();
    in_body_ = false;
    tls_wanted_ = false;
    if (failure) {
        failed_ = true;
        result_.failure = failure;
        result_.failure_text = std::move(text);
    } else {
        ended_ = true;
    }
}

void client_session::send_line(std::string line, expect what, std::size_t index, std::string_view shown) {
    if (trace_) trace_(false, shown.empty() ? std::string_view(line) : shown);
    out_ += line;
    out_ += "\r\n";
    pending_.push_back({what, index});
}

void client_session::receive(std::span<const char> bytes) {
    if (ended_ || failed_) return;
    parser_.feed(bytes);
    while (!ended_ && !failed_ && !tls_wanted_) {
        auto r = parser_.next();
        if (!r) break;
        ++replies_seen_;
        const bool auth_challenge = !pending_.empty() && pending_.front().what == expect::auth && r->code == 334;
        if (trace_)
            for (std::size_t i = 0; i < r->lines.size(); ++i) {
                std::string line = std::to_string(r->code) + (i + 1 < r->lines.size() ? "-" : " ");
                if (r->esc) line += r->esc->to_string() + " ";
                std::string text = auth_challenge ? std::string("****") : r->lines[i];
                for (char& c : text)  // a transcript goes to a terminal: no escape sequences from the server
                    if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) c = '?';
                trace_(true, line + text);
            }
        if (pending_.empty()) return finish(client_failure::protocol, "reply without a command: " + reply_text(*r));
        handle(*r);
    }
    if (parser_.error()) finish(client_failure::protocol, *parser_.error());
}

void client_session::handle(const reply& r) {
    const pending_reply p = pending_.front();
    pending_.pop_front();
    last_read_ = p.what;
    // RFC 5321 §3.8: 421 closes the session whatever it answers (a QUIT is pointless).
    if (r.code == 421 && p.what != expect::quit) {
        if (p.what == expect::greeting) result_.greeting = r;
        if (p.what == expect::ehlo || p.what == expect::helo) result_.hello = r;
        if (msg_) {  // keep it with the message it answered
            auto& tx = current();
            if (p.what == expect::mail) tx.mail = r;
            else if (p.what == expect::rcpt) tx.rcpts[p.index] = r;
            else if (p.what != expect::rset) tx.data = r;
        }
        return finish(client_failure::rejected, reply_text(r));
    }
    switch (p.what) {
    case expect::greeting: return on_greeting(r);
    case expect::ehlo: return on_hello(r, true);
    case expect::helo: return on_hello(r, false);
    case expect::starttls: return on_starttls(r);
    case expect::auth: return on_auth(r);
    case expect::quit: return finish(std::nullopt, {});
    default: return on_transaction_reply(p, r);
    }
}

void client_session::on_greeting(const reply& r) {
    result_.greeting = r;
    if (r.code != 220) {  // RFC 5321 §3.1: 554 (or anything else): say QUIT and go
        result_.failure_text = reply_text(r);
        send_line("QUIT", expect::quit);
        result_.failure = client_failure::rejected;
        return;
    }
    send_line("EHLO " + cfg_.helo_name, expect::ehlo);
}

void client_session::on_hello(const reply& r, bool extended) {
    result_.hello = r;
    if (r.code != 250) {
        // §3.2: a server that does not know EHLO says 500/502 (or 5xx): fall back to HELO.
        if (extended && r.permanent()) return send_line("HELO " + cfg_.helo_name, expect::helo);
        return finish(client_failure::rejected, reply_text(r));
    }
    result_.caps = capabilities{};
    result_.caps.esmtp = extended;
    if (extended)
        for (std::size_t i = 1; i < r.lines.size(); ++i) {
            const std::string& l = r.lines[i];
            result_.caps.lines.push_back(l);
            const std::string_view kw = std::string_view(l).substr(0, l.find(' '));
            const std::string_view rest = l.find(' ') == std::string::npos ? std::string_view{} : std::string_view(l).substr(l.find(' ') + 1);
            if (iequals(kw, "SIZE") && !rest.empty()) {
                std::uint64_t v = 0;
                bool ok = rest.size() <= 19;  // fits in 64 bits
                for (char c : rest) {
                    ok = ok && is_digit(c);
                    v = v * 10 + static_cast<std::uint64_t>(c - '0');
                }
                if (ok && v > 0) result_.caps.size = v;  // RFC 1870: "SIZE 0" means no limit
            } else if (iequals(kw, "AUTH")) {
                for (std::size_t pos = 0; pos < rest.size();) {
                    const std::size_t sp = std::min(rest.find(' ', pos), rest.size());
                    if (sp > pos) result_.caps.auth.push_back(to_upper(rest.substr(pos, sp - pos)));
                    pos = sp + 1;
                }
            }
        }
    after_hello();
}

void client_session::after_hello() {
    const bool offered = result_.caps.has("STARTTLS");
    if (!result_.tls) result_.starttls_offered = offered;
    if (!result_.tls && (cfg_.tls == client_tls::opportunistic || cfg_.tls == client_tls::required)) {
        if (offered) return send_line("STARTTLS", expect::starttls);
        if (cfg_.tls == client_tls::required) {
            send_line("QUIT", expect::quit);
            result_.failure = client_failure::tls;
            result_.failure_text = "the server does not offer STARTTLS";
            return;
        }
    }
    if ((auth_ || choose_auth_) && !result_.authenticated) return begin_auth();
    next_transaction();
}

void client_session::on_starttls(const reply& r) {
    result_.starttls = r;
    if (r.code == 220) {
        // RFC 3207 §4.2 (and CVE-2011-0411 the other way round): nothing the server sent in clear
        // after the 220 may be read as if it came inside TLS.
        if (parser_.discard() > 0) return finish(client_failure::protocol, "the server sent data after 220 to STARTTLS");
        tls_wanted_ = true;
        return;
    }
    if (cfg_.tls == client_tls::required) {
        send_line("QUIT", expect::quit);
        result_.failure = client_failure::tls;
        result_.failure_text = "STARTTLS refused: " + reply_text(r);
        return;
    }
    if ((auth_ || choose_auth_) && !result_.authenticated) return begin_auth();
    next_transaction();
}

void client_session::tls_started() {
    tls_wanted_ = false;
    result_.tls = true;
    result_.caps = capabilities{};  // RFC 3207 §4.2: forget what the server said in clear
    send_line("EHLO " + cfg_.helo_name, expect::ehlo);
}

void client_session::begin_auth() {
    if (choose_auth_) {
        std::string why;
        auth_ = choose_auth_(result_.caps.auth, result_.tls, why);
        if (!auth_) {
            send_line("QUIT", expect::quit);
            result_.failure = client_failure::auth;
            result_.failure_text = why;
            return;
        }
    }
    const std::string mech = auth_->name();
    if (std::find(result_.caps.auth.begin(), result_.caps.auth.end(), mech) == result_.caps.auth.end()) {
        send_line("QUIT", expect::quit);
        result_.failure = client_failure::auth;
        result_.failure_text = result_.caps.auth.empty() ? "the server offers no AUTH" + std::string(result_.tls ? "" : " (without TLS)")
                                                          : "the server does not offer AUTH " + mech;
        return;
    }
    auto ir = auth_->initial_response();
    std::string line = "AUTH " + mech;
    if (ir) line += " " + (ir->empty() ? std::string("=") : message::base64_encode(*ir));
    send_line(line, expect::auth, 0, ir ? "AUTH " + mech + " ****" : std::string_view{});
}

void client_session::on_auth(const reply& r) {
    if (r.code == 334) {
        const std::string_view text = r.lines.empty() ? std::string_view{} : std::string_view(r.lines.front());
        auto challenge = message::base64_decode(text);
        auto answer = challenge ? auth_->respond(*challenge) : std::nullopt;
        if (!answer) return send_line("*", expect::auth);  // cancel: the server answers 501
        return send_line(message::base64_encode(*answer), expect::auth, 0, "****");
    }
    result_.auth = r;
    if (r.code != 235) {
        send_line("QUIT", expect::quit);
        result_.failure = client_failure::auth;
        result_.failure_text = "AUTH " + auth_->name() + " failed: " + reply_text(r);
        return;
    }
    if (!auth_->complete()) {  // a 235 before the server proved itself (SCRAM): not believed
        send_line("QUIT", expect::quit);
        result_.failure = client_failure::auth;
        result_.failure_text = "AUTH " + auth_->name() + ": the server said 235 without proving it knows the password";
        return;
    }
    result_.authenticated = true;
    next_transaction();
}

}  // namespace postern::proto
