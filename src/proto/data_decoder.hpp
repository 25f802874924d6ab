// SPDX-License-Identifier: MIT
#pragma once
/// The DATA body decoder: removes dot-stuffing and finds the end of data, which is only
/// CRLF "." CRLF (RFC 5321 §4.1.1.4, §4.5.2). A CR or LF that is not part of a CRLF pair never
/// ends data (the SMTP smuggling inputs "\n.\n", "\n.\r\n", "\r.\r\n", "\r\n.\n", "\r\n.\r",
/// "\r.\r" are content); what happens to it is the bare_line_policy's choice.
#include "proto/session_config.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace postern::proto {

class data_decoder {
public:
    struct outcome {
        std::size_t consumed = 0;  ///< octets of the input used (the final CRLF.CRLF included)
        bool done = false;         ///< the end-of-data line was seen
    };

    explicit data_decoder(bare_line_policy p = bare_line_policy::normalize) : policy_(p) {}

    /// Decodes as much of `in` as possible, appending message octets to `out` (unless `discard`).
    /// Stops right after the end-of-data line; the rest of `in` belongs to the next command.
    outcome feed(std::string_view in, std::string& out, bool discard = false);

    /// A bare CR or LF was seen since reset().
    bool saw_bare_line_ending() const noexcept { return bare_seen_; }
    /// Starts a new message: the DATA command's CRLF counts as the line before the first line.
    void reset(bare_line_policy p) noexcept {
        policy_ = p;
        state_ = state::line_start;
        bare_seen_ = false;
    }

private:
    enum class state { line_start, text, cr, dot, dot_cr };
    void emit_bare_lf(std::string& out, bool discard);
    std::size_t scan_text(std::string_view in, std::size_t i, std::string& out, bool discard);

    bare_line_policy policy_;
    state state_ = state::line_start;
    bool bare_seen_ = false;
};

}  // namespace postern::proto
