// SPDX-License-Identifier: MIT
#pragma once
/// SMTP replies as values (RFC 5321 §4.2) with RFC 3463 enhanced status codes (RFC 2034).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postern::proto {

struct enhanced_code {
    std::uint8_t cls = 2, subject = 0, detail = 0;  // RFC 3463: class.subject.detail, e.g. 5.7.8
    friend bool operator==(const enhanced_code&, const enhanced_code&) = default;
    std::string to_string() const;
};

struct reply {
    std::uint16_t code = 250;                 // 250, 354, 451, 550 ...
    std::optional<enhanced_code> esc;         // none for the greeting, EHLO/HELO and 3xx (RFC 2034 §3)
    std::vector<std::string> lines;           // each without CRLF; written as "250-..." then "250 ..."

    bool positive() const { return code / 100 == 2 || code / 100 == 3; }
    bool completed() const { return code / 100 == 2; }  ///< 2xx: what a client waits for after MAIL, RCPT, the data
    bool transient() const { return code / 100 == 4; }
    bool permanent() const { return code / 100 == 5; }
    std::string_view first_line() const { return lines.empty() ? std::string_view{} : std::string_view{lines.front()}; }
};

/// Appends the reply's wire form to `out`: one "CODE-" line per line but the last ("CODE "),
/// each with the enhanced code when it has one and enhanced codes are on, CRLF after each.
void write_reply(const reply& r, bool with_enhanced_codes, std::string& out);

}  // namespace postern::proto
