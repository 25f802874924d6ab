// SPDX-License-Identifier: MIT
// Theory of operation.
//
// The session owns an input buffer, an output buffer and a small queue of events. receive()
// only appends to the input. next_event() turns input into events, one command at a time:
//   ready      a command line is taken (up to LF; CR before it dropped) and dispatched to its
//              handler (server_commands.cpp). A handler either answers at once (syntax and
//              sequence errors, NOOP, RSET, HELP) or queues an event that waits for respond().
//   in_data    the data_decoder turns input into body octets (body_event) until CRLF.CRLF;
//              then a message_event waits for respond() (the driver makes the message durable).
//   in_bdat    exactly the announced number of octets is read as body (RFC 3030).
//   closing    after QUIT, a 421, or the loss of the connection: input is ignored.
// While a decision is pending, no further input is looked at: pipelined commands (RFC 2920)
// wait in the buffer, so replies leave in command order. A message that goes over the size
// limit, or that has a bare CR/LF under the reject policy, is dropped at once (message_aborted)
// but its data is still read to the end, so the session stays in step with the client.
#include "proto/server_session.hpp"

#include "proto/replies.hpp"
#include "proto/text.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace postern::proto {

server_session::server_session(const session_config& cfg) : cfg_(cfg), decoder_(cfg.bare_line_ending) {}

void server_session::greet() {
    send(replies::greeting(cfg_.hostname, cfg_.greeting));
    enter_state(server_state::ready);
}

void server_session::refuse(const reply& r) {
    send(r);
    close("refused");
}

void server_session::receive(std::span<const char> bytes) {
    if (state_ == server_state::closing) return;
    in_.append(bytes.data(), bytes.size());
}

void server_session::send(const reply& r) {
    const std::size_t from = out_.size();
    write_reply(r, cfg_.ext.enhanced_status_codes, out_);
    if (!trace_) return;
    std::string_view written{out_.data() + from, out_.size() - from};
    while (!written.empty()) {
        const auto eol = written.find("\r\n");
        trace_(false, written.substr(0, eol));
        written.remove_prefix(std::min(written.size(), eol + 2));
    }
}

void server_session::send_error(const reply& r) {
    send(r);
    if (++errors_ >= cfg_.limits.max_errors && state_ != server_state::closing) {
        send(replies::too_many_errors());
        abort_message("too many errors");
        close("too many errors");
    }
}

void server_session::timeout() {
    abort_message("idle timeout");
    send(replies::idle_timeout());
    close("timeout");
}

void server_session::shutdown() {
    abort_message("shutdown");
    send(replies::shutting_down());
    close("shutdown");
}

void server_session::connection_lost() {
    abort_message("connection lost");
    close("connection lost");
}

std::optional<event> server_session::next_event() {
    for (;;) {
        if (!queue_.empty()) {
            event ev = std::move(queue_.front());
            queue_.erase(queue_.begin());
            return ev;
        }
        if (pending_ != pending::none || state_ == server_state::closing || state_ == server_state::greeting ||
            state_ == server_state::starting_tls) {
            compact_input();
            return std::nullopt;
        }
        if (state_ == server_state::in_data) {
            if (!step_data()) break;
        } else if (state_ == server_state::in_bdat) {
            if (!step_bdat()) break;
        } else {
            const bool auth_line = state_ == server_state::in_auth;
            auto line = take_line();
            if (!line) break;
            if (auth_line) on_auth_response(*line);
            else dispatch(*line);
        }
    }
    compact_input();
    return std::nullopt;
}

void server_session::compact_input() {
    if (in_pos_ == 0) return;
    if (in_pos_ >= in_.size()) {
        in_.clear();
        // An idle session keeps no large buffer: release what a burst left behind.
        if (in_.capacity() > 4096) std::string().swap(in_);
    } else {
        in_.erase(0, in_pos_);
    }
    in_pos_ = 0;
}

std::optional<std::string_view> server_session::take_line() {
    std::size_t hard_limit = cfg_.limits.max_command_line + (cfg_.ext.dsn ? 512 : 0);
    if (!cfg_.auth_mechanisms.empty()) hard_limit = std::max(hard_limit, cfg_.max_auth_line);
    for (;;) {
        const char* begin = in_.data() + in_pos_;
        const std::size_t avail = in_.size() - in_pos_;
        const void* lf = avail ? std::memchr(begin, '\n', avail) : nullptr;
        if (!lf) {
            if (avail > hard_limit) {  // keep memory bounded: drop the line, answer at its end
                discarding_line_ = true;
                in_pos_ = in_.size();
            }
            return std::nullopt;
        }
        const std::size_t len = static_cast<const char*>(lf) - begin + 1;  // LF included
        std::string_view line{begin, len - 1};
        in_pos_ += len;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (discarding_line_ || len > hard_limit) {
            discarding_line_ = false;
            if (trace_) trace_(true, "(line too long)");
            if (state_ == server_state::in_auth) {  // RFC 4954 §4: 500 5.5.6 ends the exchange
                enter_state(server_state::ready);
                send_error(replies::auth_line_too_long());
            } else {
                send_error(replies::line_too_long());
            }
            if (state_ == server_state::closing) return std::nullopt;
            continue;
        }
        return line;
    }
}

void server_session::dispatch(std::string_view line) {
    const command_line cmd = split_command(line);
    // AUTH payloads never reach a log, whatever separates them from the verb.
    if (cmd.v == verb::auth || (line.size() > 4 && istarts_with(line, "AUTH") && !is_alpha(line[4]))) trace_auth_line(line);
    else if (trace_) trace_(true, line);
    for (char c : line) {
        if (c == '\0' || c == '\r') {
            send_error(replies::bad_characters());
            return;
        }
    }
    const bool extended_verb = cmd.v == verb::mail || cmd.v == verb::rcpt;
    const std::size_t limit = cmd.v == verb::auth && !cfg_.auth_mechanisms.empty() ? cfg_.max_auth_line
                                                                                  : cfg_.limits.max_command_line;
    if (!extended_verb && line.size() + 2 > limit) {
        send_error(replies::line_too_long());
        return;
    }
    switch (cmd.v) {
    case verb::ehlo: return on_hello(cmd.arg, true);
    case verb::helo: return on_hello(cmd.arg, false);
    case verb::mail: return on_mail(cmd.arg);
    case verb::rcpt: return on_rcpt(cmd.arg);
    case verb::data: return on_data(cmd.arg);
    case verb::bdat: return cfg_.ext.chunking ? on_bdat(cmd.arg) : send_error(replies::unknown_command());
    case verb::rset: return on_rset(cmd.arg);
    case verb::noop: return on_noop(cmd.arg);
    case verb::quit: return on_quit(cmd.arg);
    case verb::vrfy: return cfg_.ext.vrfy ? on_vrfy(cmd.arg) : send_error(replies::not_implemented());
    case verb::help: return cfg_.ext.help ? on_help(cmd.arg) : send_error(replies::not_implemented());
    case verb::starttls: return on_starttls(cmd.arg);
    case verb::auth: return on_auth(cmd.arg);
    case verb::expn:
    case verb::etrn:
    case verb::turn:
    case verb::atrn: return send_error(replies::not_implemented());
    case verb::unknown: return send_error(replies::unknown_command());
    }
}

bool server_session::step_data() {
    if (data_done_) {
        data_done_ = false;
        enter_state(server_state::ready);
        if (message_dropped_) {
            send_error(*drop_reply_);
            reset_transaction();
        } else {
            queue_.emplace_back(message_event{tx_->size});
            pending_ = pending::message;
        }
        return true;
    }
    if (in_pos_ == in_.size()) return false;
    body_.clear();
    const auto r = decoder_.feed(std::string_view{in_}.substr(in_pos_), body_, message_dropped_);
    in_pos_ += r.consumed;
    data_done_ = r.done;
    if (!message_dropped_) {
        tx_->size += body_.size();
        if (tx_->size > cfg_.limits.max_message_size)
            drop_message(replies::message_too_big(), "message too big");
        else if (cfg_.bare_line_ending == bare_line_policy::reject && decoder_.saw_bare_line_ending())
            drop_message(replies::bare_line_ending(), "bare CR or LF");
        else if (!body_.empty())
            queue_.emplace_back(body_event{body_});
    }
    return true;
}

bool server_session::step_bdat() {
    if (chunk_left_ == 0) {
        finish_chunk();
        return true;
    }
    if (in_pos_ == in_.size()) return false;
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk_left_, in_.size() - in_pos_));
    std::string_view bytes{in_.data() + in_pos_, n};
    in_pos_ += n;
    chunk_left_ -= n;
    if (chunk_refusal_ || message_dropped_) return true;  // read and thrown away
    tx_->size += n;
    if (tx_->size > cfg_.limits.max_message_size) {
        drop_message(replies::message_too_big(), "message too big");
        return true;
    }
    body_.assign(bytes);
    queue_.emplace_back(body_event{body_});
    return true;
}

void server_session::drop_message(const reply& r, std::string_view reason) {
    queue_.emplace_back(message_aborted_event{reason});
    message_dropped_ = true;
    drop_reply_ = r;
    body_.clear();
}

void server_session::begin_chunk(std::uint64_t size, bool last, std::optional<reply> refusal) {
    chunk_left_ = size;
    chunk_size_ = size;
    chunk_last_ = last;
    chunk_refusal_ = std::move(refusal);
    if (!chunk_refusal_ && !tx_->message_started) {
        tx_->chunked = true;
        queue_.emplace_back(data_event{true});
        pending_ = pending::data;
        return;
    }
    enter_state(server_state::in_bdat);
}

void server_session::finish_chunk() {
    enter_state(server_state::ready);
    if (chunk_refusal_) {
        if (tx_) tx_->failed = true;
        send_error(*std::exchange(chunk_refusal_, std::nullopt));
    } else if (message_dropped_) {
        tx_->failed = true;
        send_error(*drop_reply_);
    } else if (chunk_last_) {
        queue_.emplace_back(message_event{tx_->size});
        pending_ = pending::message;
    } else {
        send(replies::chunk_received(chunk_size_));
    }
}

void server_session::abort_message(std::string_view reason) {
    if (tx_ && tx_->message_started && !message_dropped_) {
        queue_.emplace_back(message_aborted_event{reason});
        message_dropped_ = true;
    }
}

void server_session::reset_transaction() {
    tx_.reset();
    data_done_ = false;
    message_dropped_ = false;
    drop_reply_.reset();
    chunk_refusal_.reset();
    chunk_left_ = 0;
    if (body_.capacity() > 4096) std::string().swap(body_);
}

void server_session::start_message() {
    tx_->message_started = true;
    decoder_.reset(cfg_.bare_line_ending);
    data_done_ = false;
    message_dropped_ = false;
}

}  // namespace postern::proto
