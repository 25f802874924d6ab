// SPDX-License-Identifier: MIT
// One handler per SMTP command, the guards that decide their replies, and respond().
#include "proto/replies.hpp"
#include "proto/server_session.hpp"
#include "proto/text.hpp"

#include <charconv>

namespace postern::proto {
namespace {

// RFC 5321 §4.1.1.1: EHLO/HELO take a Domain or an address literal. Clients in the wild send
// host names with '_' too; anything with spaces inside a literal, controls or punctuation is refused.
bool is_hello_domain(std::string_view d) {
    if (d.empty()) return false;
    if (d.front() == '[') {
        if (d.size() < 3 || d.back() != ']') return false;
        for (unsigned char c : d)
            if (c <= ' ' || c == 127) return false;
        return true;
    }
    for (unsigned char c : d)
        if (!(is_alnum(static_cast<char>(c)) || c == '-' || c == '.' || c == '_' || c >= 0x80)) return false;
    return true;
}


// Bracket structure errors are syntax (501); a malformed mailbox inside the brackets is 553;
// a UTF-8 address without SMTPUTF8 is 553 5.6.7. `syntax` and `address` carry 5.1.7 or 5.1.3.
reply path_error(const std::error_code& ec, reply (*syntax)(std::string_view), reply (*address)(std::string_view)) {
    using message::address_errc;
    switch (static_cast<address_errc>(ec.value())) {
    case address_errc::empty:
    case address_errc::missing_bracket:
    case address_errc::unterminated:
    case address_errc::trailing_garbage: return syntax(ec.message());
    case address_errc::non_ascii: return replies::non_ascii_address();
    default: return address(ec.message());
    }
}

// "FROM:" / "TO:" then the path; RFC 5321 has no space after the colon, but many clients send one.
std::optional<std::string_view> after_keyword(std::string_view arg, std::string_view keyword) {
    if (!istarts_with(arg, keyword)) return std::nullopt;
    arg.remove_prefix(keyword.size());
    while (!arg.empty() && arg.front() == ' ') arg.remove_prefix(1);
    return arg;
}

}  // namespace

void server_session::await_decision(event ev, pending p) {
    held_ = ev;
    queue_.push_back(std::move(ev));
    pending_ = p;
}

reply server_session::ehlo_reply(std::string_view client) const {
    reply r = replies::hello(cfg_.hostname, client);
    const auto& e = cfg_.ext;
    if (e.pipelining) r.lines.emplace_back("PIPELINING");
    if (e.size) r.lines.push_back("SIZE " + std::to_string(cfg_.limits.max_message_size));
    if (e.eightbitmime) r.lines.emplace_back("8BITMIME");
    if (e.smtputf8 && e.eightbitmime) r.lines.emplace_back("SMTPUTF8");
    if (e.enhanced_status_codes) r.lines.emplace_back("ENHANCEDSTATUSCODES");
    if (e.chunking) r.lines.emplace_back("CHUNKING");
    if (e.chunking && e.binarymime) r.lines.emplace_back("BINARYMIME");
    if (e.dsn) r.lines.emplace_back("DSN");
    if (e.help) r.lines.emplace_back("HELP");
    if (cfg_.starttls && !tls_) r.lines.emplace_back("STARTTLS");
    if (!cfg_.auth_mechanisms.empty() && (tls_ || !cfg_.auth_requires_tls)) {
        std::string line = "AUTH";
        for (const auto& m : cfg_.auth_mechanisms) line += " " + m;
        r.lines.push_back(std::move(line));
    }
    if (tls_ && cfg_.requiretls) r.lines.emplace_back("REQUIRETLS");
    return r;
}

void server_session::on_hello(std::string_view arg, bool extended) {
    arg = trim_spaces(arg);
    const std::string_view domain = arg.substr(0, arg.find(' '));
    if (!is_hello_domain(domain)) return send_error(replies::syntax(syntax_of(extended ? verb::ehlo : verb::helo)));
    // RFC 5321 §4.1.4: a repeated EHLO resets the transaction exactly as RSET does.
    abort_message("EHLO");
    reset_transaction();
    await_decision(hello_event{std::string(domain), extended}, pending::hello);
}

std::optional<reply> server_session::check_mail() const {
    if (!helo_) return replies::bad_sequence("Send HELO/EHLO first");
    if (tx_) return replies::bad_sequence("Nested MAIL command");
    if (cfg_.auth_required && !user_) return replies::auth_required();
    return std::nullopt;
}

void server_session::on_mail(std::string_view arg) {
    if (auto r = check_mail()) return send_error(*r);
    auto rest = after_keyword(arg, "FROM:");
    if (!rest) return send_error(replies::syntax(syntax_of(verb::mail)));
    auto parsed = message::parse_path(*rest, message::path_kind::reverse, cfg_.ext.smtputf8);
    if (!parsed) return send_error(path_error(parsed.error(), replies::bad_sender_syntax, replies::bad_sender_address));
    std::string_view params_text = trim_spaces(rest->substr(parsed->consumed));
    if (!extended_ && !params_text.empty()) return send_error(replies::unknown_parameter(params_text));
    auto params = parse_mail_params(params_text, cfg_);
    if (auto* r = std::get_if<reply>(&params)) return send_error(*r);
    auto& p = std::get<mail_params>(params);
    if (parsed->value.mbox && parsed->value.mbox->utf8() && !p.smtputf8) return send_error(replies::non_ascii_address());
    if (p.size && *p.size > cfg_.limits.max_message_size) return send_error(replies::declared_too_big());
    if (p.requiretls && !(tls_ && cfg_.requiretls)) return send_error(replies::unknown_parameter("REQUIRETLS"));
    if (p.auth && cfg_.auth_mechanisms.empty()) return send_error(replies::unknown_parameter("AUTH"));
    // RFC 4954 §5: from a client that has not authenticated, AUTH= is taken as AUTH=<>.
    if (p.auth && !user_) p.auth = "<>";
    await_decision(mail_event{std::move(parsed->value), std::move(p)}, pending::mail);
}

std::optional<reply> server_session::check_rcpt() const {
    if (!helo_) return replies::bad_sequence("Send HELO/EHLO first");
    if (!tx_) return replies::bad_sequence("Need MAIL before RCPT");
    return std::nullopt;
}

void server_session::on_rcpt(std::string_view arg) {
    if (auto r = check_rcpt()) return send_error(*r);
    auto rest = after_keyword(arg, "TO:");
    if (!rest) return send_error(replies::syntax(syntax_of(verb::rcpt)));
    auto parsed = message::parse_path(*rest, message::path_kind::forward, cfg_.ext.smtputf8);
    if (!parsed) return send_error(path_error(parsed.error(), replies::bad_recipient_syntax, replies::bad_recipient_address));
    std::string_view params_text = trim_spaces(rest->substr(parsed->consumed));
    if (!extended_ && !params_text.empty()) return send_error(replies::unknown_parameter(params_text));
    auto params = parse_rcpt_params(params_text, cfg_);
    if (auto* r = std::get_if<reply>(&params)) return send_error(*r);
    if (parsed->value.mbox && parsed->value.mbox->utf8() && !tx_->params.smtputf8)
        return send_error(replies::non_ascii_address());
    // RFC 5321 §4.5.3.1.10: 452 (not 5xx) so the client sends the rest in a later transaction.
    if (tx_->recipients.size() >= cfg_.limits.max_recipients) return send(replies::too_many_recipients());
    await_decision(rcpt_event{std::move(parsed->value), std::move(std::get<rcpt_params>(params))}, pending::rcpt);
}

std::optional<reply> server_session::check_data() const {
    if (!tx_) return replies::bad_sequence("Need MAIL command");
    if (tx_->recipients.empty()) {
        // RFC 5321 §3.3: 554 when every RCPT was refused, 503 when none was given.
        if (tx_->rejected_recipients > 0) return replies::no_valid_recipients();
        return replies::bad_sequence("Need RCPT command");
    }
    if (tx_->chunked) return replies::bad_sequence("DATA is not allowed after BDAT");
    if (tx_->params.body == body_type::binary_mime) return replies::bad_sequence("BODY=BINARYMIME requires BDAT");
    return std::nullopt;
}

void server_session::on_data(std::string_view arg) {
    if (!arg.empty()) return send_error(replies::syntax(syntax_of(verb::data)));
    if (auto r = check_data()) return send_error(*r);
    await_decision(data_event{false}, pending::data);
}

std::optional<reply> server_session::check_bdat() const {
    if (!tx_) return replies::bad_sequence("Need MAIL command");
    if (tx_->recipients.empty())
        return tx_->rejected_recipients > 0 ? replies::no_valid_recipients() : replies::bad_sequence("Need RCPT command");
    if (tx_->failed) return replies::bad_sequence("Transaction failed, send RSET");
    return std::nullopt;
}

void server_session::on_bdat(std::string_view arg) {
    // RFC 3030 §3: bdat-cmd = "BDAT" SP chunk-size [ SP end-marker ]
    const auto sp = arg.find(' ');
    const std::string_view size_text = arg.substr(0, sp);
    const std::string_view marker = sp == std::string_view::npos ? std::string_view{} : arg.substr(sp + 1);
    std::uint64_t size = 0;
    auto [p, ec] = std::from_chars(size_text.data(), size_text.data() + size_text.size(), size);
    const bool size_ok = !size_text.empty() && ec == std::errc{} && p == size_text.data() + size_text.size();
    if (!size_ok || (!marker.empty() && !iequals(marker, "LAST")))
        return send_error(replies::syntax(syntax_of(verb::bdat)));
    begin_chunk(size, !marker.empty(), check_bdat());
}

void server_session::on_rset(std::string_view arg) {
    if (!trim_spaces(arg).empty()) return send_error(replies::syntax(syntax_of(verb::rset)));
    abort_message("RSET");
    reset_transaction();
    send(replies::reset_ok());
}

void server_session::on_noop(std::string_view) { send(replies::ok()); }

void server_session::on_quit(std::string_view arg) {
    if (!trim_spaces(arg).empty()) return send_error(replies::syntax(syntax_of(verb::quit)));
    abort_message("QUIT");
    send(replies::closing());
    close("quit");
    queue_.emplace_back(quit_event{});
}

void server_session::on_vrfy(std::string_view arg) {
    arg = trim_spaces(arg);
    if (arg.empty()) return send_error(replies::syntax(syntax_of(verb::vrfy)));
    std::string_view bare = arg;
    if (bare.size() >= 2 && bare.front() == '<' && bare.back() == '>') bare = bare.substr(1, bare.size() - 2);
    std::optional<message::mailbox> mbox;
    if (auto m = message::parse_mailbox(bare, cfg_.ext.smtputf8)) mbox = std::move(*m);
    await_decision(vrfy_event{std::string(arg), std::move(mbox)}, pending::vrfy);
}

void server_session::on_help(std::string_view arg) {
    arg = trim_spaces(arg);
    const auto enabled = enabled_commands(cfg_, tls_);
    if (arg.empty()) {
        std::string cmds = "Commands:", exts = "Extensions:";
        for (verb v : enabled) cmds += " " + std::string(name_of(v));
        const reply caps = ehlo_reply("");
        for (std::size_t i = 1; i < caps.lines.size(); ++i) {
            exts += ' ';  // two appends, not `" " + line`: GCC 12 -O3 raises a false -Wrestrict on that
            exts += caps.lines[i];
        }
        return send({214, enhanced_code{2, 0, 0}, {cmds, exts, "HELP <command> gives its syntax"}});
    }
    const command_line topic = split_command(arg);
    for (verb v : enabled)
        if (v == topic.v) return send({214, enhanced_code{2, 0, 0}, {"Syntax: " + std::string(syntax_of(v))}});
    send_error(replies::help_unknown());
}

void server_session::respond(std::optional<reply> r) {
    if (pending_ == pending::none) return;
    if (r && !r->positive()) refuse_pending(*r);
    else accept_pending(r);
    held_.reset();
}

void server_session::accept_pending(const std::optional<reply>& r) {
    const pending p = std::exchange(pending_, pending::none);
    switch (p) {
    case pending::hello: {
        auto& ev = std::get<hello_event>(*held_);
        helo_ = ev.domain;
        extended_ = ev.extended;
        send(r ? *r : ev.extended ? ehlo_reply(ev.domain) : replies::hello(cfg_.hostname, ev.domain));
        break;
    }
    case pending::mail: {
        auto& ev = std::get<mail_event>(*held_);
        tx_.emplace();
        tx_->reverse_path = std::move(ev.reverse_path);
        tx_->params = std::move(ev.params);
        send(r ? *r : replies::sender_ok());
        break;
    }
    case pending::rcpt: {
        auto& ev = std::get<rcpt_event>(*held_);
        tx_->recipients.push_back({std::move(ev.forward_path), std::move(ev.params)});
        send(r ? *r : replies::recipient_ok());
        break;
    }
    case pending::data:
        start_message();
        if (tx_->chunked) {
            enter_state(server_state::in_bdat);
        } else {
            send(r ? *r : replies::start_data());
            enter_state(server_state::in_data);
        }
        break;
    case pending::message:
        ++messages_;
        send(r ? *r : replies::ok());
        reset_transaction();
        break;
    case pending::vrfy: send(r ? *r : replies::cannot_vrfy()); break;
    case pending::auth:  // a positive reply other than through auth_succeeded(): not a login
        enter_state(server_state::ready);
        send(r ? *r : replies::auth_failed());
        break;
    case pending::none: break;
    }
}

void server_session::refuse_pending(const reply& r) {
    const pending p = std::exchange(pending_, pending::none);
    switch (p) {
    case pending::rcpt: ++tx_->rejected_recipients; break;
    case pending::data:
        if (tx_->chunked) {  // the chunk's octets still arrive: read them, then refuse
            chunk_refusal_ = r;
            enter_state(server_state::in_bdat);
            return;
        }
        break;
    case pending::message: reset_transaction(); break;
    case pending::auth: enter_state(server_state::ready); break;
    default: break;
    }
    send_error(r);
    // RFC 5321 §3.8: a 421 means the server closes the channel (e.g. too many failed logins).
    if (r.code == 421 && state_ != server_state::closing) {
        abort_message("refused");
        close("refused");
    }
}

}  // namespace postern::proto
