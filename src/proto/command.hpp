// SPDX-License-Identifier: MIT
#pragma once
/// SMTP command verbs, their syntax strings (shared by HELP and the 501 replies, as aiosmtpd
/// does) and the split of a command line into verb and argument.
#include "proto/session_config.hpp"

#include <string_view>
#include <vector>

namespace postern::proto {

enum class verb { ehlo, helo, mail, rcpt, data, bdat, rset, noop, quit, vrfy, help, expn, starttls, auth, etrn, turn, atrn, unknown };

struct command_line {
    verb v = verb::unknown;
    std::string_view name;  ///< the verb as sent
    std::string_view arg;   ///< everything after the verb and one space (may be empty)
};

/// Splits "MAIL FROM:<a@b>" into verb::mail and "FROM:<a@b>". Verbs are case-insensitive (§2.4).
command_line split_command(std::string_view line);

/// "MAIL FROM:<reverse-path> [SIZE=<size>] ..." for HELP MAIL and "501 5.5.4 Syntax: ...".
std::string_view syntax_of(verb v);

/// The commands enabled for this session, in the order HELP lists them.
std::vector<verb> enabled_commands(const session_config& cfg, bool tls_active);
std::string_view name_of(verb v);

}  // namespace postern::proto
