// SPDX-License-Identifier: MIT
#pragma once
// Private to src/store/: the pieces maildir_store.cpp wires together. Nothing outside the folder
// includes this file.
#include "base/file_io.hpp"
#include "base/unique_fd.hpp"
#include "store/maildir_store.hpp"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string_view>
#include <system_error>
#include <thread>

namespace postern::store::detail {

using postern::fsync_dir;
using postern::write_all;

// Maildir names (cr.yp.to/proto/maildir.html): "<secs>.M<usec>P<pid>Q<n>" is the id; the file
// name appends "." and the host name with '/' and ':' written as "\057" and "\072".
std::string escape_hostname(std::string_view host);
std::string make_unique_id(std::chrono::system_clock::time_point t);
// True for a file name this program creates with this (escaped) host name.
bool is_own_file_name(std::string_view name, std::string_view escaped_host);

// The message_writer of maildir_store: a file in the first folder's tmp/, buffered.
class maildir_writer final : public message_writer {
public:
    // Will write folders.front()/tmp/<file_name> (O_EXCL, created when the buffer first fills or at
    // commit). `folders` are distinct Maildirs.
    static result<std::unique_ptr<maildir_writer>> create(std::vector<std::filesystem::path> folders,
                                                          std::string id, std::string file_name,
                                                          std::size_t buffer_size);
    ~maildir_writer() override;
    maildir_writer(const maildir_writer&) = delete;
    maildir_writer& operator=(const maildir_writer&) = delete;

    result<void> write(std::span<const char> bytes) override;
    result<void> insert(std::uint64_t offset, std::span<const char> bytes) override;
    result<void> overwrite(std::uint64_t offset, std::span<const char> bytes) override;
    std::uint64_t size() const override { return size_; }
    const std::string& id() const override { return id_; }
    std::vector<std::filesystem::path> final_paths() const override {
        std::vector<std::filesystem::path> out;
        for (const auto& f : folders_) out.push_back(f / "new" / file_name_);
        return out;
    }

    // Called by the committer thread only, once commit() has handed the writer over.
    // Writes out the buffer; returns the first error this message met (it sticks).
    std::error_code flush();
    // fdatasync(2) of the file.
    std::error_code sync_data();
    // Links the file into every folder's new/, then drops the tmp/ name. On failure no new/
    // name is left and the tmp/ file is still there (the destructor removes it).
    std::error_code publish();
    // Removes the new/ names again (a directory fsync failed after publish()).
    void withdraw() noexcept;
    // Publishes into these Maildirs instead (quarantine); the tmp/ file stays where it is (one
    // file system, so linkat works across folders).
    void retarget(std::vector<std::filesystem::path> folders) { folders_ = std::move(folders); }
    const std::vector<std::filesystem::path>& folders() const { return folders_; }

private:
    maildir_writer(unique_fd fd, std::vector<std::filesystem::path> folders, std::string id,
                   std::string file_name, std::size_t buffer_size);
    std::error_code put(std::span<const char> bytes);
    std::error_code open_file();  // creates the tmp/ file (O_EXCL) on first need
    std::error_code rewrite_with(std::uint64_t offset, std::span<const char> bytes, std::uint64_t file_size);

    unique_fd fd_;
    std::vector<std::filesystem::path> folders_;
    std::string id_;
    std::string file_name_;
    std::filesystem::path tmp_path_;
    bool tmp_present_ = false;  // the destructor unlinks tmp_path_ while this is set
    std::vector<char> buffer_;  // capacity fixed at creation: memory never grows with the message
    struct pending_insert {
        std::uint64_t offset;
        std::string bytes;
    };
    std::vector<pending_insert> pending_;  // inserts past the buffer, applied by flush() (header fields: small)
    std::uint64_t pending_bytes_ = 0;
    std::size_t capacity_;
    std::uint64_t size_ = 0;
    std::error_code error_;
};

// The group committer: one thread that makes queued messages durable in batches.
class group_committer {
public:
    group_committer(unique_fd root, flush_mode mode, std::size_t max_batch);
    ~group_committer();
    group_committer(const group_committer&) = delete;
    group_committer& operator=(const group_committer&) = delete;

    // Queues a message; `done` runs later on the committer thread (at once, with
    // operation_canceled, if stop() has begun).
    void submit(std::unique_ptr<maildir_writer> msg, commit_callback done);
    // Drains the queue, then joins the thread. Idempotent; safe from several threads. From a
    // `done` callback it only asks the thread to end (the owner must not be destroyed there).
    void stop();

private:
    struct pending {
        std::unique_ptr<maildir_writer> msg;
        commit_callback done;
        std::error_code ec;
    };
    void run();
    void commit_batch(std::vector<pending>& batch);
    void commit_overlapped(std::vector<pending>& batch, std::vector<pending>& published);
    void sync_data(std::vector<pending>& batch);
    void publish(std::vector<pending>& batch);
    void sync_dirs(std::vector<pending>& batch);
    static void deliver(std::vector<pending>& batch);

    unique_fd root_;  // syncfs(2) target
    flush_mode mode_;
    std::size_t max_batch_;
    std::mutex mu_;
    std::condition_variable wake_;
    std::deque<pending> queue_;
    bool stopping_ = false;
    std::once_flag joined_;
    std::thread::id thread_id_;  // set once by the constructor; stop() compares against it
    std::thread thread_;  // last: starts once every member above exists
};

}  // namespace postern::store::detail
