// SPDX-License-Identifier: MIT
#pragma once
/// Errors of the message index, as std::error_code: the index's own conditions (index_errc) and
/// SQLite result codes (sqlite_category(), the value is the extended result code).
#include <system_error>

namespace postern::index {

enum class index_errc {
    bad_query = 1,    ///< search(): the query could not be run as a full-text query (a 400 for the web API)
    schema_too_new,   ///< the database was written by a newer postern (open() recreates it when allowed)
    bad_record,       ///< add(): an empty id or folder
};

const std::error_category& index_category() noexcept;
inline std::error_code make_error_code(index_errc e) noexcept { return {static_cast<int>(e), index_category()}; }

/// SQLite's result codes; message() is sqlite3_errstr().
const std::error_category& sqlite_category() noexcept;

}  // namespace postern::index

template <>
struct std::is_error_code_enum<postern::index::index_errc> : std::true_type {};
