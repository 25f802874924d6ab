// SPDX-License-Identifier: MIT
#include "web/mapped_file.hpp"

#include "base/unique_fd.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <cerrno>
#include <system_error>

namespace postern::web {

std::filesystem::path current_path(const std::filesystem::path& stored, std::string_view id) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (fs::is_regular_file(stored, ec)) return stored;
    const std::string prefix = std::string(id) + ":";
    for (fs::directory_iterator it(stored.parent_path().parent_path() / "cur", ec), end; !ec && it != end; it.increment(ec))
        if (it->path().filename().string().starts_with(prefix)) return it->path();
    return stored;
}

result<mapped_file> mapped_file::open(const std::filesystem::path& path) {
    unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) return fail(std::error_code(errno, std::generic_category()));
    struct stat st{};
    if (::fstat(fd.get(), &st) != 0) return fail(std::error_code(errno, std::generic_category()));
    if (!S_ISREG(st.st_mode)) return fail(std::make_error_code(std::errc::invalid_argument));
    mapped_file f;
    if (st.st_size == 0) return f;
    void* p = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd.get(), 0);
    if (p == MAP_FAILED) return fail(std::error_code(errno, std::generic_category()));
    f.data_ = p;
    f.size_ = static_cast<std::size_t>(st.st_size);
    return f;
}

mapped_file& mapped_file::operator=(mapped_file&& o) noexcept {
    if (this != &o) {
        if (data_) ::munmap(data_, size_);
        data_ = o.data_, size_ = o.size_;
        o.data_ = nullptr, o.size_ = 0;
    }
    return *this;
}

mapped_file::~mapped_file() {
    if (data_) ::munmap(data_, size_);
}

}  // namespace postern::web
