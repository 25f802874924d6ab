// SPDX-License-Identifier: MIT
#pragma once
// Internal: thin RAII over the SQLite C API (a connection, prepared statements, a transaction).
#include "base/expected.hpp"
#include "index/errors.hpp"

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace postern::index::detail {

inline std::error_code sqlite_error(int rc) { return {rc, sqlite_category()}; }

class statement {
public:
    statement() = default;
    explicit statement(sqlite3_stmt* s) : s_(s) {}
    ~statement() { ::sqlite3_finalize(s_); }
    statement(statement&& o) noexcept : s_(o.s_) { o.s_ = nullptr; }
    statement& operator=(statement&& o) noexcept {
        std::swap(s_, o.s_);
        return *this;
    }

    static result<statement> prepare(sqlite3* db, std::string_view sql) {
        sqlite3_stmt* s = nullptr;
        int rc = ::sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &s, nullptr);
        if (rc != SQLITE_OK) {
            ::sqlite3_finalize(s);
            return fail(sqlite_error(::sqlite3_extended_errcode(db)));
        }
        return statement(s);
    }

    // Binding: 1-based indices as in SQLite. Text is copied (SQLITE_TRANSIENT).
    statement& bind(int i, std::string_view v) {
        // A null pointer would bind SQL NULL: an empty view is the empty string.
        ::sqlite3_bind_text(s_, i, v.data() ? v.data() : "", static_cast<int>(v.size()), SQLITE_TRANSIENT);
        return *this;
    }
    statement& bind(int i, std::int64_t v) {
        ::sqlite3_bind_int64(s_, i, v);
        return *this;
    }
    statement& bind_null(int i) {
        ::sqlite3_bind_null(s_, i);
        return *this;
    }

    /// SQLITE_ROW: a row is ready; SQLITE_DONE: finished; anything else is an error.
    int step() { return ::sqlite3_step(s_); }
    /// Runs to completion; ready to be used again afterwards.
    result<void> run() {
        int rc = step();
        reset();
        if (rc != SQLITE_DONE && rc != SQLITE_ROW) return fail(sqlite_error(rc));
        return {};
    }
    void reset() {
        ::sqlite3_reset(s_);
        ::sqlite3_clear_bindings(s_);
    }

    std::int64_t integer(int col) const { return ::sqlite3_column_int64(s_, col); }
    bool is_null(int col) const { return ::sqlite3_column_type(s_, col) == SQLITE_NULL; }
    std::string text(int col) const {
        auto p = reinterpret_cast<const char*>(::sqlite3_column_text(s_, col));
        return p ? std::string(p, static_cast<std::size_t>(::sqlite3_column_bytes(s_, col))) : std::string();
    }

private:
    sqlite3_stmt* s_ = nullptr;
};

// Resets a statement when leaving a scope, so an early return never leaves it mid-step.
class reset_guard {
public:
    explicit reset_guard(statement& s) : s_(s) {}
    ~reset_guard() { s_.reset(); }
    reset_guard(const reset_guard&) = delete;
    reset_guard& operator=(const reset_guard&) = delete;

private:
    statement& s_;
};

inline result<void> exec(sqlite3* db, const char* sql) {
    int rc = ::sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return fail(sqlite_error(::sqlite3_extended_errcode(db)));
    return {};
}

// BEGIN IMMEDIATE ... COMMIT, rolled back unless commit() succeeded.
class transaction {
public:
    explicit transaction(sqlite3* db) : db_(db) {}
    ~transaction() {
        if (open_) ::sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    transaction(const transaction&) = delete;
    transaction& operator=(const transaction&) = delete;
    result<void> begin() {
        auto r = exec(db_, "BEGIN IMMEDIATE");
        open_ = r.has_value();
        return r;
    }
    result<void> commit() {
        auto r = exec(db_, "COMMIT");
        if (r) open_ = false;
        return r;
    }

private:
    sqlite3* db_;
    bool open_ = false;
};

}  // namespace postern::index::detail
