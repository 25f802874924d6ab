// SPDX-License-Identifier: MIT
#pragma once
/// Replies as a client reads them (RFC 5321 §4.2): "CODE-text" lines, then "CODE text"; the
/// enhanced status code (RFC 2034, RFC 3463) is split off each line when it matches the reply's
/// class. Incremental: bytes in, whole replies out. Bounded: a line over `max_line` octets or a
/// reply over `max_lines` lines is a protocol error, as is a line that is not "DDD" + ' ' or '-'
/// or a continuation line whose code differs.
#include "proto/reply.hpp"

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace postern::proto {

class reply_parser {
public:
    static constexpr std::size_t max_line = 4096;  // RFC 5321 §4.5.3.1.5 says 512; servers exceed it
    static constexpr std::size_t max_lines = 200;

    void feed(std::span<const char> bytes) { buf_.append(bytes.data(), bytes.size()); }
    void feed(std::string_view bytes) { buf_.append(bytes); }
    /// The next whole reply, or nullopt when more bytes are needed (or after an error).
    std::optional<reply> next();
    /// Set once the input broke the reply syntax; what it was.
    const std::optional<std::string>& error() const noexcept { return error_; }
    /// Octets received and not yet part of a returned reply.
    std::size_t buffered() const noexcept { return buf_.size() - pos_; }
    /// Drops what is buffered (after STARTTLS: nothing sent in clear may be read inside TLS).
    std::size_t discard();

private:
    std::string buf_;
    std::size_t pos_ = 0;
    reply cur_;
    bool in_reply_ = false;
    std::optional<std::string> error_;
};

/// "CODE-x" / "CODE x" lines of `r` joined with spaces, the enhanced code in front if any:
/// "550 5.1.1 No such user". For messages and JSON.
std::string reply_text(const reply& r);

}  // namespace postern::proto
