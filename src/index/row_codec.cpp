// SPDX-License-Identifier: MIT
#include "index/row_codec.hpp"

namespace postern::index::detail::rows {

namespace {

void append_clean(std::string& out, std::string_view s) {
    for (char c : s)
        if (c != rs && c != us) out += c;
}

}  // namespace

std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (i) out += rs;
        append_clean(out, v[i]);
    }
    return out;
}

std::vector<std::string> split(std::string_view s, char sep) {
    std::vector<std::string> out;
    if (s.empty()) return out;
    for (;;) {
        auto p = s.find(sep);
        out.emplace_back(s.substr(0, p));
        if (p == std::string_view::npos) break;
        s.remove_prefix(p + 1);
    }
    return out;
}

std::string encode_mailboxes(const std::vector<mailbox>& v) {
    std::string out;
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (i) out += rs;
        append_clean(out, v[i].name);
        out += us;
        append_clean(out, v[i].address);
    }
    return out;
}

std::vector<mailbox> decode_mailboxes(std::string_view s) {
    std::vector<mailbox> out;
    for (auto& e : split(s, rs)) {
        auto p = e.find(us);
        if (p == std::string::npos) out.push_back({{}, e});
        else out.push_back({e.substr(0, p), e.substr(p + 1)});
    }
    return out;
}

std::string sender_text(const indexed_message& m) {
    std::string out = m.envelope_from;
    for (const auto& a : m.from) out += ' ' + a.name + ' ' + a.address;
    return out;
}

std::string recipients_text(const indexed_message& m) {
    std::string out;
    for (const auto& r : m.envelope_to) out += ' ' + r;
    for (const auto* list : {&m.to, &m.cc})
        for (const auto& a : *list) out += ' ' + a.name + ' ' + a.address;
    return out;
}

std::int64_t to_seconds(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}
std::chrono::system_clock::time_point from_seconds(std::int64_t s) {
    return std::chrono::system_clock::time_point(std::chrono::seconds(s));
}

indexed_message read_row(const statement& s) {
    indexed_message m;
    m.folder = s.text(0);
    m.id = s.text(1);
    m.path = s.text(2);
    m.envelope_from = s.text(3);
    m.envelope_to = split(s.text(4), rs);
    m.arrival = from_seconds(s.integer(5));
    m.size = static_cast<std::uint64_t>(s.integer(6));
    m.from = decode_mailboxes(s.text(7));
    m.to = decode_mailboxes(s.text(8));
    m.cc = decode_mailboxes(s.text(9));
    m.subject = s.text(10);
    if (!s.is_null(11)) m.date = from_seconds(s.integer(11));
    m.attachments = static_cast<std::uint32_t>(s.integer(12));
    m.snippet = s.text(13);
    m.read = s.integer(14) != 0;
    m.message_id = s.text(15);
    m.reply_to = decode_mailboxes(s.text(16));
    // The badges are NULL when no verdict was made (mail the server did not check).
    if (!s.is_null(17)) m.auth = auth_badges{s.text(17), s.text(18), s.text(19), s.integer(20) != 0};
    return m;
}

}  // namespace postern::index::detail::rows
