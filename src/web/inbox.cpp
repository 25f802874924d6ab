// SPDX-License-Identifier: MIT
#include "web/inbox.hpp"

#include "base/log.hpp"
#include "web/json_views.hpp"
#include "web/mapped_file.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <unistd.h>

#include <deque>
#include <mutex>
#include <thread>

namespace postern::web {
namespace fs = std::filesystem;
namespace asio = boost::asio;

namespace {

constexpr std::size_t batch_size = 256;        // arrivals indexed in one transaction at most
constexpr std::size_t max_backlog = 100'000;   // arrivals waiting; beyond, the index is left behind

// Removes a message file, where it was stored or in cur/ (an IMAP server read it).
void unlink_message(const index::message_ref& r) { ::unlink(current_path(r.path, r.id).c_str()); }

}  // namespace

struct inbox::impl {
    inbox_config cfg;
    fs::path mail_root;
    std::unique_ptr<index::message_index> idx;
    asio::io_context io{1};
    asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
    std::thread worker;
    event_sink sink;
    mutable std::mutex mutex;  // guards pending and draining
    std::deque<arrival> pending;
    bool draining = false;
    bool stopped = false;

    void publish(std::string_view type, json data) {
        if (sink) sink(dump(json{{"Type", type}, {"Data", std::move(data)}}));
    }

    void publish_stats() {
        auto t = idx->count();
        if (t) publish("stats", json{{"Total", t->messages}, {"Unread", t->unread}});
    }

    // The rows one stored message gives: one per folder, described once.
    std::vector<index::indexed_message> describe(const arrival& a) {
        std::vector<index::indexed_message> rows;
        if (a.files.empty()) return rows;
        auto file = mapped_file::open(a.files.front());
        if (!file) {
            log::warn(log::no_session, log::ev::index_error, {{"file", a.files.front().string()}, {"error", file.error().message()}});
            return rows;
        }
        index::envelope env{.id = a.files.front().filename().string(),
                            .folder = a.files.front().parent_path().parent_path().filename().string(),
                            .path = a.files.front().string(),
                            .envelope_from = a.envelope_from,
                            .envelope_to = a.envelope_to,
                            .arrival = a.at,
                            .size = file->bytes().size(),
                            .verdict = a.auth};
        rows.push_back(index::describe(file->bytes(), std::move(env)));
        for (std::size_t i = 1; i < a.files.size(); ++i) {
            auto copy = rows.front();
            copy.folder = a.files[i].parent_path().parent_path().filename().string();
            copy.path = a.files[i].string();
            rows.push_back(std::move(copy));
        }
        return rows;
    }

    void drain() {
        std::vector<arrival> batch;
        {
            std::lock_guard lock(mutex);
            while (!pending.empty() && batch.size() < batch_size) {
                batch.push_back(std::move(pending.front()));
                pending.pop_front();
            }
        }
        std::vector<index::indexed_message> rows, leads;
        for (const auto& a : batch) {
            auto r = describe(a);
            if (r.empty()) continue;
            leads.push_back(r.front());
            std::move(r.begin(), r.end(), std::back_inserter(rows));
        }
        if (auto r = idx->add(rows); !r) {
            log::error(log::no_session, log::ev::index_error, {{"op", "add"}, {"error", r.error().message()}});
        } else {
            for (const auto& m : leads) publish("new", summary_json(m));
        }
        enforce_retention();
        publish_stats();
        std::lock_guard lock(mutex);
        if (pending.empty()) draining = false;
        else asio::post(io, [this] { drain(); });
    }

    void enforce_retention() {
        if (cfg.keep.max_messages == 0 && cfg.keep.max_bytes == 0) return;
        auto old = idx->prune(cfg.keep);
        if (!old || old->empty()) return;
        std::vector<std::string> ids;
        for (const auto& r : *old) {
            unlink_message(r);
            if (ids.empty() || ids.back() != r.id) ids.push_back(r.id);
        }
        // Rows of the pruned files only: another folder's link of the same message may stay.
        for (const auto& r : *old) (void)idx->remove({r.id}, r.folder);
        log::info(log::no_session, log::ev::index_prune, {{"files", old->size()}, {"messages", ids.size()}});
        publish("delete", json{{"IDs", ids}});
    }
};

result<std::unique_ptr<inbox>> inbox::open(const inbox_config& cfg) {
    auto p = std::make_unique<impl>();
    p->cfg = cfg;
    p->mail_root = cfg.data / "mail";
    auto idx = index::message_index::open(cfg.data / "index.sqlite");
    if (!idx) return fail(idx.error());
    p->idx = std::move(*idx);
    if (p->idx->recreated()) {
        auto r = p->idx->rebuild(p->mail_root);
        if (!r) return fail(r.error());
        log::info(log::no_session, log::ev::index_rebuild, {{"messages", r->indexed}, {"skipped", r->skipped}});
    }
    p->worker = std::thread([io = &p->io] { io->run(); });
    return std::unique_ptr<inbox>(new inbox(std::move(p)));
}

inbox::inbox(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

inbox::~inbox() { stop(); }

void inbox::set_event_sink(event_sink sink) { impl_->sink = std::move(sink); }

void inbox::on_arrival(arrival a) {
    std::lock_guard lock(impl_->mutex);
    if (impl_->stopped) return;  // the Maildir has it; `postern reindex` brings the index up to date
    if (impl_->pending.size() >= max_backlog) {
        log::warn(log::no_session, log::ev::index_error, {{"error", "indexing is behind: message not indexed (run postern reindex)"}});
        return;
    }
    impl_->pending.push_back(std::move(a));
    if (impl_->draining) return;
    impl_->draining = true;
    asio::post(impl_->io, [p = impl_.get()] { p->drain(); });
}

void inbox::stop() {
    {
        std::lock_guard lock(impl_->mutex);
        if (impl_->stopped) return;
        impl_->stopped = true;
    }
    impl_->work.reset();  // the worker finishes what is queued (drain re-posts itself), then returns
    if (impl_->worker.joinable()) impl_->worker.join();
}

asio::any_io_executor inbox::executor() { return impl_->io.get_executor(); }
index::message_index& inbox::index() { return *impl_->idx; }
const fs::path& inbox::mail_root() const { return impl_->mail_root; }

std::size_t inbox::backlog() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->pending.size();
}

result<std::size_t> inbox::remove(const std::vector<std::string>& ids) {
    auto rows = impl_->idx->rows_of(ids);
    if (!rows) return fail(rows.error());
    for (const auto& r : *rows) unlink_message(r);
    auto n = impl_->idx->remove(ids);
    if (!n) return fail(n.error());
    std::vector<std::string> gone;
    for (const auto& r : *rows)
        if (gone.empty() || gone.back() != r.id) gone.push_back(r.id);
    if (!gone.empty()) {
        impl_->publish("delete", json{{"IDs", gone}});
        impl_->publish_stats();
    }
    return gone.size();
}

result<std::size_t> inbox::remove_matching(std::string_view query) {
    auto rows = impl_->idx->matching(query);
    if (!rows) return fail(rows.error());
    std::vector<std::string> ids;
    for (const auto& r : *rows) ids.push_back(r.id);
    return remove(ids);
}

result<void> inbox::remove_all() {
    auto rows = impl_->idx->matching({});
    if (!rows) return fail(rows.error());
    for (const auto& r : *rows) unlink_message(r);
    if (auto r = impl_->idx->remove_all(); !r) return r;
    impl_->publish("truncate", nullptr);
    impl_->publish_stats();
    return {};
}

result<std::size_t> inbox::set_read(const std::vector<std::string>& ids, bool read) {
    auto n = ids.empty() ? impl_->idx->mark_all_read(read) : impl_->idx->mark_read(ids, read);
    if (!n) return n;
    impl_->publish("update", json{{"IDs", ids}, {"Read", read}});
    impl_->publish_stats();
    return n;
}

}  // namespace postern::web
