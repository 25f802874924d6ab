// SPDX-License-Identifier: MIT
#include "proto/reply.hpp"

#include <fmt/format.h>

namespace postern::proto {

std::string enhanced_code::to_string() const { return fmt::format("{}.{}.{}", cls, subject, detail); }

void write_reply(const reply& r, bool with_enhanced_codes, std::string& out) {
    const bool esc = with_enhanced_codes && r.esc.has_value();
    const std::size_t n = r.lines.empty() ? 1 : r.lines.size();
    for (std::size_t i = 0; i < n; ++i) {
        const char sep = i + 1 < n ? '-' : ' ';
        std::string_view text = r.lines.empty() ? std::string_view{} : std::string_view{r.lines[i]};
        if (esc)
            fmt::format_to(std::back_inserter(out), "{}{}{}.{}.{}", r.code, sep, r.esc->cls, r.esc->subject, r.esc->detail);
        else
            fmt::format_to(std::back_inserter(out), "{}{}", r.code, sep);
        if (!text.empty()) {
            if (esc) out += ' ';
            out += text;
        }
        out += "\r\n";
    }
}

}  // namespace postern::proto
