// SPDX-License-Identifier: MIT
// One message on its way into the queue, and the small file helpers the queue shares.
//
// The message is held in a fixed-size buffer and written to tmp/<id>.data once the buffer is full,
// so memory never grows with the message. At commit the committer thread writes the rest, syncs
// the data, writes the envelope to tmp/<id>.json and syncs it, then renames the data into data/ and
// the envelope into env/ (each followed by a directory fsync, shared by the batch). Until the
// committer marks it committed, the destructor removes every file of the message wherever it is:
// an abandoned or failed message leaves nothing behind.
#include "spool/envelope_codec.hpp"
#include "spool/queue_internal.hpp"
#include "spool/spool_errors.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

namespace postern::spool {

bool valid_queue_id(std::string_view id) noexcept {
    if (id.empty() || id.size() > 64 || id.front() == '.' || id.find("..") != std::string_view::npos) return false;
    for (char c : id)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '.' || c == '-')) return false;
    return true;
}

namespace detail {

std::error_code check_fault(const fault_hook& hook, std::string_view step) {
    return hook ? hook(step) : std::error_code{};
}

result<std::string> read_small_file(const std::filesystem::path& p, std::size_t max) {
    unique_fd fd{::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW)};
    if (!fd) return fail(last_system_error());
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return fail(last_system_error());
    if (!S_ISREG(st.st_mode)) return fail(spool_errc::bad_envelope);
    if (static_cast<std::uint64_t>(st.st_size) > max) return fail(spool_errc::envelope_too_large);
    std::string out(static_cast<std::size_t>(st.st_size), '\0');
    std::size_t got = 0;
    while (got < out.size()) {
        ssize_t n = ::read(fd.get(), out.data() + got, out.size() - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail(last_system_error());
        if (n == 0) break;  // shorter than fstat said: read what is there
        got += static_cast<std::size_t>(n);
    }
    out.resize(got);
    return out;
}

std::error_code write_synced(const std::filesystem::path& tmp_path, std::string_view text, const fault_hook& hook) {
    unique_fd fd{::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)};
    if (!fd) return last_system_error();
    auto ec = check_fault(hook, "envelope.write");
    if (!ec) ec = write_all(fd.get(), text);
    if (!ec) ec = check_fault(hook, "envelope.sync");
    if (!ec && ::fsync(fd.get()) != 0) ec = last_system_error();
    if (ec) ::unlink(tmp_path.c_str());
    return ec;
}

std::string make_queue_id(std::chrono::system_clock::time_point t) {
    static std::atomic<std::uint64_t> counter{0};
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
    if (us < 0) us = 0;
    return fmt::format("{:x}.{:05x}p{:x}q{:x}", us / 1000000, us % 1000000, static_cast<unsigned>(::getpid()),
                       counter.fetch_add(1, std::memory_order_relaxed));
}

writer_impl::writer_impl(const queue_paths& paths, queued_message envelope, std::size_t buffer_size, fault_hook hook)
    : paths_(paths), envelope_(std::move(envelope)), hook_(std::move(hook)), capacity_(buffer_size == 0 ? 1 : buffer_size) {
    buffer_.reserve(capacity_);
}

writer_impl::~writer_impl() {
    if (committed_) return;
    const auto& id = envelope_.id;
    if (env_published_) ::unlink(paths_.env_file(id).c_str());
    if (data_published_) ::unlink(paths_.data_file(id).c_str());
    if (env_tmp_) ::unlink((paths_.tmp / (id + ".json")).c_str());
    if (data_tmp_) ::unlink((paths_.tmp / (id + ".data")).c_str());
}

std::error_code writer_impl::put(std::span<const char> bytes) {
    if (error_) return error_;
    if (!fd_) {
        auto path = paths_.tmp / (envelope_.id + ".data");
        fd_.reset(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
        if (!fd_) return error_ = last_system_error();
        data_tmp_ = true;
    }
    if (bytes.empty()) return {};
    if (auto ec = check_fault(hook_, "data.write")) return error_ = ec;
    if (auto ec = write_all(fd_.get(), bytes)) error_ = ec;
    return error_;
}

std::error_code writer_impl::flush() {
    put(buffer_);
    buffer_.clear();
    return error_;
}

result<void> writer_impl::write(std::span<const char> bytes) {
    if (error_) return fail(error_);
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

std::error_code writer_impl::stage() {
    if (flush()) return error_;  // also creates the file of an empty message
    if (auto ec = check_fault(hook_, "data.sync")) return error_ = ec;
    if (::fdatasync(fd_.get()) != 0) return error_ = last_system_error();
    fd_.reset();
    envelope_.size = size_;
    auto text = encode_envelope(envelope_);
    // open() refuses envelopes past this size: better a refused message now than a lost one then.
    if (text.size() > max_envelope_size) return error_ = make_error_code(spool_errc::envelope_too_large);
    auto ec = write_synced(paths_.tmp / (envelope_.id + ".json"), text, hook_);
    if (ec) return error_ = ec;
    env_tmp_ = true;
    return {};
}

// Never over an existing name: a queue id reused (a clock stepped back in a container whose pid
// is always 1) must fail the new message, not replace an acknowledged one.
std::error_code rename_noreplace(const std::filesystem::path& from, const std::filesystem::path& to) {
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return {};
    if (errno != EINVAL && errno != ENOSYS) return last_system_error();
    if (::link(from.c_str(), to.c_str()) != 0) return last_system_error();  // EEXIST as well
    ::unlink(from.c_str());
    return {};
}

std::error_code writer_impl::publish_data() {
    if (error_) return error_;
    if (auto ec = check_fault(hook_, "data.rename")) return error_ = ec;
    auto from = paths_.tmp / (envelope_.id + ".data");
    if (auto ec = rename_noreplace(from, paths_.data_file(envelope_.id))) return error_ = ec;
    data_tmp_ = false;
    data_published_ = true;
    return {};
}

std::error_code writer_impl::publish_envelope() {
    if (error_) return error_;
    if (auto ec = check_fault(hook_, "envelope.rename")) return error_ = ec;
    auto from = paths_.tmp / (envelope_.id + ".json");
    if (auto ec = rename_noreplace(from, paths_.env_file(envelope_.id))) return error_ = ec;
    env_tmp_ = false;
    env_published_ = true;
    return {};
}

}  // namespace detail
}  // namespace postern::spool
