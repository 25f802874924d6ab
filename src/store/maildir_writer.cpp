// SPDX-License-Identifier: MIT
// One message on its way into Maildir: held in a fixed-size buffer, written to tmp/ once the buffer
// is full, then (on the committer thread) flushed, synced and linked into new/. The tmp/ file is
// created lazily: a message that fits in the buffer never touches the file system on the session's
// thread, so a session never waits behind the journal commit of another batch's flush. Until
// publish() succeeds the only name of the file is in tmp/, and the destructor removes it: an
// abandoned or failed message leaves nothing behind.
#include "store/maildir_internal.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

namespace postern::store::detail {

result<std::unique_ptr<maildir_writer>> maildir_writer::create(std::vector<std::filesystem::path> folders,
                                                               std::string id, std::string file_name,
                                                               std::size_t buffer_size) {
    if (folders.empty()) return fail(std::make_error_code(std::errc::invalid_argument));
    return std::unique_ptr<maildir_writer>(
        new maildir_writer(unique_fd{}, std::move(folders), std::move(id), std::move(file_name), buffer_size));
}

maildir_writer::maildir_writer(unique_fd fd, std::vector<std::filesystem::path> folders, std::string id,
                               std::string file_name, std::size_t buffer_size)
    : fd_(std::move(fd)),
      folders_(std::move(folders)),
      id_(std::move(id)),
      file_name_(std::move(file_name)),
      tmp_path_(folders_.front() / "tmp" / file_name_),
      capacity_(buffer_size) {
    buffer_.reserve(capacity_);
}

maildir_writer::~maildir_writer() {
    if (tmp_present_) ::unlink(tmp_path_.c_str());
}

std::error_code maildir_writer::open_file() {
    if (fd_ || error_) return error_;
    fd_.reset(::open(tmp_path_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!fd_) error_ = last_system_error();
    else tmp_present_ = true;
    return error_;
}

result<void> maildir_writer::write(std::span<const char> bytes) {
    if (error_) return fail(error_);
    if (!pending_.empty()) return fail(std::make_error_code(std::errc::operation_not_permitted));  // inserts come last
    if (buffer_.size() + bytes.size() > capacity_) {
        if (auto ec = flush()) return fail(ec);
        if (bytes.size() >= capacity_) {  // a big piece goes straight to the file, uncopied
            if (auto ec = put(bytes)) return fail(ec);
            size_ += bytes.size();
            return {};
        }
    }
    buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
    size_ += bytes.size();
    return {};
}

// While the message is in the buffer, in place. Past that, the insert waits for flush() on the
// committer thread: rewriting a large file here would stall every session on the I/O thread.
result<void> maildir_writer::insert(std::uint64_t offset, std::span<const char> bytes) {
    if (error_) return fail(error_);
    if (offset > size_) return fail(std::make_error_code(std::errc::invalid_argument));
    if (!fd_) {  // all of it is still in the buffer (it may now exceed capacity_ by these bytes)
        buffer_.insert(buffer_.begin() + static_cast<std::ptrdiff_t>(offset), bytes.begin(), bytes.end());
    } else {
        pending_.push_back({offset, std::string(bytes.data(), bytes.size())});
        pending_bytes_ += bytes.size();
    }
    size_ += bytes.size();
    return {};
}

// The first size_ - buffer_.size() octets are in the file, the rest in the buffer.
result<void> maildir_writer::overwrite(std::uint64_t offset, std::span<const char> bytes) {
    if (error_) return fail(error_);
    if (!pending_.empty()) return fail(std::make_error_code(std::errc::operation_not_permitted));  // before inserts
    if (offset > size_ || bytes.size() > size_ - offset) return fail(std::make_error_code(std::errc::invalid_argument));
    const std::uint64_t in_file = size_ - buffer_.size();
    while (!bytes.empty() && offset < in_file) {
        const auto n = std::min<std::uint64_t>(bytes.size(), in_file - offset);
        ssize_t w = ::pwrite(fd_.get(), bytes.data(), static_cast<std::size_t>(n), static_cast<off_t>(offset));
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return fail(error_ = w < 0 ? last_system_error() : std::make_error_code(std::errc::io_error));
        bytes = bytes.subspan(static_cast<std::size_t>(w));
        offset += static_cast<std::uint64_t>(w);
    }
    if (!bytes.empty()) std::copy(bytes.begin(), bytes.end(), buffer_.begin() + static_cast<std::ptrdiff_t>(offset - in_file));
    return {};
}

namespace {

// Copies [offset, offset + length) of `in` to the end of `out`: in the kernel where it can, else
// through a small buffer.
std::error_code copy_range(int in, int out, std::uint64_t offset, std::uint64_t length) {
    auto pos = static_cast<off64_t>(offset);
    while (length > 0) {
        ssize_t n = ::copy_file_range(in, &pos, out, nullptr, length, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP || errno == EINVAL)) break;
        if (n < 0) return last_system_error();
        if (n == 0) return std::make_error_code(std::errc::io_error);  // the file is shorter than it should be
        length -= static_cast<std::uint64_t>(n);
    }
    char chunk[16 * 1024];
    while (length > 0) {
        ssize_t n = ::pread(in, chunk, std::min<std::uint64_t>(length, sizeof chunk), pos);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return last_system_error();
        if (n == 0) return std::make_error_code(std::errc::io_error);
        if (auto ec = write_all(out, std::span<const char>(chunk, static_cast<std::size_t>(n)))) return ec;
        pos += n;
        length -= static_cast<std::uint64_t>(n);
    }
    return {};
}

}  // namespace

// The message's first `file_size` octets are in tmp/: write a second tmp/ file with the bytes
// inserted, then rename it over the first (on the committer thread, from flush()). Never seen in new/, so a crash here loses nothing acknowledged.
std::error_code maildir_writer::rewrite_with(std::uint64_t offset, std::span<const char> bytes, std::uint64_t file_size) {
    auto next_path = tmp_path_;
    next_path += ",rewrite";
    unique_fd next{::open(next_path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600)};
    if (!next) return error_ = last_system_error();
    auto ec = copy_range(fd_.get(), next.get(), 0, offset);
    if (!ec) ec = write_all(next.get(), bytes);
    if (!ec) ec = copy_range(fd_.get(), next.get(), offset, file_size - offset);
    if (!ec && ::rename(next_path.c_str(), tmp_path_.c_str()) != 0) ec = last_system_error();
    if (ec) {
        ::unlink(next_path.c_str());
        return error_ = ec;
    }
    fd_ = std::move(next);
    return {};
}

std::error_code maildir_writer::put(std::span<const char> bytes) {
    if (open_file()) return error_;
    if (auto ec = write_all(fd_.get(), bytes)) error_ = ec;
    return error_;
}

std::error_code maildir_writer::flush() {
    if (open_file()) return error_;
    if (!buffer_.empty()) {
        put(buffer_);
        buffer_.clear();
    }
    std::uint64_t file_size = size_ - pending_bytes_;
    for (const auto& p : pending_) {
        if (error_ || rewrite_with(p.offset, std::span<const char>(p.bytes.data(), p.bytes.size()), file_size)) break;
        file_size += p.bytes.size();
    }
    pending_.clear();
    pending_bytes_ = 0;
    return error_;
}

std::error_code maildir_writer::sync_data() {
    if (!error_ && ::fdatasync(fd_.get()) != 0) error_ = last_system_error();
    return error_;
}

std::error_code maildir_writer::publish() {
    // One folder: a rename that refuses to replace a file already in new/ (one system call).
    if (folders_.size() == 1) {
        auto dst = folders_.front() / "new" / file_name_;
        if (::renameat2(AT_FDCWD, tmp_path_.c_str(), AT_FDCWD, dst.c_str(), RENAME_NOREPLACE) == 0) {
            fd_.reset();
            tmp_present_ = false;
            return {};
        }
        if (errno != EINVAL && errno != ENOSYS) return last_system_error();
        // The file system has no RENAME_NOREPLACE: link and unlink below do the same.
    }
    // linkat, not rename: it fails with EEXIST instead of replacing a file already in new/.
    for (std::size_t i = 0; i < folders_.size(); ++i) {
        auto dst = folders_[i] / "new" / file_name_;
        if (::linkat(AT_FDCWD, tmp_path_.c_str(), AT_FDCWD, dst.c_str(), 0) != 0) {
            auto ec = last_system_error();
            for (std::size_t j = 0; j < i; ++j) ::unlink((folders_[j] / "new" / file_name_).c_str());
            return ec;
        }
    }
    fd_.reset();
    // A tmp/ name that survives here (unlink failed, or a crash) is removed by the next open().
    if (::unlink(tmp_path_.c_str()) == 0) tmp_present_ = false;
    return {};
}

void maildir_writer::withdraw() noexcept {
    for (const auto& f : folders_) ::unlink((f / "new" / file_name_).c_str());
}

}  // namespace postern::store::detail
