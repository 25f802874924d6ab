// SPDX-License-Identifier: MIT
// describe(): the fields of the index from a message's bytes, with bounded work.
#include "index/message_index.hpp"
#include "message/mime_parse.hpp"

#include <algorithm>

namespace postern::index {
namespace {

// Tighter than the parser's defaults: the index needs the top-level fields, the text body and
// an attachment count, not every corner of a hostile message.
constexpr message::parse_limits index_limits{.max_depth = 20, .max_parts = 200, .max_headers = 300, .max_addresses = 200};

// Cuts `s` to at most `n` octets without splitting a UTF-8 sequence.
void cut_utf8(std::string& s, std::size_t n) {
    if (s.size() <= n) return;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    s.resize(n);
}

std::vector<mailbox> to_mailboxes(const std::vector<message::mailbox_address>& in) {
    std::vector<mailbox> out;
    out.reserve(in.size());
    for (const auto& a : in) out.push_back({a.name, a.address});
    return out;
}

}  // namespace

indexed_message describe(std::string_view raw, envelope env) {
    indexed_message m;
    m.id = std::move(env.id);
    m.folder = std::move(env.folder);
    m.path = std::move(env.path);
    m.envelope_from = std::move(env.envelope_from);
    m.envelope_to = std::move(env.envelope_to);
    m.arrival = env.arrival;
    m.size = env.size != 0 ? env.size : raw.size();
    m.auth = badges_of(env.verdict);
    // The badges are kept whatever the size; the whole verdict only when it is of a sane size
    // (verdict.cpp's output is a few hundred octets per DKIM signature).
    if (m.auth && env.verdict.size() <= max_verdict_octets) m.verdict = std::move(env.verdict);

    auto parsed = message::parse_message(raw.substr(0, std::min(raw.size(), max_parsed_octets)), index_limits);
    m.from = to_mailboxes(parsed.from);
    m.to = to_mailboxes(parsed.to);
    m.cc = to_mailboxes(parsed.cc);
    m.reply_to = to_mailboxes(parsed.reply_to);
    m.subject = std::move(parsed.subject);
    m.message_id = std::move(parsed.message_id);
    m.date = parsed.date;
    // As Mailpit counts them: inline parts (cid: images) are not attachments.
    m.attachments = static_cast<std::uint32_t>(
        std::count_if(parsed.attachments.begin(), parsed.attachments.end(), [](const auto& a) { return !a.is_inline; }));
    m.snippet = message::snippet(parsed, snippet_chars);
    m.text = !parsed.text.empty() ? std::move(parsed.text) : message::html_to_text(parsed.html);
    cut_utf8(m.text, max_indexed_text);
    return m;
}

}  // namespace postern::index
