// SPDX-License-Identifier: MIT
// STARTTLS (RFC 3207) and AUTH (RFC 4954): the handlers, the TLS reset and the AUTH exchange.
//
// STARTTLS: 220, then whatever the client pipelined behind the command is thrown away (it was
// sent in clear and must never run inside TLS: CVE-2011-0411), and the session waits in
// starting_tls until the driver reports the handshake with tls_started(). That resets the
// session to "connected, no EHLO yet".
//
// AUTH: the mechanism itself (PLAIN, SCRAM, ...) lives outside the core; the session checks the
// sequence, decodes base64 and hands raw octets to the driver as auth_event/auth_response_event.
// The driver answers with auth_continue() (334 <base64>), auth_succeeded() (235) or a refusal.
#include "message/base64.hpp"
#include "proto/replies.hpp"
#include "proto/server_session.hpp"
#include "proto/text.hpp"

namespace postern::proto {

using message::base64_decode;
using message::base64_encode;

void server_session::on_starttls(std::string_view arg) {
    if (!arg.empty()) return send_error(replies::syntax(syntax_of(verb::starttls)));
    if (tls_) return send_error(replies::bad_sequence("TLS already active"));
    if (!cfg_.starttls) return send_error(replies::tls_not_available());
    send(replies::ready_for_tls());
    const std::size_t discarded = in_.size() - in_pos_;
    in_pos_ = in_.size();
    enter_state(server_state::starting_tls);
    queue_.emplace_back(starttls_event{discarded});
}

void server_session::tls_started() {
    tls_ = true;
    in_.clear();
    in_pos_ = 0;
    discarding_line_ = false;
    abort_message("STARTTLS");
    reset_transaction();
    helo_.reset();
    extended_ = false;
    user_.reset();
    if (state_ == server_state::starting_tls) enter_state(server_state::ready);
}

std::optional<reply> server_session::check_auth(std::string_view mechanism) const {
    if (cfg_.auth_mechanisms.empty()) return replies::not_implemented();
    if (!helo_ || !extended_) return replies::bad_sequence("Send EHLO first");
    if (user_) return replies::bad_sequence("Already authenticated");
    if (tx_) return replies::bad_sequence("AUTH not allowed during a mail transaction");
    if (mechanism.empty()) return replies::syntax(syntax_of(verb::auth));
    if (cfg_.auth_requires_tls && !tls_) return replies::auth_needs_tls();
    for (const auto& m : cfg_.auth_mechanisms)
        if (iequals(m, mechanism)) return std::nullopt;
    return replies::auth_unknown_mechanism();
}

void server_session::on_auth(std::string_view arg) {
    arg = trim_spaces(arg);
    const auto sp = arg.find(' ');
    const std::string_view mechanism = arg.substr(0, sp);
    const std::string_view initial = sp == std::string_view::npos ? std::string_view{} : trim_spaces(arg.substr(sp + 1));
    if (auto r = check_auth(mechanism)) return send_error(*r);
    if (sp != std::string_view::npos && initial.find(' ') != std::string_view::npos)
        return send_error(replies::syntax(syntax_of(verb::auth)));
    auth_event ev{to_upper(mechanism), std::nullopt};
    if (sp != std::string_view::npos && !initial.empty()) {
        if (initial == "=") {
            ev.initial_response = std::string{};  // RFC 4954 §4: "=" is an empty initial response
        } else {
            auto raw = base64_decode(initial);
            if (!raw) return send_error(replies::auth_bad_base64());
            ev.initial_response = std::move(*raw);
        }
    }
    await_decision(std::move(ev), pending::auth);
}

void server_session::on_auth_response(std::string_view line) {
    if (trace_) trace_(true, line == "*" ? "*" : "(AUTH response)");
    enter_state(server_state::ready);
    if (line == "*") return send_error(replies::auth_cancelled());
    auto raw = base64_decode(line);
    if (!raw) return send_error(replies::auth_bad_base64());
    await_decision(auth_response_event{std::move(*raw)}, pending::auth);
}

void server_session::auth_continue(std::string_view challenge) {
    if (pending_ != pending::auth) return;
    pending_ = pending::none;
    held_.reset();
    send(replies::auth_challenge(base64_encode(challenge)));
    enter_state(server_state::in_auth);
}

void server_session::auth_succeeded(std::string user) {
    if (pending_ != pending::auth) return;
    pending_ = pending::none;
    held_.reset();
    user_ = std::move(user);
    send(replies::auth_ok());
    enter_state(server_state::ready);
}

void server_session::trace_auth_line(std::string_view line) {
    if (!trace_) return;
    // "AUTH PLAIN <initial response>": the mechanism is kept (when it is plainly one word after
    // "AUTH "), everything after it masked; any other shape is masked after the verb.
    const std::string_view rest = line.substr(std::min<std::size_t>(5, line.size()));
    const bool plain_shape = line.size() > 5 && line[4] == ' ';
    const auto end = plain_shape ? rest.find_first_of(" \t") : std::string_view::npos;
    if (plain_shape && end == std::string_view::npos) return trace_(true, line);
    trace_(true, std::string(line.substr(0, plain_shape ? 5 + end : 4)) + " ****");
}

}  // namespace postern::proto
