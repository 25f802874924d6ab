// SPDX-License-Identifier: MIT
#pragma once
/// A stored message file mapped read-only: its bytes without a copy on the heap, so reading a
/// large message for the web inbox costs page cache, not process memory.
#include "base/expected.hpp"

#include <cstddef>
#include <filesystem>
#include <string_view>

namespace postern::web {

/// Where a stored message file is now: `stored` (as the index has it), or, when an IMAP server
/// has moved it, the file in the same folder's cur/ named `id` + ":2,<flags>". `stored` when
/// neither exists.
std::filesystem::path current_path(const std::filesystem::path& stored, std::string_view id);

class mapped_file {
public:
    /// Maps the whole file; an empty file maps to an empty view. Errors: ENOENT, EACCES, ...
    static result<mapped_file> open(const std::filesystem::path& path);
    mapped_file() = default;
    mapped_file(mapped_file&& o) noexcept : data_(o.data_), size_(o.size_) { o.data_ = nullptr, o.size_ = 0; }
    mapped_file& operator=(mapped_file&& o) noexcept;
    mapped_file(const mapped_file&) = delete;
    mapped_file& operator=(const mapped_file&) = delete;
    ~mapped_file();

    std::string_view bytes() const noexcept { return {static_cast<const char*>(data_), size_}; }

private:
    void* data_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace postern::web
