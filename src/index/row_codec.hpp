// SPDX-License-Identifier: MIT
#pragma once
// Internal to message_index: how a message's fields become columns and come back. Lists are
// stored as text: entries split by RS (0x1E), name and address by US (0x1F); those two octets are
// dropped from the values (they never occur in decoded mail text worth keeping).
#include "index/message_index.hpp"
#include "index/sqlite_db.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace postern::index::detail::rows {

/// The columns read_row() reads, in its order (select_by_id adds m.rowid after them).
inline constexpr std::string_view columns =
    "m.folder, m.id, m.path, m.envelope_from, m.envelope_to, m.arrival, m.size, m.from_list, m.to_list, "
    "m.cc_list, m.subject, m.date, m.attachments, m.snippet, m.read, m.message_id, m.reply_list, m.auth_spf, "
    "m.auth_dkim, m.auth_dmarc, m.auth_aligned";
inline constexpr int column_count = 21;

inline constexpr char rs = '\x1e';
inline constexpr char us = '\x1f';

std::string join(const std::vector<std::string>& v);
std::vector<std::string> split(std::string_view s, char sep);
std::string encode_mailboxes(const std::vector<mailbox>& v);
std::vector<mailbox> decode_mailboxes(std::string_view s);
/// The "sender" column of the full-text index: the envelope sender, the From names and addresses.
std::string sender_text(const indexed_message& m);
/// The "recipients" column: envelope recipients, To and Cc.
std::string recipients_text(const indexed_message& m);
std::int64_t to_seconds(std::chrono::system_clock::time_point t);
std::chrono::system_clock::time_point from_seconds(std::int64_t s);
/// One row of `columns`.
indexed_message read_row(const statement& s);

}  // namespace postern::index::detail::rows
