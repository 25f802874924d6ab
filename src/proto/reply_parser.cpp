// SPDX-License-Identifier: MIT
#include "proto/reply_parser.hpp"

#include <charconv>

namespace postern::proto {
namespace {

bool digit(char c) { return c >= '0' && c <= '9'; }

// "5.1.1 text" where 5 is the reply's class: the enhanced code and the rest.
std::optional<enhanced_code> split_enhanced(std::string_view& text, unsigned cls) {
    unsigned v[3] = {};
    const char* p = text.data();
    const char* end = text.data() + text.size();
    for (int i = 0; i < 3; ++i) {
        auto [q, ec] = std::from_chars(p, end, v[i]);
        if (ec != std::errc{} || q - p > 3) return std::nullopt;
        p = q;
        if (i < 2) {
            if (p == end || *p != '.') return std::nullopt;
            ++p;
        }
    }
    if (v[0] != cls || v[1] > 255 || v[2] > 255 || (p != end && *p != ' ')) return std::nullopt;
    text.remove_prefix(static_cast<std::size_t>(p - text.data()) + (p != end ? 1 : 0));
    return enhanced_code{static_cast<std::uint8_t>(v[0]), static_cast<std::uint8_t>(v[1]), static_cast<std::uint8_t>(v[2])};
}

}  // namespace

std::size_t reply_parser::discard() {
    const std::size_t n = buffered();
    buf_.clear();
    pos_ = 0;
    return n;
}

std::optional<reply> reply_parser::next() {
    while (!error_) {
        const auto eol = buf_.find('\n', pos_);
        if (eol == std::string::npos) {
            if (buf_.size() - pos_ > max_line) error_ = "reply line too long";
            return std::nullopt;
        }
        std::string_view line(buf_.data() + pos_, eol - pos_);
        pos_ = eol + 1;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // tolerate a bare LF
        if (line.size() > max_line) error_ = "reply line too long";
        else if (line.size() < 3 || !digit(line[0]) || !digit(line[1]) || !digit(line[2]) || line[0] < '2' || line[0] > '5' ||
                 (line.size() > 3 && line[3] != ' ' && line[3] != '-'))
            error_ = "malformed reply line";
        if (error_) break;
        const auto code = static_cast<std::uint16_t>((line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0'));
        if (in_reply_ && code != cur_.code) {
            error_ = "reply code changed inside a multi-line reply";
            break;
        }
        std::string_view text = line.size() > 4 ? line.substr(4) : std::string_view{};
        auto esc = split_enhanced(text, code / 100u);
        if (!in_reply_) cur_ = reply{code, esc, {}};
        in_reply_ = true;
        cur_.lines.emplace_back(text);
        if (cur_.lines.size() > max_lines) {
            error_ = "reply has too many lines";
            break;
        }
        if (line.size() == 3 || line[3] == ' ') {
            in_reply_ = false;
            if (pos_ > 65536) {  // keep the buffer from growing across a long session
                buf_.erase(0, pos_);
                pos_ = 0;
            }
            return std::move(cur_);
        }
    }
    return std::nullopt;
}

std::string reply_text(const reply& r) {
    std::string out = std::to_string(r.code);
    if (r.esc) out += " " + r.esc->to_string();
    for (const auto& l : r.lines)
        if (!l.empty()) out += " " + l;
    return out;
}

}  // namespace postern::proto
