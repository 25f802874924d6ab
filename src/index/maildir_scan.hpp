// SPDX-License-Identifier: MIT
#pragma once
// Internal: reading the Maildir back for message_index::rebuild().
#include "index/message_index.hpp"

#include <functional>
#include <optional>

namespace postern::index::detail {

/// What the trace fields the server added say: the Return-Path (without '<' '>'), the first
/// Received field's "for" recipient and its date.
struct trace_info {
    std::optional<std::string> return_path;
    std::optional<std::string> for_recipient;
    std::optional<std::chrono::system_clock::time_point> received_at;
};
trace_info read_trace(std::string_view raw);

/// The next line of `raw` without its line end (CRLF or LF); `raw` moves past it.
std::string_view take_line(std::string_view& raw);

/// The recipient a per-recipient folder name stands for (store::safe_folder_name() undone), or
/// nothing for "inbox", a shortened name (with '~') or a name that is not an address.
std::optional<std::string> recipient_of_folder(std::string_view folder);

/// Calls `sink` with one record per file in mail_root/*/{new,cur} (dot files skipped), in no
/// particular order; stops when `sink` returns false.
rebuild_report scan_maildir(const std::filesystem::path& mail_root, const std::function<bool(indexed_message&&)>& sink);

}  // namespace postern::index::detail
