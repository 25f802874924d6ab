// SPDX-License-Identifier: MIT
#include "web/json_views.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace postern::web {
namespace {

json address_json(const std::string& name, const std::string& address) {
    return json{{"Name", name}, {"Address", address}};
}

json mailboxes_json(const std::vector<index::mailbox>& v) {
    json out = json::array();
    for (const auto& m : v) out.push_back(address_json(m.name, m.address));
    return out;
}

json mailboxes_json(const std::vector<message::mailbox_address>& v) {
    json out = json::array();
    for (const auto& m : v) out.push_back(address_json(m.name, m.address));
    return out;
}

json attachment_json(const message::attachment_info& a) {
    return json{{"PartID", a.part_id}, {"FileName", a.filename}, {"ContentType", a.content_type},
                {"ContentID", a.content_id}, {"Size", a.size}};
}

// The badges of a message, or null when no verdict was made (postern's addition: Mailpit has
// no such field, and its clients ignore fields they do not know).
json auth_json(const std::optional<index::auth_badges>& a) {
    if (!a) return nullptr;
    return json{{"SPF", a->spf}, {"DKIM", a->dkim}, {"DMARC", a->dmarc}, {"Aligned", a->aligned}};
}

// The whole verdict as the index stored it; null when there is none (or, which the index
// prevents, it is not JSON).
json verdict_json(const std::string& verdict) {
    if (verdict.empty()) return nullptr;
    json j = json::parse(verdict, nullptr, false);
    return j.is_object() ? j : json(nullptr);
}

}  // namespace

std::string rfc3339(std::chrono::system_clock::time_point t) {
    return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", std::chrono::floor<std::chrono::seconds>(t));
}

json summary_json(const index::indexed_message& m) {
    return json{
        {"ID", m.id},
        {"MessageID", m.message_id},
        {"Read", m.read},
        {"From", m.from.empty() ? json(nullptr) : address_json(m.from.front().name, m.from.front().address)},
        {"To", mailboxes_json(m.to)},
        {"Cc", mailboxes_json(m.cc)},
        {"Bcc", json::array()},  // not indexed: GET /api/v1/message/{ID} has it
        {"ReplyTo", mailboxes_json(m.reply_to)},
        {"Subject", m.subject},
        {"Created", rfc3339(m.arrival)},
        {"Username", ""},
        {"Tags", json::array()},
        {"Size", m.size},
        {"Attachments", m.attachments},
        {"Snippet", m.snippet},
        {"Auth", auth_json(m.auth)},
    };
}

json page_json(const index::page& p, const index::totals& mailbox, std::size_t start) {
    json list = json::array();
    for (const auto& m : p.messages) list.push_back(summary_json(m));
    return json{{"total", mailbox.messages},  {"unread", mailbox.unread},         {"count", p.messages.size()},
                {"messages_count", p.total}, {"messages_unread", p.unread},      {"start", start},
                {"tags", json::array()},      {"messages", std::move(list)}};
}

json message_json(const index::indexed_message& row, const message::parsed_message& parsed) {
    json inline_parts = json::array(), attachments = json::array();
    for (const auto& a : parsed.attachments) (a.is_inline ? inline_parts : attachments).push_back(attachment_json(a));
    return json{
        {"ID", row.id},
        {"MessageID", parsed.message_id},
        {"From", parsed.from.empty() ? json(nullptr) : address_json(parsed.from.front().name, parsed.from.front().address)},
        {"To", mailboxes_json(parsed.to)},
        {"Cc", mailboxes_json(parsed.cc)},
        {"Bcc", mailboxes_json(parsed.bcc)},
        {"ReplyTo", mailboxes_json(parsed.reply_to)},
        {"ReturnPath", row.envelope_from},
        {"Subject", parsed.subject},
        {"Date", rfc3339(parsed.date.value_or(row.arrival))},
        {"Tags", json::array()},
        {"Username", ""},
        {"Text", parsed.text},
        {"HTML", parsed.html},
        {"Size", row.size},
        {"Inline", std::move(inline_parts)},
        {"Attachments", std::move(attachments)},
        {"Headers", headers_json(parsed)},
        {"Auth", auth_json(row.auth)},
        {"Authentication", verdict_json(row.verdict)},
    };
}

json headers_json(const message::parsed_message& parsed) {
    json out = json::object();
    for (const auto& f : parsed.headers()) {
        auto& values = out[f.name];
        if (!values.is_array()) values = json::array();
        values.push_back(message::decode_header_value(f.value));
    }
    return out;
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace postern::web
