// SPDX-License-Identifier: MIT
#include "index/errors.hpp"

#include <sqlite3.h>

#include <string>

namespace postern::index {
namespace {

class index_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "postern.index"; }
    std::string message(int ev) const override {
        switch (static_cast<index_errc>(ev)) {
        case index_errc::bad_query: return "search query cannot be run";
        case index_errc::schema_too_new: return "index schema is newer than this program";
        case index_errc::bad_record: return "message record without id or folder";
        }
        return "unknown index error";
    }
};

class sqlite_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "sqlite"; }
    std::string message(int ev) const override { return ::sqlite3_errstr(ev); }
};

}  // namespace

const std::error_category& index_category() noexcept {
    static const index_category_impl c;
    return c;
}

const std::error_category& sqlite_category() noexcept {
    static const sqlite_category_impl c;
    return c;
}

}  // namespace postern::index
