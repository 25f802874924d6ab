// SPDX-License-Identifier: MIT
// DKIM canonicalization (RFC 6376 §3.4) and header selection (§5.4.2).
//
// Theory of operation: header_collector splits the incoming octets into lines (CRLF, or a bare
// LF, as dkimpy and OpenDKIM do) and joins continuation lines to their field until the empty line
// that ends the section. body_canonicalizer is a small state machine over the body octets: the
// only things it cannot decide at once are whether empty lines (and in relaxed, whitespace) are at
// the end of the body, or of a line, where §3.4.3 and §3.4.4 drop them; those it holds as counts.
#include "mailauth/dkim_canon.hpp"

#include <algorithm>
#include <map>

namespace postern::mailauth {
namespace {

constexpr std::size_t batch_size = 8192;

bool is_wsp(char c) noexcept { return c == ' ' || c == '\t'; }
char to_lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), to_lower);
    return out;
}

// §3.4.2: unfold, reduce each run of WSP to one SP, drop WSP at the start and end of the value.
void relaxed_value(std::string_view value, std::string& out) {
    bool wsp = false;
    bool started = false;
    for (char c : value) {
        if (c == '\r' || c == '\n') continue;  // unfolding: "delete all CRLF sequences"
        if (is_wsp(c)) {
            wsp = true;
            continue;
        }
        if (wsp && started) out += ' ';
        wsp = false;
        started = true;
        out += c;
    }
}

}  // namespace

std::string_view header_field::name() const noexcept {
    std::string_view n = std::string_view(raw).substr(0, colon);
    while (!n.empty() && is_wsp(n.back())) n.remove_suffix(1);
    return n;
}

bool same_field_name(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return to_lower(x) == to_lower(y); });
}

std::size_t header_collector::feed(std::string_view in) {
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (done_) return i;
        const char c = in[i];
        if (!too_large_ && ++octets_ > max_section_) {
            // Keep nothing more. The line in progress is dropped (counted if it was a signature);
            // from the next line on, only line starts are looked at.
            too_large_ = true;
            if (same_field_name(std::string_view(line_).substr(0, 15), "dkim-signature:")) ++dropped_signatures_;
            prefix_length_ = line_.empty() && !cr_pending_ ? 0 : prefix_.size() + 1;
            line_.clear();
            line_.shrink_to_fit();
        }
        if (cr_pending_) {
            cr_pending_ = false;
            if (c == '\n') {
                end_line();
                continue;
            }
            take('\r');
        }
        if (c == '\r') cr_pending_ = true;
        else if (c == '\n') end_line();
        else take(c);
    }
    return in.size();
}

void header_collector::take(char c) {
    if (!too_large_) {
        line_ += c;
        return;
    }
    if (prefix_length_ < prefix_.size()) prefix_[prefix_length_] = c;
    if (prefix_length_ <= prefix_.size()) ++prefix_length_;
}

void header_collector::end_line() {
    if (too_large_) {
        if (prefix_length_ == 0) {
            done_ = true;
            return;
        }
        constexpr std::string_view dkim = "dkim-signature:";
        if (prefix_length_ >= dkim.size() && same_field_name(std::string_view(prefix_.data(), dkim.size()), dkim))
            ++dropped_signatures_;
        prefix_length_ = 0;
        return;
    }
    if (line_.empty()) {
        done_ = true;  // RFC 5322 §2.1: the empty line ends the header section
        return;
    }
    if (is_wsp(line_.front())) {
        // RFC 5322 §2.2.3: a continuation line of the field above (none: a malformed line).
        if (!fields_.empty() && last_was_field_) fields_.back().raw.append("\r\n").append(line_);
        else ++malformed_lines_;
    } else if (const auto colon = line_.find(':'); colon != std::string::npos && colon > 0 && !is_wsp(line_.front())) {
        fields_.push_back(header_field{std::move(line_), colon});
        last_was_field_ = true;
    } else {
        ++malformed_lines_;  // an mbox "From " line or junk: not a field, so never signed
        last_was_field_ = false;
    }
    line_.clear();
}

void header_collector::finish() {
    if (done_) return;
    if (cr_pending_) take('\r');
    cr_pending_ = false;
    if (too_large_ ? prefix_length_ > 0 : !line_.empty()) end_line();
    done_ = true;
}

void canonicalize_header(dkim_canon canon, const header_field& field, std::string& out) {
    if (canon == dkim_canon::simple) {
        out.append(field.raw).append("\r\n");  // §3.4.1: "MUST NOT change the header field in any way"
        return;
    }
    // §3.4.2: lower-case name, no WSP before or after the colon, unfolded and compressed value.
    out.append(lower(field.name())).append(":");
    relaxed_value(field.value(), out);
    out.append("\r\n");
}

std::vector<const header_field*> select_signed_headers(const std::vector<header_field>& fields,
                                                       const std::vector<std::string>& names) {
    // For each name, its instances from the bottom up, and how many h= has used so far.
    std::map<std::string, std::pair<std::vector<const header_field*>, std::size_t>, std::less<>> instances;
    for (const auto& name : names) instances.try_emplace(lower(name));
    for (auto it = fields.rbegin(); it != fields.rend(); ++it) {
        const auto found = instances.find(lower(it->name()));
        if (found != instances.end()) found->second.first.push_back(&*it);
    }
    std::vector<const header_field*> out;
    out.reserve(names.size());
    for (const auto& name : names) {
        auto& [list, used] = instances.find(lower(name))->second;
        out.push_back(used < list.size() ? list[used++] : nullptr);  // §5.4.2: a null string
    }
    return out;
}

std::string signed_header_data(dkim_canon canon, const std::vector<header_field>& fields,
                               const std::vector<std::string>& names, const header_field& signature_field,
                               std::size_t b_begin, std::size_t b_end) {
    std::string data;
    for (const header_field* f : select_signed_headers(fields, names))
        if (f) canonicalize_header(canon, *f, data);
    // §3.5 b=: "the value of the b= tag (including all surrounding whitespace) is deleted".
    const std::size_t value_at = signature_field.colon + 1;
    b_begin = std::min(b_begin, signature_field.raw.size() - value_at);
    b_end = std::clamp(b_end, b_begin, signature_field.raw.size() - value_at);
    header_field unsigned_field{signature_field.raw.substr(0, value_at + b_begin) +
                                    signature_field.raw.substr(value_at + b_end),
                                signature_field.colon};
    canonicalize_header(canon, unsigned_field, data);
    data.resize(data.size() - 2);  // §3.7: without the trailing CRLF
    return data;
}

void body_canonicalizer::emit(std::string_view s, const canon_sink& sink) {
    batch_.append(s);
    emitted_ = true;
    if (batch_.size() >= batch_size) {
        sink(batch_);
        batch_.clear();
    }
}

void body_canonicalizer::content(char c, const canon_sink& sink) {
    if (canon_ == dkim_canon::relaxed && is_wsp(c)) {
        wsp_pending_ = true;  // §3.4.4 (a), (b): a run becomes one SP, unless it ends the line
        return;
    }
    if (!line_started_) {
        // The empty lines held back were not at the end after all.
        for (; empty_lines_ > 0; --empty_lines_) emit("\r\n", sink);
        line_started_ = true;
    }
    if (wsp_pending_) emit(" ", sink);
    wsp_pending_ = false;
    emit(std::string_view(&c, 1), sink);
}

void body_canonicalizer::end_line(const canon_sink& sink) {
    wsp_pending_ = false;
    if (line_started_) emit("\r\n", sink);
    else ++empty_lines_;  // §3.4.3, §3.4.4 (c): empty lines at the end of the body are ignored
    line_started_ = false;
}

void body_canonicalizer::feed(std::string_view in, const canon_sink& sink) {
    for (const char c : in) {
        if (cr_pending_) {
            cr_pending_ = false;
            if (c == '\n') {
                end_line(sink);
                continue;
            }
            content('\r', sink);
        }
        if (c == '\r') cr_pending_ = true;
        else if (c == '\n') end_line(sink);
        else content(c, sink);
    }
    if (!batch_.empty()) {
        sink(batch_);
        batch_.clear();
    }
}

void body_canonicalizer::finish(const canon_sink& sink) {
    if (cr_pending_) content('\r', sink);
    cr_pending_ = false;
    if (line_started_) emit("\r\n", sink);  // "no trailing CRLF on the message body, a CRLF is added"
    line_started_ = false;
    // §3.4.3: an empty body is one CRLF in simple; §3.4.4: nothing at all in relaxed (errata 1384).
    if (canon_ == dkim_canon::simple && !emitted_) emit("\r\n", sink);
    if (!batch_.empty()) sink(batch_);
    batch_.clear();
}

}  // namespace postern::mailauth
