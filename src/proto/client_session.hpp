// SPDX-License-Identifier: MIT
#pragma once
/// The SMTP client as a sans-I/O state machine (the Boost.MySQL `next_action` pattern): the
/// driver asks next_action() and does what it says, nothing else.
///
///   write      send take_output()
///   read       read some bytes and receive() them (the wait is bounded by timeout())
///   start_tls  run the TLS handshake on the connection, then tls_started() (or fail())
///   send_body  call body() with the next chunk of the message, or end_body() at its end
///   done       the session is over (QUIT answered, or the server closed with 421)
///   failed     the session is over; result().failure says why
///
/// What it does: greeting, EHLO (HELO when EHLO is refused), STARTTLS per client_tls, AUTH with
/// the given SASL mechanism, then each queued message: MAIL FROM and RCPT TO with their ESMTP
/// parameters (pipelined with DATA where PIPELINING is offered, RFC 2920), then DATA with
/// dot-stuffing after any CR or LF and CRLF.CRLF at the end (RFC 5321 §4.5.2), or BDAT chunks
/// where CHUNKING is offered (RFC 3030); a message without a body (a probe) ends with RSET after
/// its RCPTs. Then QUIT. Replies per message and recipient are kept in result().
/// Pure: no sockets, no clock (timeout() says how long the driver should wait, RFC 5321 §4.5.3.2).
#include "proto/params.hpp"
#include "proto/reply.hpp"
#include "proto/reply_parser.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace postern::proto {

enum class client_tls {
    none,               ///< never STARTTLS
    opportunistic,      ///< STARTTLS when offered; go on in clear when not, or when it is refused
    required,           ///< STARTTLS or fail (client_failure::tls)
    implicit,           ///< the driver made the TLS handshake before the greeting (RFC 8314)
};

enum class client_failure {
    connect,      ///< the driver could not connect
    timeout,      ///< the driver's wait ran out
    tls,          ///< STARTTLS not offered or refused where required, or the handshake failed
    protocol,     ///< the server broke the reply syntax, or sent data where it must not
    rejected,     ///< the greeting, EHLO/HELO or a 421 refused the session
    auth,         ///< AUTH failed, or the server offers no mechanism we can use
    unsupported,  ///< the message needs what the server does not offer (SMTPUTF8, SIZE too small)
    lost,         ///< the connection ended early
    local,        ///< our side failed (reading the message to send)
};
std::string_view failure_name(client_failure f);

/// A SASL mechanism, client side. PLAIN and LOGIN are below; SCRAM and CRAM-MD5 need crypto
/// and live in auth/.
class sasl_client {
public:
    virtual ~sasl_client() = default;
    virtual std::string name() const = 0;
    /// Raw octets for the AUTH line (RFC 4954 §4), or nullopt to wait for the first 334.
    virtual std::optional<std::string> initial_response() = 0;
    /// The answer to a (decoded) 334 challenge; nullopt cancels ("*").
    virtual std::optional<std::string> respond(std::string_view challenge) = 0;
    /// Whether a 235 now is believable: SCRAM only once the server has proved it knows the
    /// password (its signature checked); a 235 before that is a failure.
    virtual bool complete() const { return true; }
};
std::unique_ptr<sasl_client> make_plain_client(std::string user, std::string password);
std::unique_ptr<sasl_client> make_login_client(std::string user, std::string password);

/// Picks the mechanism once the EHLO reply is known: `offered` (upper case) and whether the
/// session is in TLS. nullptr: none of ours fits; `why` says so (client_failure::auth).
using sasl_chooser = std::function<std::unique_ptr<sasl_client>(const std::vector<std::string>& offered, bool tls,
                                                                std::string& why)>;

struct client_config {
    std::string helo_name = "localhost";
    client_tls tls = client_tls::opportunistic;
    bool pipelining = true;  ///< pipeline MAIL, RCPT and DATA where offered
    bool chunking = true;    ///< BDAT where offered
};

/// What the EHLO reply offered (RFC 5321 §4.1.1.1), keyword lines as received.
struct capabilities {
    bool esmtp = false;
    std::vector<std::string> lines;  ///< "PIPELINING", "SIZE 10240000", "AUTH PLAIN LOGIN", ...
    std::optional<std::uint64_t> size;
    std::vector<std::string> auth;   ///< mechanism names, upper case
    bool has(std::string_view keyword) const;
};

struct outgoing_rcpt {
    std::string address;  ///< forward path without brackets
    rcpt_params params;   ///< NOTIFY, ORCPT: sent only where DSN is offered
};

struct outgoing_message {
    std::string reverse_path;         ///< without brackets; "" is <>
    mail_params params;               ///< SIZE, BODY, SMTPUTF8, RET, ENVID, REQUIRETLS
    std::vector<outgoing_rcpt> recipients;
    bool has_body = true;             ///< false: stop after the RCPTs (RSET): a probe
};

struct transaction_result {
    std::optional<reply> mail;
    std::vector<std::optional<reply>> rcpts;  ///< per recipient, in order; nullopt if never answered
    std::optional<reply> data;                ///< the reply that ended the message (or refused DATA)
    std::optional<client_failure> refused;    ///< the session refused to try (unsupported)
    std::string refused_why;
};

struct client_result {
    std::optional<reply> greeting, hello, starttls, auth;
    capabilities caps;
    bool tls = false;
    bool starttls_offered = false;  ///< the clear-text EHLO listed STARTTLS
    bool authenticated = false;
    std::vector<transaction_result> transactions;
    std::optional<client_failure> failure;
    std::string failure_text;
};

enum class client_action { write, read, start_tls, send_body, done, failed };

class client_session {
public:
    explicit client_session(client_config cfg, std::unique_ptr<sasl_client> auth = nullptr);
    client_session(client_config cfg, sasl_chooser choose_auth);
    ~client_session();
    client_session(const client_session&) = delete;
    client_session& operator=(const client_session&) = delete;

    /// Queue a message; call before start() (or while the session still runs).
    void add(outgoing_message m);
    /// `tls_active`: the connection is already TLS (implicit TLS).
    void start(bool tls_active = false);

    client_action next_action();
    std::string take_output();
    void receive(std::span<const char> bytes);
    void receive(std::string_view bytes) { receive(std::span<const char>(bytes.data(), bytes.size())); }
    void tls_started();
    void body(std::span<const char> chunk);
    void end_body();
    /// The driver's failures: connect, timeout, TLS handshake, connection lost.
    void fail(client_failure why, std::string text);

    /// How long the current read may take (RFC 5321 §4.5.3.2).
    std::chrono::seconds timeout() const;
    const client_result& result() const noexcept { return result_; }
    const client_config& config() const noexcept { return cfg_; }
    /// Counts the replies read so far: the driver starts a new deadline when it changes.
    std::uint64_t replies_seen() const noexcept { return replies_seen_; }
    /// Lines in (from the server, true) and out, without CRLF; AUTH payloads masked.
    void set_tracer(std::function<void(bool in, std::string_view line)> t) { trace_ = std::move(t); }

private:
    enum class expect { greeting, ehlo, helo, starttls, auth, mail, rcpt, data, body_end, bdat, rset, quit };
    struct pending_reply {
        expect what;
        std::size_t index = 0;  // the recipient, for rcpt
    };

    void send_line(std::string line, expect what, std::size_t index = 0, std::string_view shown = {});
    void handle(const reply& r);
    void on_greeting(const reply& r);
    void on_hello(const reply& r, bool extended);
    void on_starttls(const reply& r);
    void on_auth(const reply& r);
    void on_transaction_reply(const pending_reply& p, const reply& r);
    void after_hello();
    void begin_auth();
    void next_transaction();
    void send_envelope();
    void after_envelope();
    void finish_transaction(bool completed);  // completed: the data got its final reply
    void quit();
    void finish(std::optional<client_failure> failure, std::string text);
    std::optional<std::string> unsupported_by_server(const outgoing_message& m) const;
    std::string mail_command(const outgoing_message& m) const;
    std::string rcpt_command(const outgoing_rcpt& r) const;
    void stuff(std::span<const char> chunk);
    transaction_result& current() { return result_.transactions.back(); }
    bool any_rcpt_accepted() const;

    client_config cfg_;
    std::unique_ptr<sasl_client> auth_;
    sasl_chooser choose_auth_;
    std::deque<outgoing_message> queue_;
    std::optional<outgoing_message> msg_;  // the transaction under way
    std::deque<pending_reply> pending_;    // replies still to come, in order
    reply_parser parser_;
    std::string out_;
    client_result result_;
    std::function<void(bool, std::string_view)> trace_;
    bool started_ = false, tls_wanted_ = false, in_body_ = false, body_chunked_ = false, data_sent_ = false;
    bool ended_ = false, failed_ = false, stuff_at_line_start_ = true;
    char last_octets_[2] = {'\r', '\n'};
    std::uint64_t body_octets_ = 0;
    std::uint64_t replies_seen_ = 0;
    expect last_read_ = expect::greeting;
};

/// The part of a forward or reverse path between the brackets, checked for what could break
/// the command line (CR, LF, NUL, '<', '>', spaces outside quotes). The client builds commands
/// only from addresses that pass.
bool safe_path_text(std::string_view address);

}  // namespace postern::proto
