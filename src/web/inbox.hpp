// SPDX-License-Identifier: MIT
#pragma once
/// The web inbox's model: the message index fed as mail arrives, retention, deleting and read
/// flags, and the live events that tell pages about each change.
///
/// Threads: the inbox owns one worker thread, and the index (one SQLite connection) is used on
/// it alone. on_arrival() may be called from any thread (the store's committer calls it); every
/// other member is for the worker (run it there with asio::post/co_spawn on executor()).
/// Events are handed to the sink on the worker thread.
#include "base/expected.hpp"
#include "index/message_index.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace postern::web {

struct inbox_config {
    std::filesystem::path data;  ///< the data folder: index at data/index.sqlite, mail under data/mail
    index::retention keep{0, 0}; ///< the oldest messages over these limits are deleted (0: no limit)
};

/// A message the store has made durable.
struct arrival {
    std::vector<std::filesystem::path> files;  ///< one per folder, all the same bytes
    std::string envelope_from;
    std::vector<std::string> envelope_to;
    std::chrono::system_clock::time_point at;
    std::string auth;  ///< the SPF/DKIM/DMARC verdict as JSON (mailauth::to_json), "" when none was made
};

/// One live event as JSON text: {"Type": "new"|"delete"|"truncate"|"update"|"stats", "Data": ...}.
using event_sink = std::function<void(std::string)>;

class inbox {
public:
    /// Opens (or recreates and rebuilds from the Maildir) the index and starts the worker.
    static result<std::unique_ptr<inbox>> open(const inbox_config& cfg);
    ~inbox();
    inbox(const inbox&) = delete;
    inbox& operator=(const inbox&) = delete;

    /// Set before mail arrives.
    void set_event_sink(event_sink sink);
    /// Any thread: queues the message for indexing (batched on the worker).
    void on_arrival(arrival a);
    /// Finishes queued work, then stops the worker. Idempotent.
    void stop();

    boost::asio::any_io_executor executor();

    // Worker thread only.
    index::message_index& index();
    const std::filesystem::path& mail_root() const;
    /// Deletes the files and rows of these ids (every folder); returns the messages deleted.
    result<std::size_t> remove(const std::vector<std::string>& ids);
    result<std::size_t> remove_matching(std::string_view query);
    result<void> remove_all();
    /// Sets the read flag of these ids (empty: every message); returns the rows changed.
    result<std::size_t> set_read(const std::vector<std::string>& ids, bool read);
    /// Messages queued by on_arrival() and not yet indexed (for tests and /metrics).
    std::size_t backlog() const;

    struct impl;

private:
    explicit inbox(std::unique_ptr<impl> p);
    std::unique_ptr<impl> impl_;
};

}  // namespace postern::web
