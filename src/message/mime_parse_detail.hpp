// SPDX-License-Identifier: MIT
#pragma once
// Shared between mime_parse.cpp and mime_parse_fields.cpp. Internal to src/message.
#include "message/mime_parse.hpp"

namespace postern::message::detail {

/// Fills the convenience fields (from, to, cc, bcc, reply_to, subject, message_id, date) from
/// the top-level header of `m`. Sets *unknown_charset when an encoded-word's charset is unknown.
void fill_header_fields(parsed_message& m, const parse_limits& limits, bool& unknown_charset);

/// The value between '<' and '>' when it starts with '<', else the trimmed value.
std::string strip_angles(std::string_view v);

}  // namespace postern::message::detail
