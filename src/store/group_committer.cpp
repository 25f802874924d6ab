// SPDX-License-Identifier: MIT
// Theory of operation
//
// Sessions hand finished messages to submit(), which only queues them. One thread takes everything
// queued (up to max_batch) and makes the batch durable in four steps, each shared by the batch:
//
//   1. data:    write out each message's buffer, then either one syncfs(2) on the root for the
//               whole batch (flush_mode::syncfs) or an fdatasync(2) per file (flush_mode::fsync);
//   2. publish: link each file into every folder's new/ and drop its tmp/ name. Because the data
//               is already on stable storage, a name in new/ never points at a partial file, even
//               after a power loss;
//   3. entries: fsync(2) each distinct new/ directory once, making the names durable;
//   4. report:  call every `done`, with the id or with the message's error.
//
// Only after step 3 is a message acknowledged, so a `250` never precedes durability. While one
// batch is on its way to the disk, new commits queue up and form the next batch: the more sessions
// commit at once, the more messages share each flush (group commit). A failure is the failing
// message's alone where it can be: its tmp/ file is removed (the writer's destructor), its new/
// names are unlinked, and its `done` gets the error; a failed syncfs fails the whole batch.
#include "base/log.hpp"
#include "store/maildir_internal.hpp"

#include <unistd.h>

#include <exception>
#include <set>

namespace postern::store::detail {

group_committer::group_committer(unique_fd root, flush_mode mode, std::size_t max_batch)
    : root_(std::move(root)), mode_(mode), max_batch_(max_batch == 0 ? 1 : max_batch), thread_([this] { run(); }) {
    thread_id_ = thread_.get_id();
}

group_committer::~group_committer() { stop(); }

void group_committer::submit(std::unique_ptr<maildir_writer> msg, commit_callback done) {
    {
        std::lock_guard lock(mu_);
        if (!stopping_) {
            queue_.push_back({std::move(msg), std::move(done), {}});
            wake_.notify_one();
            return;
        }
    }
    msg.reset();  // removes the tmp/ file before the caller hears of it
    done(fail(std::make_error_code(std::errc::operation_canceled)));
}

void group_committer::stop() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
        wake_.notify_one();
    }
    // A `done` callback may call stop(); the thread cannot join itself, it just ends after this batch.
    if (std::this_thread::get_id() == thread_id_) return;
    std::call_once(joined_, [this] { thread_.join(); });
}

void group_committer::run() {
    std::vector<pending> batch;
    std::vector<pending> published;  // syncfs mode: in new/, names not yet known durable
    for (;;) {
        {
            std::unique_lock lock(mu_);
            wake_.wait(lock, [&] { return stopping_ || !queue_.empty() || !published.empty(); });
            if (queue_.empty() && published.empty()) return;  // stopping, and everything committed
            while (!queue_.empty() && batch.size() < max_batch_) {
                batch.push_back(std::move(queue_.front()));
                queue_.pop_front();
            }
        }
        if (mode_ == flush_mode::syncfs) commit_overlapped(batch, published);
        else commit_batch(batch);
        batch.clear();
    }
}

// syncfs mode under load: one flush per batch. The syncfs that makes this batch's data durable also
// makes the previous batch's new/ names durable (syncfs writes every dirty inode and directory
// block of the file system), so the previous batch is acknowledged after it, and this batch's names
// wait for the next one. When nothing else is queued, the names are flushed at once (fsync of new/),
// so a lone message waits no longer than before. A name still appears in new/ only after its data
// is on stable storage.
void group_committer::commit_overlapped(std::vector<pending>& batch, std::vector<pending>& published) {
    if (batch.empty()) {
        sync_dirs(published);
        deliver(published);
        published.clear();
        return;
    }
    for (auto& p : batch) p.ec = p.msg->flush();
    bool any = false;
    for (const auto& p : batch) any = any || !p.ec;
    for (const auto& p : published) any = any || !p.ec;
    if (any && ::syncfs(root_.get()) != 0) {
        auto ec = last_system_error();  // nothing in either batch is known to be durable
        for (auto& p : batch)
            if (!p.ec) p.ec = ec;
        for (auto& p : published)
            if (!p.ec) {
                p.ec = ec;
                p.msg->withdraw();
            }
    }
    deliver(published);
    published.clear();
    publish(batch);
    published.swap(batch);  // batch is now the empty vector
}

void group_committer::commit_batch(std::vector<pending>& batch) {
    for (auto& p : batch) p.ec = p.msg->flush();
    sync_data(batch);
    publish(batch);
    sync_dirs(batch);
    deliver(batch);
}

void group_committer::sync_data(std::vector<pending>& batch) {
    if (mode_ == flush_mode::fsync) {
        for (auto& p : batch)
            if (!p.ec) p.ec = p.msg->sync_data();
        return;
    }
    bool any = false;
    for (const auto& p : batch) any = any || !p.ec;
    if (!any || ::syncfs(root_.get()) == 0) return;
    // syncfs reports a write-back error for the file system, not for a file: nothing in the batch
    // is known to be durable.
    auto ec = last_system_error();
    for (auto& p : batch)
        if (!p.ec) p.ec = ec;
}

void group_committer::publish(std::vector<pending>& batch) {
    for (auto& p : batch)
        if (!p.ec) p.ec = p.msg->publish();
}

void group_committer::sync_dirs(std::vector<pending>& batch) {
    std::set<std::filesystem::path> dirs;
    for (const auto& p : batch)
        if (!p.ec)
            for (const auto& f : p.msg->folders()) dirs.insert(f / "new");
    for (const auto& dir : dirs) {
        auto ec = fsync_dir(dir);
        if (!ec) continue;
        for (auto& p : batch) {
            if (p.ec) continue;
            for (const auto& f : p.msg->folders()) {
                if (f / "new" != dir) continue;
                p.ec = ec;
                p.msg->withdraw();
                break;
            }
        }
    }
}

void group_committer::deliver(std::vector<pending>& batch) {
    for (auto& p : batch) {
        std::string id = p.msg->id();
        p.msg.reset();  // a failed message's tmp/ file is gone before its `done` runs
        try {
            if (!p.ec) {
                p.done(std::move(id));
                continue;
            }
            log::error(log::no_session, log::ev::store_commit_error, {{"id", id}, {"error", p.ec.message()}});
            p.done(fail(p.ec));
        } catch (const std::exception& e) {
            // The durability thread must outlive a faulty callback.
            log::error(log::no_session, log::ev::internal_error, {{"where", "store.commit_callback"}, {"what", e.what()}});
        } catch (...) {
            log::error(log::no_session, log::ev::internal_error, {{"where", "store.commit_callback"}});
        }
    }
}

}  // namespace postern::store::detail
