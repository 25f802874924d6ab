// SPDX-License-Identifier: MIT
#pragma once
/// The durable outgoing queue (issue 8): messages for non-local recipients, with the delivery
/// state of each recipient, kept under DATA/queue/ so that they survive restarts and `kill -9`.
/// docs/spool.md has the layout and the durability argument.
///
/// When to call what:
/// - open() once at start: creates the folders, removes leftovers of interrupted writes, loads
///   every queued envelope (a damaged one is logged and moved to queue/corrupt/), starts the
///   committer thread. Hand list() to the scheduler.
/// - begin() when a transaction's data starts (after the last RCPT); write() as the message bytes
///   arrive; commit() at the end of data. `done` runs on the committer thread once the message file
///   and its envelope are on stable storage, with the queue id: only then may the server send 250
///   (post to the session's executor from `done`). A writer destroyed without commit() leaves
///   nothing behind.
/// - update() after every change of recipient state, before acting on it further: delivery calls it
///   after each delivered recipient, before the next one, so the state on disk never claims less
///   than was delivered. remove() once message.finished().
///
/// Threads: every member function may be called from any thread; the store serialises what needs
/// it. begin()/commit() come from the server's I/O thread and never block on a flush there (the
/// committer does the flushing). update() and remove() flush on the calling thread (a few
/// milliseconds); calls for one id must not overlap (the scheduler never hands one message to two
/// deliveries at once). `done` callbacks run on the committer thread and must not block long.
#include "base/clock.hpp"
#include "base/expected.hpp"
#include "base/unique_fd.hpp"
#include "spool/queue_types.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace postern::spool {

/// Fault injection for tests: called before each I/O step named below; a non-empty error makes the
/// step fail with it (a test may also _exit() here to simulate a crash at that point). Steps:
/// "data.write", "data.sync", "envelope.write", "envelope.sync", "data.rename", "data.dir_sync",
/// "envelope.rename", "envelope.dir_sync", "remove.envelope", "remove.data".
using fault_hook = std::function<std::error_code(std::string_view step)>;

struct queue_config {
    std::filesystem::path root;            ///< the queue folder (DATA/queue); created if missing
    std::size_t max_batch = 256;           ///< messages made durable together by the committer at most
    std::size_t write_buffer = 64 * 1024;  ///< bytes buffered per message before a write(2)
    const clock* time = nullptr;           ///< for ids and a missing arrival time; nullptr: system clock
    fault_hook fault;                      ///< tests only; empty in production
};

/// One message being received. Owned by the session until handed to commit().
class queue_writer {
public:
    virtual ~queue_writer() = default;
    /// Appends message octets (buffered; memory stays bounded whatever the message size).
    /// Errors: ENOSPC, EIO, ...; after an error the message can only be dropped.
    virtual result<void> write(std::span<const char> bytes) = 0;
    /// Octets written so far, buffered ones included.
    virtual std::uint64_t size() const = 0;
    /// The queue id the message will have once committed (for the Received: field and the 250).
    virtual const std::string& id() const = 0;
};

using commit_callback = std::function<void(result<std::string> id)>;

class queue_store {
public:
    /// Creates root/{tmp,data,env,corrupt} as needed, cleans up interrupted writes, loads the queue.
    /// Fails only when the folder cannot be made or read (a damaged envelope does not fail it).
    static result<std::unique_ptr<queue_store>> open(const queue_config& cfg);
    virtual ~queue_store() = default;

    /// Starts a message with this envelope (at least one recipient, else invalid_argument). The
    /// store sets its id, and its arrival from the clock if it is the epoch; size is set at commit.
    /// Recipient states are kept as given.
    virtual result<std::unique_ptr<queue_writer>> begin(queued_message envelope) = 0;

    /// Makes message file and envelope durable (file data, envelope, both directory entries), then
    /// calls `done` on the committer thread with the id, or with the error (nothing is left then).
    virtual void commit(std::unique_ptr<queue_writer> msg, commit_callback done) = 0;

    /// Persists `m`'s recipients (matched by m.id) atomically: after a crash either the old or the
    /// new envelope is there, never a mix or nothing. Every other field is kept from the store's
    /// copy. Returns once the new state is on stable storage. Errors: no_such_message, bad_id,
    /// system errors (the store keeps the old state in memory then; retry before going on, since
    /// the file may hold either).
    virtual result<void> update(const queued_message& m) = 0;

    /// Removes a message (envelope first, then its file), durably. Errors: no_such_message, bad_id.
    virtual result<void> remove(std::string_view id) = 0;

    /// Every queued message, sorted by arrival (then id).
    virtual std::vector<queued_message> list() const = 0;
    virtual std::optional<queued_message> get(std::string_view id) const = 0;
    /// The message file opened read-only (O_CLOEXEC), positioned at 0.
    virtual result<unique_fd> open_data(std::string_view id) const = 0;
    /// Where the message file is (for tools; prefer open_data(), which cannot race with remove()).
    virtual std::filesystem::path data_path(std::string_view id) const = 0;

    /// Envelopes set aside at open() because they could not be read (their names in corrupt/).
    virtual std::vector<std::string> set_aside() const = 0;

    /// Finishes every pending commit, then stops the committer. Idempotent. Later commits fail
    /// with spool_errc::stopped.
    virtual void stop() = 0;
};

/// True for an id this store makes: 1 to 64 octets of [0-9a-z.-], not starting with '.'; anything
/// else (a '/', "..") is refused before it reaches a path.
bool valid_queue_id(std::string_view id) noexcept;

}  // namespace postern::spool
