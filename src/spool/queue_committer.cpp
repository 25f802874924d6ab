// SPDX-License-Identifier: MIT
// Theory of operation
//
// Sessions hand finished messages to submit(), which only queues them. One thread takes everything
// queued (up to max_batch) and makes the batch durable in four steps:
//
//   1. stage:     per message, write out the buffer and fdatasync(2) tmp/<id>.data, then write
//                 tmp/<id>.json (the envelope, with the final size) and fsync(2) it;
//   2. data:      rename each data file into data/, then one fsync(2) of data/ for the batch;
//   3. envelope:  rename each envelope into env/, then one fsync(2) of env/ for the batch. The
//                 envelope's name in env/ is the commit point: open() loads exactly the messages
//                 that have one, and by then their data and its name are on stable storage;
//   4. report:    add each message to the in-memory queue, then call its `done` with the id.
//
// A failure is the failing message's alone where it can be (its files are removed by the writer's
// destructor before its `done` runs); a failed directory fsync fails every message of the batch
// renamed into that directory, since nothing says which entries reached the disk. While one batch
// is being flushed, new commits queue up and form the next one: the more sessions finish together,
// the more messages share each directory flush (group commit). The per-file syncs are not shared:
// the simple, portable first version (docs/spool.md says what syncfs would add).
#include "base/log.hpp"
#include "spool/queue_internal.hpp"
#include "spool/spool_errors.hpp"

#include <unistd.h>

#include <exception>

namespace postern::spool::detail {

committer::committer(const queue_paths& paths, std::size_t max_batch, fault_hook hook, durable_fn on_durable)
    : paths_(paths), max_batch_(max_batch == 0 ? 1 : max_batch), hook_(std::move(hook)),
      on_durable_(std::move(on_durable)), thread_([this] { run(); }) {
    thread_id_ = thread_.get_id();
}

committer::~committer() { stop(); }

void committer::submit(std::unique_ptr<writer_impl> msg, commit_callback done) {
    {
        std::lock_guard lock(mu_);
        if (!stopping_) {
            queue_.push_back({std::move(msg), std::move(done)});
            wake_.notify_one();
            return;
        }
    }
    msg.reset();  // removes its tmp/ file before the caller hears of it
    done(fail(spool_errc::stopped));
}

void committer::stop() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
        wake_.notify_one();
    }
    if (std::this_thread::get_id() == thread_id_) return;  // a `done` callback: the thread ends after this batch
    std::call_once(joined_, [this] { thread_.join(); });
}

void committer::run() {
    std::vector<pending> batch;
    for (;;) {
        {
            std::unique_lock lock(mu_);
            wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return;  // stopping, and everything committed
            while (!queue_.empty() && batch.size() < max_batch_) {
                batch.push_back(std::move(queue_.front()));
                queue_.pop_front();
            }
        }
        commit_batch(batch);
        batch.clear();
    }
}

void committer::commit_batch(std::vector<pending>& batch) {
    for (auto& p : batch) p.msg->stage();
    for (auto& p : batch) p.msg->publish_data();
    sync_dir_or_fail(paths_.data, "data.dir_sync", batch);
    for (auto& p : batch) p.msg->publish_envelope();
    sync_dir_or_fail(paths_.env, "envelope.dir_sync", batch);
    deliver(batch);
}

// One fsync of `dir` for every message of the batch still going; if it fails, none of them is
// known to be durable.
void committer::sync_dir_or_fail(const std::filesystem::path& dir, std::string_view step, std::vector<pending>& batch) {
    bool any = false;
    for (const auto& p : batch) any = any || !p.msg->error();
    if (!any) return;
    auto ec = check_fault(hook_, step);
    if (!ec) ec = fsync_dir(dir);
    if (!ec) return;
    for (auto& p : batch) p.msg->fail_with(ec);
}

void committer::deliver(std::vector<pending>& batch) {
    bool withdrawn = false;
    for (auto& p : batch) {
        p.id = p.msg->id();
        p.ec = p.msg->error();
        if (!p.ec) {
            p.msg->mark_committed();
            on_durable_(p.msg->envelope());
        }
        withdrawn = withdrawn || p.ec;
        p.msg.reset();  // a failed message's files are removed here, before its `done` runs
    }
    // Best effort: make the removal of a failed message's names durable too, so that a message
    // answered with 451 does not come back after a crash (and go out besides the client's retry).
    if (withdrawn) {
        fsync_dir(paths_.env);
        fsync_dir(paths_.data);
    }
    for (auto& p : batch) report(p);
}

void committer::report(pending& p) {
    try {
        if (!p.ec) {
            p.done(std::move(p.id));
            return;
        }
        log::error(log::no_session, log::ev::spool_commit_error, {{"queue_id", p.id}, {"error", p.ec.message()}});
        p.done(fail(p.ec));
    } catch (const std::exception& e) {
        // The durability thread must outlive a faulty callback.
        log::error(log::no_session, log::ev::internal_error, {{"where", "spool.commit_callback"}, {"what", e.what()}});
    } catch (...) {
        log::error(log::no_session, log::ev::internal_error, {{"where", "spool.commit_callback"}});
    }
}

}  // namespace postern::spool::detail
