// SPDX-License-Identifier: MIT
// A streaming scan of the header section. A line starting with WSP continues the field before
// it; any other line starts a field, whose name is matched octet by octet (then optional WSP, then
// the colon). The value of a matching field, continuation lines included, is kept up to a bound
// and tested when the field ends. The empty line ends the header section and the scan.
#include "message/field_locator.hpp"

namespace postern::message {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
bool wsp(char c) { return c == ' ' || c == '\t'; }

}  // namespace

void field_locator::feed(std::string_view bytes) {
    for (char c : bytes) {
        if (done_) return;
        const std::uint64_t at = offset_++;
        if (cr_pending_) {
            cr_pending_ = false;
            if (c == '\n') {
                end_line();
                continue;
            }
            content('\r', at - 1);  // a bare CR is content
        }
        if (c == '\r') cr_pending_ = true;
        else if (c == '\n') end_line();
        else content(c, at);
    }
}

void field_locator::finish() {
    if (done_) return;
    if (cr_pending_) content('\r', offset_ - 1);
    close_field();
    done_ = true;
}

void field_locator::end_line() {
    if (line_start_ && line_blank_) {  // the empty line
        close_field();
        done_ = true;
        return;
    }
    line_start_ = true;
    line_blank_ = true;
}

void field_locator::content(char c, std::uint64_t offset) {
    if (line_start_) {
        line_start_ = false;
        line_blank_ = false;
        if (wsp(c)) {  // a continuation line
            if (collecting_) content_of_value(c);
            return;
        }
        close_field();
        state_ = state::name;
        matched_ = 0;
        field_offset_ = offset;
    }
    switch (state_) {
        case state::name:
            if (matched_ < name_.size() && lower(c) == lower(name_[matched_])) ++matched_;
            else if (matched_ == name_.size() && c == ':') collecting_ = true, state_ = state::value;
            else if (matched_ == name_.size() && wsp(c)) state_ = state::space;
            else state_ = state::skip;
            return;
        case state::space:
            if (c == ':') collecting_ = true, state_ = state::value;
            else if (!wsp(c)) state_ = state::skip;
            return;
        case state::value: content_of_value(c); return;
        case state::skip: return;
    }
}

void field_locator::content_of_value(char c) {
    if (value_.size() < max_value_) value_ += c;
    else truncated_ = true;
}

void field_locator::close_field() {
    if (!collecting_) return;
    collecting_ = false;
    if (truncated_ || wanted_(value_)) {
        if (offsets_.size() < max_fields_) offsets_.push_back(field_offset_);
        else overflow_ = true;
    }
    value_.clear();
    truncated_ = false;
}

}  // namespace postern::message
