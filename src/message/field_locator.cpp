// SPDX-License-Identifier: MIT
// A streaming scan of the header section: at each line start decide whether the line is a
// continuation (WSP first) or a new field; a new field whose name matches starts a record, and
// its value octets (continuation lines included) are kept up to a bound. The empty line ends the
// header section and the scan.
#include "message/field_locator.hpp"

namespace postern::message {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

void field_locator::feed(std::string_view bytes) {
    for (char c : bytes) {
        if (done_) return;
        take(c, offset_++);
    }
}

void field_locator::at_line_start() {
    line_start_ = false;
    line_head_.clear();
    line_is_blank_ = true;
}

void field_locator::take(char c, std::uint64_t offset) {
    if (line_start_) {
        at_line_start();
        if (c == ' ' || c == '\t') {  // a continuation: stays with the field before it
            if (in_match_ && fields_.back().value.size() < max_value_) fields_.back().value += c;
            line_is_blank_ = false;
            return;
        }
        in_match_ = false;
        in_value_ = false;
        line_head_start_ = offset;
    }
    if (c == '\n') {
        if (line_is_blank_) done_ = true;  // the empty line: the body follows
        line_start_ = true;
        return;
    }
    if (c == '\r') return;
    line_is_blank_ = false;
    if (in_match_) {
        if (fields_.back().value.size() < max_value_) fields_.back().value += c;
        return;
    }
    if (in_value_) return;
    // Still in the field name of this line.
    if (c == ':') {
        std::string_view head(line_head_);
        while (!head.empty() && (head.back() == ' ' || head.back() == '\t')) head.remove_suffix(1);
        bool same = head.size() == name_.size();
        for (std::size_t i = 0; same && i < head.size(); ++i) same = lower(head[i]) == lower(name_[i]);
        in_value_ = true;
        if (same && fields_.size() < max_fields_) {
            fields_.push_back({line_head_start_, {}});
            in_match_ = true;
        }
        return;
    }
    if (line_head_.size() <= name_.size() + 8) line_head_ += c;
    else in_value_ = true;  // a name longer than ours (or no field at all): not a match
}

}  // namespace postern::message
