// SPDX-License-Identifier: MIT
// Theory of operation: a five-state machine over the octets of DATA.
//   line_start  after CRLF (or right after the 354): a "." here is special
//   text        inside a line; runs of ordinary octets are copied in bulk
//   cr          saw CR, waiting for its LF
//   dot         saw "." at a line start
//   dot_cr      saw "." CR at a line start: LF now ends the data
// Only a CRLF moves to line_start; a bare LF or bare CR moves to text, so a "." after it
// is content and can never end the data. That single rule defeats the smuggling inputs.
#include "proto/data_decoder.hpp"

#include <cstring>

namespace postern::proto {

void data_decoder::emit_bare_lf(std::string& out, bool discard) {
    bare_seen_ = true;
    if (discard) return;
    // normalize: the bare LF becomes CRLF; reject: the message is refused anyway.
    if (policy_ == bare_line_policy::normalize) out += "\r\n";
    else out += '\n';
}

// Copies the run of ordinary octets starting at i; returns the index of the CR/LF that ends it.
std::size_t data_decoder::scan_text(std::string_view in, std::size_t i, std::string& out, bool discard) {
    std::size_t j = i;
    const std::size_t n = in.size();
    while (j < n && in[j] != '\r' && in[j] != '\n') ++j;
    if (!discard) out.append(in.data() + i, j - i);
    return j;
}

data_decoder::outcome data_decoder::feed(std::string_view in, std::string& out, bool discard) {
    std::size_t i = 0;
    const std::size_t n = in.size();
    while (i < n) {
        const char c = in[i];
        switch (state_) {
        case state::line_start:
            if (c == '.') { state_ = state::dot; ++i; break; }
            state_ = state::text;
            break;
        case state::text:
            i = scan_text(in, i, out, discard);
            if (i == n) break;
            if (in[i] == '\r') state_ = state::cr;
            else emit_bare_lf(out, discard);
            ++i;
            break;
        case state::cr:
            if (c == '\n') {
                if (!discard) out += "\r\n";
                state_ = state::line_start;
                ++i;
            } else {  // bare CR: kept as content, the line goes on
                bare_seen_ = true;
                if (!discard) out += '\r';
                state_ = state::text;
            }
            break;
        case state::dot:
            if (c == '\r') { state_ = state::dot_cr; ++i; break; }
            // "." followed by more: the leading dot is the transparency dot (§4.5.2), except
            // before a bare LF, where the line is kept as sent (it is not a CRLF line).
            if (c == '\n' && !discard) out += '.';
            state_ = state::text;
            break;
        case state::dot_cr:
            if (c == '\n') {
                state_ = state::line_start;
                return {i + 1, true};
            }
            // ".\r" then something else: a bare CR after the (kept) dot.
            bare_seen_ = true;
            if (!discard) out += ".\r";
            state_ = state::text;
            break;
        }
    }
    return {n, false};
}

}  // namespace postern::proto
