// SPDX-License-Identifier: MIT
#pragma once
/// The receiving side of SMTP as a sans-I/O state machine: bytes in, events and bytes out.
///
/// When to call what:
///   greet() (or refuse()) once; then loop:
///     receive(bytes read from the peer);
///     while (auto ev = next_event()) { ... respond(...) for the events that wait for a decision ... }
///     send take_output() to the peer; close when closing() is true.
///   timeout() when the peer was idle too long, shutdown() when the server stops.
/// Sequencing errors, syntax errors and over-long lines are answered here: next_event() never
/// yields, say, a MAIL before EHLO. Replies to pipelined commands (RFC 2920) accumulate in the
/// output until the driver sends it, which it does whenever next_event() has nothing more.
#include "proto/command.hpp"
#include "proto/data_decoder.hpp"
#include "proto/events.hpp"
#include "proto/reply.hpp"
#include "proto/session_config.hpp"

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace postern::proto {

enum class server_state { greeting, ready, in_data, in_bdat, in_auth, starting_tls, closing };

class server_session {
public:
    /// `cfg` must outlive the session (it is shared by every session of a listener).
    explicit server_session(const session_config& cfg);

    void greet();                        ///< 220 <host> ESMTP ...
    void refuse(const reply& r);         ///< a 421 instead of the greeting; then closing()
    void receive(std::span<const char> bytes);
    void receive(std::string_view bytes) { receive(std::span<const char>(bytes.data(), bytes.size())); }

    /// The next event, or nothing when more input is needed, a decision is awaited, or closing.
    std::optional<event> next_event();
    /// Answers the pending decision: nullopt accepts with the default reply; a positive reply
    /// accepts with that text (e.g. replies::queued(id)); a 4xx/5xx reply refuses.
    void respond(std::optional<reply> r = std::nullopt);
    bool awaiting_decision() const noexcept { return pending_ != pending::none; }

    /// TLS is up: after the STARTTLS handshake (the session forgets HELO, AUTH and the
    /// transaction, and waits for a new EHLO; RFC 3207 §4.2), or before greet() on an
    /// implicit-TLS listener (RFC 8314).
    void tls_started();
    bool tls_active() const noexcept { return tls_; }

    /// Answers a pending auth_event / auth_response_event with a 334 challenge (raw octets,
    /// base64-encoded here); the client's answer comes back as auth_response_event.
    void auth_continue(std::string_view challenge);
    /// Answers a pending auth event with 235: the session is authenticated as `user`.
    void auth_succeeded(std::string user);
    const std::optional<std::string>& authenticated_user() const noexcept { return user_; }

    void timeout();    ///< 421 4.4.2 and closing
    void shutdown();   ///< 421 4.3.2 and closing
    /// Ends the session at once (peer gone): reports a started message as aborted by next_event().
    void connection_lost();

    std::string take_output() { return std::exchange(out_, std::string{}); }
    bool has_output() const noexcept { return !out_.empty(); }
    bool closing() const noexcept { return state_ == server_state::closing; }
    server_state state() const noexcept { return state_; }
    /// Why the session is closing: "quit", "timeout", "shutdown", "too many errors", "refused", "connection lost".
    std::string_view close_reason() const noexcept { return close_reason_; }

    /// The transaction in progress (valid between MAIL and the end of its message).
    const transaction* current_transaction() const noexcept { return tx_ ? &*tx_ : nullptr; }
    const std::optional<std::string>& helo() const noexcept { return helo_; }
    bool extended() const noexcept { return extended_; }
    /// Nothing is half-received: no transaction open and no input buffered.
    bool idle() const noexcept { return !tx_ && in_pos_ == in_.size() && pending_ == pending::none; }
    std::size_t messages_accepted() const noexcept { return messages_; }

    /// Optional wire trace: command lines in, reply lines out (message data is not traced).
    using tracer = std::function<void(bool inbound, std::string_view line)>;
    void set_tracer(tracer t) { trace_ = std::move(t); }

private:
    enum class pending { none, hello, mail, rcpt, data, message, vrfy, auth };

    // Input
    std::optional<std::string_view> take_line();
    void dispatch(std::string_view line);
    bool step_data();   // false: more input is needed
    bool step_bdat();
    void compact_input();

    // One handler per command (server_commands.cpp)
    void on_hello(std::string_view arg, bool extended);
    void on_mail(std::string_view arg);
    void on_rcpt(std::string_view arg);
    void on_data(std::string_view arg);
    void on_bdat(std::string_view arg);
    void on_rset(std::string_view arg);
    void on_noop(std::string_view arg);
    void on_quit(std::string_view arg);
    void on_vrfy(std::string_view arg);
    void on_help(std::string_view arg);
    void on_starttls(std::string_view arg);  // server_auth.cpp
    void on_auth(std::string_view arg);
    void on_auth_response(std::string_view line);
    std::optional<reply> check_auth(std::string_view mechanism) const;
    void trace_auth_line(std::string_view line);

    // Guards decide the reply and change nothing.
    std::optional<reply> check_mail() const;
    std::optional<reply> check_rcpt() const;
    std::optional<reply> check_data() const;
    std::optional<reply> check_bdat() const;

    // Effects
    void send(const reply& r);
    void send_error(const reply& r);
    void enter_state(server_state next) noexcept { state_ = next; }
    void close(std::string_view why) noexcept {
        if (state_ != server_state::closing) close_reason_ = why;
        state_ = server_state::closing;
    }
    void await_decision(event ev, pending p);
    void abort_message(std::string_view reason);
    void drop_message(const reply& r, std::string_view reason);
    void reset_transaction();
    void begin_chunk(std::uint64_t size, bool last, std::optional<reply> refusal);
    void finish_chunk();
    void start_message();
    reply ehlo_reply(std::string_view client) const;
    void accept_pending(const std::optional<reply>& r);
    void refuse_pending(const reply& r);

    const session_config& cfg_;
    server_state state_ = server_state::greeting;
    pending pending_ = pending::none;

    std::string in_;
    std::size_t in_pos_ = 0;
    bool discarding_line_ = false;  // inside a command line that was too long
    std::string out_;
    std::string body_;              // decoded octets handed out by body_event

    std::optional<std::string> helo_;
    bool extended_ = false;
    std::optional<transaction> tx_;
    std::vector<event> queue_;      // events not yet handed out (at most a few)
    std::optional<event> held_;     // a copy of the event waiting for respond()
    std::size_t errors_ = 0;
    std::size_t messages_ = 0;

    data_decoder decoder_;
    bool data_done_ = false;        // end of data seen; the message_event is next
    bool message_dropped_ = false;  // too big or bare line ending: consume, then refuse
    std::optional<reply> drop_reply_;

    std::uint64_t chunk_left_ = 0;  // BDAT octets still to read
    bool chunk_last_ = false;
    std::optional<reply> chunk_refusal_;  // reply for a BDAT refused before its data
    std::uint64_t chunk_size_ = 0;

    bool tls_ = false;
    std::optional<std::string> user_;  // authenticated identity (AUTH succeeded)

    tracer trace_;
    std::string_view close_reason_;
};

}  // namespace postern::proto
