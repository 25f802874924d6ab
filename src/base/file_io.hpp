// SPDX-License-Identifier: MIT
#pragma once
/// The POSIX file steps the durable stores (Maildir, queue) share.
#include <filesystem>
#include <span>
#include <system_error>

namespace postern {

/// write(2)s every byte, retrying partial writes and EINTR.
std::error_code write_all(int fd, std::span<const char> bytes);
/// fsync(2)s a directory, making the entries created or removed in it durable.
std::error_code fsync_dir(const std::filesystem::path& dir);

}  // namespace postern
