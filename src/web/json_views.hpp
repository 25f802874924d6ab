// SPDX-License-Identifier: MIT
#pragma once
/// The JSON shapes of the web API (docs/web.md), in Mailpit's field names.
#include "index/message_index.hpp"
#include "message/mime_parse.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <string>

namespace postern::web {

using json = nlohmann::json;

/// RFC 3339 in UTC with seconds: "2026-11-23T10:00:00Z".
std::string rfc3339(std::chrono::system_clock::time_point t);

/// A message in a list, a search or a "new" event.
json summary_json(const index::indexed_message& m);

/// {"total", "unread", "count", "messages_count", "messages_unread", "start", "tags", "messages"}.
json page_json(const index::page& p, const index::totals& mailbox, std::size_t start);

/// GET /api/v1/message/{ID}: the parsed message (`raw` is what `parsed` was read from).
json message_json(const index::indexed_message& row, const message::parsed_message& parsed);

/// {"Name": ["value", ...]}: every field of the top-level header, values decoded for display.
json headers_json(const message::parsed_message& parsed);

/// The text of a JSON document for the wire: invalid UTF-8 replaced, never an exception.
std::string dump(const json& j);

}  // namespace postern::web
