// SPDX-License-Identifier: MIT
#include "proto/command.hpp"

#include "proto/text.hpp"

#include <array>
#include <utility>

namespace postern::proto {
namespace {

struct verb_info {
    verb v;
    std::string_view name;
    std::string_view syntax;
};

constexpr std::array<verb_info, 17> verbs{{
    {verb::ehlo, "EHLO", "EHLO <domain>"},
    {verb::helo, "HELO", "HELO <domain>"},
    {verb::mail, "MAIL", "MAIL FROM:<reverse-path> [SIZE=<octets>] [BODY=7BIT|8BITMIME|BINARYMIME] [SMTPUTF8] "
                         "[RET=FULL|HDRS] [ENVID=<xtext>] [AUTH=<xtext>] [REQUIRETLS]"},
    {verb::rcpt, "RCPT", "RCPT TO:<forward-path> [NOTIFY=NEVER|SUCCESS,FAILURE,DELAY] [ORCPT=<type>;<xtext>]"},
    {verb::data, "DATA", "DATA"},
    {verb::bdat, "BDAT", "BDAT <chunk-size> [LAST]"},
    {verb::rset, "RSET", "RSET"},
    {verb::noop, "NOOP", "NOOP [<string>]"},
    {verb::quit, "QUIT", "QUIT"},
    {verb::vrfy, "VRFY", "VRFY <mailbox>"},
    {verb::help, "HELP", "HELP [<command>]"},
    {verb::expn, "EXPN", "EXPN <list>"},
    {verb::starttls, "STARTTLS", "STARTTLS"},
    {verb::auth, "AUTH", "AUTH <mechanism> [<initial-response>]"},
    {verb::etrn, "ETRN", "ETRN <domain>"},
    {verb::turn, "TURN", "TURN"},
    {verb::atrn, "ATRN", "ATRN [<domain>[,<domain>...]]"},
}};

const verb_info* find(verb v) {
    for (const auto& i : verbs)
        if (i.v == v) return &i;
    return nullptr;
}

}  // namespace

command_line split_command(std::string_view line) {
    const auto sp = line.find(' ');
    command_line c;
    c.name = line.substr(0, sp);
    c.arg = sp == std::string_view::npos ? std::string_view{} : line.substr(sp + 1);
    for (const auto& i : verbs)
        if (iequals(c.name, i.name)) c.v = i.v;
    return c;
}

std::string_view syntax_of(verb v) {
    const auto* i = find(v);
    return i ? i->syntax : std::string_view{};
}

std::string_view name_of(verb v) {
    const auto* i = find(v);
    return i ? i->name : std::string_view{};
}

std::vector<verb> enabled_commands(const session_config& cfg, bool tls_active) {
    const auto& ext = cfg.ext;
    std::vector<verb> out{verb::ehlo, verb::helo, verb::mail, verb::rcpt, verb::data};
    if (ext.chunking) out.push_back(verb::bdat);
    out.insert(out.end(), {verb::rset, verb::noop, verb::quit});
    if (ext.vrfy) out.push_back(verb::vrfy);
    if (ext.help) out.push_back(verb::help);
    if (cfg.starttls && !tls_active) out.push_back(verb::starttls);
    if (!cfg.auth_mechanisms.empty()) out.push_back(verb::auth);
    return out;
}

}  // namespace postern::proto
