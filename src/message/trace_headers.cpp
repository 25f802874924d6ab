// SPDX-License-Identifier: MIT
// Trace fields are built from clauses ("from ...", "by ...", "with ...", "id ...", "for ...")
// placed on fixed logical lines, then folded with CRLF TAB wherever a line would pass 78
// octets (RFC 5322 §2.1.1). Every value that reaches a header is cleaned first: the EHLO
// argument and the reverse-DNS name come from the network, and a CR or LF in either would let
// the peer add header fields of its choosing.
#include "message/trace_headers.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <vector>

namespace postern::message {
namespace {

constexpr std::size_t max_line = 78;  // RFC 5322 §2.1.1, CRLF excluded

// For single tokens (EHLO argument, host names, protocol, id): anything but visible ASCII,
// and the comment delimiters, becomes '?', so the value stays one token of the Received grammar.
std::string clean_token(std::string_view in, std::string_view fallback) {
    if (in.empty()) return std::string(fallback);
    std::string out(in);
    for (char& ch : out) {
        const auto c = static_cast<unsigned char>(ch);
        if (c <= 0x20 || c >= 0x7F || c == '(' || c == ')') ch = '?';
    }
    return out;
}

// For a mailbox: spaces are legitimate inside a quoted local part, and UTF-8 inside an
// SMTPUTF8 one (RFC 6532), so only the control characters are replaced.
std::string clean_mailbox(std::string_view in) {
    std::string out(in);
    for (char& ch : out) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c == 0x7F) ch = '?';
    }
    return out;
}

// RFC 5321 §4.4: TCP-info = address-literal / ( Domain FWS address-literal ); an IPv6 literal
// carries the "IPv6:" tag (§4.1.3).
std::string tcp_info(const received_fields& f) {
    std::string literal;
    if (!f.peer_address.empty()) {
        const bool v6 = f.peer_address.find(':') != std::string::npos;
        literal = fmt::format("[{}{}]", v6 ? "IPv6:" : "", clean_token(f.peer_address, ""));
    }
    if (!f.peer_name || f.peer_name->empty()) return literal.empty() ? std::string() : "(" + literal + ")";
    const std::string name = clean_token(*f.peer_name, "");
    return literal.empty() ? "(" + name + ")" : fmt::format("({} {})", name, literal);
}

// Appends one logical line: its first clause starts the line, and each further clause goes on
// the same line if it fits, else on a continuation line that starts with a TAB.
void append_folded(std::string& out, std::string_view lead, const std::vector<std::string>& clauses) {
    std::size_t line = lead.size();
    out += lead;
    for (std::size_t k = 0; k < clauses.size(); ++k) {
        const std::string& c = clauses[k];
        if (k == 0) {
            out += c;
            line += c.size();
        } else if (line + 1 + c.size() <= max_line) {
            out += ' ';
            out += c;
            line += 1 + c.size();
        } else {
            out += "\r\n\t";
            out += c;
            line = 1 + c.size();
        }
    }
    out += "\r\n";
}

constexpr std::array<const char*, 7> weekday_names{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::array<const char*, 12> month_names{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

}  // namespace

std::string format_date(std::chrono::system_clock::time_point when, int utc_offset_minutes) {
    using namespace std::chrono;
    // RFC 5322 §3.3: zone = ("+" / "-") 4DIGIT; keep the offset within a day so that the
    // field stays well-formed whatever the caller passes.
    const int offset = std::clamp(utc_offset_minutes, -(24 * 60 - 1), 24 * 60 - 1);
    // Whole seconds, rounded down (also before 1970), then shifted into local time; the
    // seconds type has the range to take any time_point plus a day.
    const seconds local = floor<seconds>(when).time_since_epoch() + minutes(offset);
    const sys_days day = floor<days>(sys_seconds(local));
    const year_month_day ymd(day);
    const hh_mm_ss<seconds> tod(local - day.time_since_epoch());
    const int abs_offset = offset < 0 ? -offset : offset;
    return fmt::format("{}, {} {} {:04} {:02}:{:02}:{:02} {}{:02}{:02}",
                       weekday_names[weekday(day).c_encoding()], static_cast<unsigned>(ymd.day()),
                       month_names[static_cast<unsigned>(ymd.month()) - 1], static_cast<int>(ymd.year()),
                       tod.hours().count(), tod.minutes().count(), tod.seconds().count(),
                       offset < 0 ? '-' : '+', abs_offset / 60, abs_offset % 60);
}

std::string format_received(const received_fields& f) {
    std::vector<std::string> from_line{"from " + clean_token(f.helo, "unknown")};
    if (auto info = tcp_info(f); !info.empty()) from_line.push_back(std::move(info));
    if (!f.tls_version.empty())
        from_line.push_back("(using " + clean_token(f.tls_version, "") + " with cipher " + clean_token(f.tls_cipher, "unknown") + ")");

    std::vector<std::string> by_line{"by " + clean_token(f.by_host, "localhost")};
    if (!f.protocol.empty()) by_line.push_back("with " + clean_token(f.protocol, ""));
    if (f.requiretls) by_line.push_back("(REQUIRETLS)");
    if (!f.id.empty()) by_line.push_back("id " + clean_token(f.id, ""));

    // RFC 5321 §4.4: the date-time follows the last ';' of the field.
    const std::string date = format_date(f.when, f.utc_offset_minutes);
    std::string out;
    out.reserve(256);
    append_folded(out, "Received: ", from_line);
    if (f.for_recipient) {
        append_folded(out, "\t", by_line);
        append_folded(out, "\t", {fmt::format("for <{}>;", clean_mailbox(*f.for_recipient)), date});
    } else {
        by_line.back() += ';';
        by_line.push_back(date);
        append_folded(out, "\t", by_line);
    }
    return out;
}

std::string format_return_path(const path& reverse_path) {
    return fmt::format("Return-Path: <{}>\r\n", clean_mailbox(reverse_path.to_string()));
}

}  // namespace postern::message
