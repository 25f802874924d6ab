// SPDX-License-Identifier: MIT
#pragma once
/// The catalogue of replies: every reply text the server sends is written here and nowhere else.
/// Codes per RFC 5321 §4.2.2 / §4.3.2, enhanced codes per RFC 3463 (RFC 5248 registry).
#include "proto/reply.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace postern::proto::replies {

inline reply make(std::uint16_t code, enhanced_code esc, std::string text) { return {code, esc, {std::move(text)}}; }

// Connection
inline reply greeting(std::string_view host, std::string_view text) { return {220, std::nullopt, {std::string(host) + " " + std::string(text)}}; }
inline reply closing() { return make(221, {2, 0, 0}, "Bye"); }
inline reply too_many_connections() { return make(421, {4, 7, 0}, "Too many connections, try again later"); }
inline reply too_many_connections_from_ip() { return make(421, {4, 7, 0}, "Too many connections from your address, try again later"); }
inline reply idle_timeout() { return make(421, {4, 4, 2}, "Idle timeout, closing connection"); }
inline reply shutting_down() { return make(421, {4, 3, 2}, "Service shutting down, closing connection"); }
inline reply too_many_errors() { return make(421, {4, 7, 0}, "Too many errors, closing connection"); }

// Generic
inline reply ok() { return make(250, {2, 0, 0}, "OK"); }
inline reply reset_ok() { return make(250, {2, 0, 0}, "Reset state"); }
inline reply unknown_command() { return make(500, {5, 5, 1}, "Command unrecognized"); }
inline reply line_too_long() { return make(500, {5, 5, 2}, "Line too long"); }
inline reply bad_characters() { return make(500, {5, 5, 2}, "Invalid characters in command"); }
inline reply not_implemented() { return make(502, {5, 5, 1}, "Command not implemented"); }
inline reply syntax(std::string_view usage) { return make(501, {5, 5, 4}, "Syntax: " + std::string(usage)); }
inline reply bad_sequence(std::string_view why) { return make(503, {5, 5, 1}, std::string(why)); }
inline reply local_error() { return make(451, {4, 3, 0}, "Requested action aborted: local error in processing"); }
inline reply storage_full() { return make(452, {4, 3, 1}, "Insufficient system storage"); }
/// The reply for a failure to store a message: 452 4.3.1 when the disk is full, else 451 4.3.0.
inline reply storage_error(const std::error_code& ec) {
    return ec == std::errc::no_space_on_device ? storage_full() : local_error();
}

// HELO / EHLO (no enhanced code: RFC 2034 §3)
inline reply hello(std::string_view host, std::string_view client) {
    return {250, std::nullopt, {std::string(host) + " Hello " + std::string(client)}};
}

// MAIL / RCPT
inline reply sender_ok() { return make(250, {2, 1, 0}, "Sender OK"); }
inline reply recipient_ok() { return make(250, {2, 1, 5}, "Recipient OK"); }
inline reply bad_sender_syntax(std::string_view why) { return make(501, {5, 1, 7}, "Bad sender address syntax: " + std::string(why)); }
inline reply bad_recipient_syntax(std::string_view why) { return make(501, {5, 1, 3}, "Bad recipient address syntax: " + std::string(why)); }
inline reply bad_sender_address(std::string_view why) { return make(553, {5, 1, 7}, "Bad sender address: " + std::string(why)); }
inline reply bad_recipient_address(std::string_view why) { return make(553, {5, 1, 3}, "Bad recipient address: " + std::string(why)); }
inline reply non_ascii_address() { return make(553, {5, 6, 7}, "Non-ASCII address requires the SMTPUTF8 parameter"); }
inline reply unknown_parameter(std::string_view name) { return make(555, {5, 5, 4}, "Unsupported parameter " + std::string(name)); }
inline reply bad_parameter(std::string_view name) { return make(501, {5, 5, 4}, "Bad value or repeated parameter " + std::string(name)); }
inline reply too_many_recipients() { return make(452, {4, 5, 3}, "Too many recipients"); }
inline reply declared_too_big() { return make(552, {5, 3, 4}, "Message size exceeds fixed maximum message size"); }

// DATA / BDAT
inline reply start_data() { return {354, std::nullopt, {"End data with <CR><LF>.<CR><LF>"}}; }
inline reply no_valid_recipients() { return make(554, {5, 5, 1}, "No valid recipients"); }
inline reply message_too_big() { return make(552, {5, 3, 4}, "Message size exceeds fixed maximum message size"); }
inline reply bare_line_ending() { return make(550, {5, 6, 0}, "Bare CR or LF in message data (RFC 5321 section 2.3.8)"); }
inline reply chunk_received(std::uint64_t n) { return make(250, {2, 0, 0}, std::to_string(n) + " octets received"); }
inline reply queued(std::string_view id) { return make(250, {2, 0, 0}, "Ok: queued as " + std::string(id)); }

// VRFY / HELP
inline reply cannot_vrfy() { return make(252, {2, 0, 0}, "Cannot VRFY user, but will accept message and attempt delivery"); }
inline reply vrfy_ok(std::string_view mailbox) { return make(250, {2, 0, 0}, "<" + std::string(mailbox) + ">"); }
// TLS (RFC 3207) and AUTH (RFC 4954, RFC 3463 / RFC 5248 codes)
inline reply ready_for_tls() { return make(220, {2, 0, 0}, "Ready to start TLS"); }
inline reply tls_not_available() { return make(454, {4, 7, 0}, "TLS not available"); }
inline reply auth_challenge(std::string base64) { return {334, std::nullopt, {std::move(base64)}}; }
inline reply auth_ok() { return make(235, {2, 7, 0}, "Authentication successful"); }
inline reply auth_failed() { return make(535, {5, 7, 8}, "Authentication credentials invalid"); }
inline reply auth_temporary_failure() { return make(454, {4, 7, 0}, "Temporary authentication failure"); }
inline reply auth_cancelled() { return make(501, {5, 0, 0}, "Authentication cancelled"); }
inline reply auth_bad_base64() { return make(501, {5, 5, 2}, "Invalid base64 data"); }
inline reply auth_line_too_long() { return make(500, {5, 5, 6}, "Authentication exchange line is too long"); }
inline reply auth_malformed() { return make(501, {5, 5, 2}, "Malformed authentication data"); }
inline reply auth_unknown_mechanism() { return make(504, {5, 5, 4}, "Unrecognized authentication mechanism"); }
inline reply auth_needs_tls() { return make(538, {5, 7, 11}, "Encryption required for requested authentication mechanism"); }
inline reply auth_required() { return make(530, {5, 7, 0}, "Authentication required"); }
inline reply auth_too_many_failures() { return make(421, {4, 7, 0}, "Too many authentication failures, closing connection"); }
// Relay policy and submission (docs/relay-policy.md)
inline reply relay_denied() { return make(554, {5, 7, 1}, "Relay access denied"); }
inline reply unknown_user() { return make(550, {5, 1, 1}, "Recipient address rejected: user unknown"); }
inline reply sender_not_owned(std::string_view address, std::string_view user) {
    return make(553, {5, 7, 1}, "Sender address <" + std::string(address) + "> not owned by user " + std::string(user));
}
inline reply header_from_not_owned(std::string_view field, std::string_view user) {
    return make(553, {5, 7, 1}, std::string(field) + " header address not owned by user " + std::string(user));
}
inline reply header_from_unreadable(std::string_view field) {
    return make(553, {5, 7, 1}, std::string(field) + " header cannot be read; it must name the sender");
}

// RFC 7489 §10.3 / RFC 7372: a DMARC p=reject failure, refused after the data.
inline reply dmarc_reject(std::string_view from_domain) {
    return make(550, {5, 7, 1}, "Message rejected: it fails the DMARC policy of " + std::string(from_domain));
}

// RFC 8601 §5: more forged Authentication-Results fields than the server renames.
inline reply too_many_own_results() {
    return make(550, {5, 7, 1}, "Message refused: too many Authentication-Results fields claim to come from this host");
}

inline reply help_unknown() { return make(504, {5, 5, 1}, "HELP topic unknown"); }

}  // namespace postern::proto::replies
