// SPDX-License-Identifier: MIT
#include "base/file_io.hpp"

#include "base/expected.hpp"
#include "base/unique_fd.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace postern {

std::error_code write_all(int fd, std::span<const char> bytes) {
    while (!bytes.empty()) {
        ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return last_system_error();
        }
        bytes = bytes.subspan(static_cast<std::size_t>(n));
    }
    return {};
}

std::error_code fsync_dir(const std::filesystem::path& dir) {
    unique_fd fd{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
    if (!fd) return last_system_error();
    if (::fsync(fd.get()) != 0) return last_system_error();
    return {};
}

}  // namespace postern
