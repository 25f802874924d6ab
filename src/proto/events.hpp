// SPDX-License-Identifier: MIT
#pragma once
/// What a server session reports to its driver. Events marked "decide" wait for
/// server_session::respond() before the session goes on; the others are information.
#include "message/address.hpp"
#include "proto/params.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace postern::proto {

/// decide: EHLO/HELO with a syntactically valid domain. Accepting gives the EHLO/HELO reply.
struct hello_event { std::string domain; bool extended = false; };
/// decide: MAIL with a valid reverse path and parameters.
struct mail_event { message::path reverse_path; mail_params params; };
/// decide: RCPT with a valid forward path and parameters, within the recipient limit.
struct rcpt_event { message::path forward_path; rcpt_params params; };
/// decide: the message data is about to start (DATA, or the first BDAT of a transaction).
/// Accepting means "a message sink is ready": 354 for DATA; the chunk is read for BDAT.
struct data_event { bool chunked = false; };
/// information: decoded message octets, in order. The view is valid until the next call on the session.
struct body_event { std::string_view bytes; };
/// decide: the message is complete (CRLF.CRLF, or BDAT LAST). The driver makes it durable and
/// responds with replies::queued(id), or with an error reply.
struct message_event { std::uint64_t size = 0; };
/// information: a started message was dropped (too big, bare line ending refused, RSET between
/// BDAT chunks, EHLO, QUIT, connection end). The session has replied; the driver discards its sink.
struct message_aborted_event { std::string_view reason; };
/// decide: VRFY with an argument; the default reply is 252 (RFC 5321 §3.5.3).
struct vrfy_event { std::string argument; std::optional<message::mailbox> mailbox; };
/// information: QUIT was answered with 221; the driver flushes output and closes.
struct quit_event {};
/// information: STARTTLS was answered with 220. The driver sends the output, runs the TLS
/// handshake, then calls tls_started() (or closes on failure). `discarded` octets the client
/// pipelined after STARTTLS were thrown away unread (CVE-2011-0411); the driver logs them.
struct starttls_event { std::size_t discarded = 0; };
/// decide: AUTH with an offered mechanism; the initial response is decoded ("=" is empty).
/// The driver answers with auth_continue(challenge), auth_succeeded(user) or a refusal via respond().
struct auth_event { std::string mechanism; std::optional<std::string> initial_response; };
/// decide: the client's (decoded) answer to the last 334 challenge; answered like auth_event.
struct auth_response_event { std::string response; };

using event = std::variant<hello_event, mail_event, rcpt_event, data_event, body_event, message_event,
                           message_aborted_event, vrfy_event, quit_event, starttls_event, auth_event,
                           auth_response_event>;

struct recipient {
    message::path forward_path;
    rcpt_params params;
};

/// The envelope of the transaction in progress (RFC 5321 §3.3): MAIL, then accepted RCPTs.
struct transaction {
    message::path reverse_path;
    mail_params params;
    std::vector<recipient> recipients;
    std::size_t rejected_recipients = 0;  // for 554 "no valid recipients" at DATA
    bool message_started = false;         // data_event accepted (DATA or first BDAT)
    bool chunked = false;                 // BDAT used: DATA is now out of sequence
    bool failed = false;                  // a BDAT chunk was refused: later BDATs are refused too
    std::uint64_t size = 0;               // message octets received so far
};

}  // namespace postern::proto
