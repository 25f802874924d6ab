// SPDX-License-Identifier: MIT
#pragma once
// Private to src/spool/: the pieces queue_store.cpp wires together. Nothing outside the folder
// includes this file.
#include "base/file_io.hpp"
#include "base/unique_fd.hpp"
#include "spool/queue_store.hpp"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace postern::spool::detail {

// The folders under the queue root (docs/spool.md).
struct queue_paths {
    std::filesystem::path root, tmp, data, env, corrupt;
    explicit queue_paths(const std::filesystem::path& r)
        : root(r), tmp(r / "tmp"), data(r / "data"), env(r / "env"), corrupt(r / "corrupt") {}
    std::filesystem::path data_file(std::string_view id) const { return data / std::string(id); }
    std::filesystem::path env_file(std::string_view id) const { return env / (std::string(id) + ".json"); }
};

// Runs the test fault hook for `step` (nothing when there is none).
std::error_code check_fault(const fault_hook& hook, std::string_view step);
using postern::fsync_dir;
using postern::write_all;
// Reads a whole file of at most `max` octets (larger: envelope_too_large).
result<std::string> read_small_file(const std::filesystem::path& p, std::size_t max);
// Writes `text` to a new file `tmp_path` (O_EXCL, 0600) and fsyncs it; removes it on failure.
std::error_code write_synced(const std::filesystem::path& tmp_path, std::string_view text, const fault_hook& hook);
// "<seconds>.<microseconds>p<pid>q<counter>" in lower-case hex: unique across restarts and processes.
std::string make_queue_id(std::chrono::system_clock::time_point t);

// The queue_writer of queue_store: the message in tmp/<id>.data (created when the buffer first
// fills, or at commit), the envelope beside it as tmp/<id>.json at commit.
class writer_impl final : public queue_writer {
public:
    writer_impl(const queue_paths& paths, queued_message envelope, std::size_t buffer_size, fault_hook hook);
    ~writer_impl() override;  // removes every file of this message unless published() succeeded
    writer_impl(const writer_impl&) = delete;
    writer_impl& operator=(const writer_impl&) = delete;

    result<void> write(std::span<const char> bytes) override;
    std::uint64_t size() const override { return size_; }
    const std::string& id() const override { return envelope_.id; }

    // The committer's steps, in this order; each returns the first error the message met (it sticks).
    std::error_code stage();          // buffer out, fdatasync, envelope to tmp/ and fsync
    std::error_code publish_data();   // rename tmp/<id>.data -> data/<id>
    std::error_code publish_envelope();  // rename tmp/<id>.json -> env/<id>.json
    void fail_with(std::error_code ec) { if (!error_) error_ = ec; }
    std::error_code error() const { return error_; }
    // Once every step and both directory syncs succeeded: the files are the queue's now.
    void mark_committed() { committed_ = true; }
    const queued_message& envelope() const { return envelope_; }

private:
    std::error_code put(std::span<const char> bytes);
    std::error_code flush();

    queue_paths paths_;  // a copy: a writer never points into a store that is gone
    queued_message envelope_;
    fault_hook hook_;
    unique_fd fd_;
    std::vector<char> buffer_;  // capacity fixed at creation: memory never grows with the message
    std::size_t capacity_;
    std::uint64_t size_ = 0;
    std::error_code error_;
    bool data_tmp_ = false, env_tmp_ = false, data_published_ = false, env_published_ = false;
    bool committed_ = false;
};

// The group committer: one thread that makes queued messages durable in batches, sharing the two
// directory fsyncs of a batch among all its messages.
class committer {
public:
    using durable_fn = std::function<void(const queued_message&)>;
    committer(const queue_paths& paths, std::size_t max_batch, fault_hook hook, durable_fn on_durable);
    ~committer();
    committer(const committer&) = delete;
    committer& operator=(const committer&) = delete;

    // Queues a message; `done` runs later on the committer thread (at once with
    // spool_errc::stopped if stop() has begun).
    void submit(std::unique_ptr<writer_impl> msg, commit_callback done);
    // Drains the queue, then joins the thread. Idempotent. From a `done` callback it only asks the
    // thread to end.
    void stop();

private:
    struct pending {
        std::unique_ptr<writer_impl> msg;
        commit_callback done;
        std::string id = {};
        std::error_code ec = {};
    };
    void run();
    void commit_batch(std::vector<pending>& batch);
    void sync_dir_or_fail(const std::filesystem::path& dir, std::string_view step, std::vector<pending>& batch);
    void deliver(std::vector<pending>& batch);
    static void report(pending& p);

    const queue_paths& paths_;
    std::size_t max_batch_;
    fault_hook hook_;
    durable_fn on_durable_;
    std::mutex mu_;
    std::condition_variable wake_;
    std::deque<pending> queue_;
    bool stopping_ = false;
    std::once_flag joined_;
    std::thread::id thread_id_;
    std::thread thread_;  // last: starts once every member above exists
};

}  // namespace postern::spool::detail
