// SPDX-License-Identifier: MIT
// queue_store: the folders on disk, recovery at open, the in-memory index of queued envelopes,
// and update()/remove(). Making new messages durable is the committer's (queue_committer.cpp).
#include "base/log.hpp"
#include "spool/envelope_codec.hpp"
#include "spool/queue_internal.hpp"
#include "spool/spool_errors.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <set>

namespace postern::spool {
namespace {

namespace fs = std::filesystem;
using detail::check_fault;
using detail::fsync_dir;
using detail::queue_paths;

// Creates the folders and syncs every entry made, up to root's parent: a crash right after open()
// must not lose a folder that a later acknowledged message lives in.
std::error_code make_layout(const queue_paths& p) {
    std::error_code ec;
    fs::create_directories(p.root, ec);
    if (ec) return ec;
    for (const auto& d : {p.tmp, p.data, p.env, p.corrupt})
        if (::mkdir(d.c_str(), 0700) != 0 && errno != EEXIST) return last_system_error();
    for (const auto& d : {p.root, p.root.parent_path()})
        if (auto e = fsync_dir(d)) return e;
    // Creating and removing a file is the only sure test (a read-only mount, no inodes left, an
    // ACL): better a startup error than a 451 for every message.
    auto probe = p.tmp / ".write-check";
    unique_fd fd{::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600)};
    if (!fd) return last_system_error();
    if (::unlink(probe.c_str()) != 0) return last_system_error();
    return {};
}

// "<id><suffix>" with a valid id: a name this store makes.
std::optional<std::string> id_with_suffix(std::string_view name, std::string_view suffix) {
    if (name.size() <= suffix.size() || !name.ends_with(suffix)) return std::nullopt;
    auto id = name.substr(0, name.size() - suffix.size());
    if (!valid_queue_id(id)) return std::nullopt;
    return std::string(id);
}

// Every name in `dir`, or the error: a listing cut short (EMFILE, EACCES, EIO) must stop the
// recovery, since what is missing from it would be taken for gone.
result<std::vector<std::string>> names_in(const fs::path& dir) {
    std::vector<std::string> names;
    std::error_code ec;
    fs::directory_iterator it(dir, ec), end;
    for (; !ec && it != end; it.increment(ec)) names.push_back(it->path().filename().native());
    if (ec) return fail(ec);
    std::sort(names.begin(), names.end());
    return names;
}

// Removes what interrupted writes left in tmp/ (messages never acknowledged, updates never
// renamed into place). Only names this store makes are touched.
result<std::size_t> clean_tmp(const queue_paths& p) {
    auto names = names_in(p.tmp);
    if (!names) return fail(names.error());
    std::size_t removed = 0;
    for (const auto& name : *names)
        if (id_with_suffix(name, ".data") || id_with_suffix(name, ".json") || id_with_suffix(name, ".update"))
            removed += ::unlink((p.tmp / name).c_str()) == 0 ? 1 : 0;
    return removed;
}

// A system error reading an envelope or its data (EMFILE, EACCES, EIO) says nothing about the
// message: it must fail the open, not send a good message to corrupt/.
bool is_damage(const std::error_code& ec) { return ec.category() != std::system_category() || ec == std::errc::no_such_file_or_directory; }

class queue_store_impl final : public queue_store {
public:
    explicit queue_store_impl(const queue_config& cfg)
        : cfg_(cfg), paths_(cfg.root),
          committer_(paths_, cfg.max_batch, cfg.fault, [this](const queued_message& m) { add(m); }) {}
    ~queue_store_impl() override { stop(); }

    result<std::unique_ptr<queue_writer>> begin(queued_message envelope) override;
    void commit(std::unique_ptr<queue_writer> msg, commit_callback done) override;
    result<void> update(const queued_message& m) override;
    result<void> remove(std::string_view id) override;
    std::vector<queued_message> list() const override;
    std::optional<queued_message> get(std::string_view id) const override;
    result<unique_fd> open_data(std::string_view id) const override;
    fs::path data_path(std::string_view id) const override { return paths_.data_file(id); }
    std::vector<std::string> set_aside() const override { return set_aside_; }
    void stop() override { committer_.stop(); }

    // open(): load env/, set aside what cannot be read, remove orphan data files.
    result<std::size_t> load();
    unique_fd lock;  // flock(2) on root/lock for the store's lifetime: one process per queue

private:
    void add(const queued_message& m) {
        std::lock_guard lock(map_mu_);
        messages_[m.id] = m;
    }
    std::error_code check_envelope(const std::string& id, const queued_message& m) const;
    void set_aside_files(const std::string& id, const std::string& env_name, std::error_code why);
    result<std::size_t> remove_orphans();

    queue_config cfg_;
    queue_paths paths_;
    mutable std::mutex map_mu_;
    std::map<std::string, queued_message, std::less<>> messages_;
    std::mutex write_mu_;  // one update() or remove() at a time
    std::vector<std::string> set_aside_;
    std::set<std::string, std::less<>> keep_data_;  // data files whose move to corrupt/ failed
    detail::committer committer_;  // last: its thread may call add() until stop()
};

std::error_code queue_store_impl::check_envelope(const std::string& id, const queued_message& m) const {
    if (m.id != id) return make_error_code(spool_errc::bad_envelope);
    struct stat st {};
    if (::stat(paths_.data_file(id).c_str(), &st) != 0)
        return errno == ENOENT ? make_error_code(spool_errc::data_mismatch) : last_system_error();
    if (!S_ISREG(st.st_mode) || static_cast<std::uint64_t>(st.st_size) != m.size)
        return make_error_code(spool_errc::data_mismatch);
    return {};
}

// A damaged envelope is never dropped silently, and never stops the server: its files go to
// corrupt/ for a person to look at, and the error log says so.
void queue_store_impl::set_aside_files(const std::string& id, const std::string& env_name, std::error_code why) {
    auto to = paths_.corrupt / env_name;
    const bool env_moved = ::rename((paths_.env / env_name).c_str(), to.c_str()) == 0;
    const bool data_moved = id.empty() || ::rename(paths_.data_file(id).c_str(), (paths_.corrupt / (id + ".data")).c_str()) == 0;
    if (!env_moved || !data_moved) keep_data_.insert(id);  // left where it is, never taken for an orphan
    fsync_dir(paths_.corrupt);
    fsync_dir(paths_.data);
    log::error(log::no_session, log::ev::spool_corrupt,
               {{"queue_id", id}, {"error", why.message()}, {"set_aside", to.native()}});
    set_aside_.push_back(env_name);
}

// Runs inside open(), before the store is shared: the committer has nothing to add yet.
result<std::size_t> queue_store_impl::load() {
    if (auto ec = detail::check_fault(cfg_.fault, "open.list")) return fail(ec);
    auto names = names_in(paths_.env);
    if (!names) return fail(names.error());
    for (const auto& name : *names) {
        auto id = id_with_suffix(name, ".json");
        if (!id) continue;  // not ours: left alone
        auto text = detail::read_small_file(paths_.env / name, max_envelope_size);
        auto m = text ? decode_envelope(*text) : result<queued_message>(fail(text.error()));
        std::error_code ec = m ? check_envelope(*id, *m) : m.error();
        if (ec && !is_damage(ec)) return fail(ec);
        if (ec) {
            set_aside_files(*id, name, ec);
            continue;
        }
        messages_.emplace(*id, std::move(*m));
    }
    if (!set_aside_.empty()) fsync_dir(paths_.env);
    return remove_orphans();
}

// A data file without an envelope is a commit interrupted between the two renames, or a remove()
// interrupted between the two unlinks: never acknowledged, or already finished.
result<std::size_t> queue_store_impl::remove_orphans() {
    auto names = names_in(paths_.data);
    if (!names) return fail(names.error());
    std::size_t removed = 0;
    for (const auto& name : *names)
        if (valid_queue_id(name) && !messages_.contains(name) && !keep_data_.contains(name))
            removed += ::unlink(paths_.data_file(name).c_str()) == 0 ? 1 : 0;
    if (removed > 0) fsync_dir(paths_.data);
    return removed;
}

result<std::unique_ptr<queue_writer>> queue_store_impl::begin(queued_message envelope) {
    if (envelope.recipients.empty()) return fail(std::make_error_code(std::errc::invalid_argument));
    auto now = cfg_.time ? cfg_.time->now() : std::chrono::system_clock::now();
    envelope.id = detail::make_queue_id(now);
    if (envelope.arrival == time_point{}) envelope.arrival = now;
    envelope.size = 0;
    return std::unique_ptr<queue_writer>(
        std::make_unique<detail::writer_impl>(paths_, std::move(envelope), cfg_.write_buffer, cfg_.fault));
}

void queue_store_impl::commit(std::unique_ptr<queue_writer> msg, commit_callback done) {
    auto* own = dynamic_cast<detail::writer_impl*>(msg.get());
    if (!own) {  // a writer from another queue implementation
        done(fail(std::make_error_code(std::errc::invalid_argument)));
        return;
    }
    msg.release();
    committer_.submit(std::unique_ptr<detail::writer_impl>(own), std::move(done));
}

// Write the whole new envelope beside the old one, sync it, rename it over the old one (rename(2)
// replaces atomically: a crash leaves the old or the new name, never neither), then sync env/.
// Updates come from delivery, possibly from two jobs for one message (two destination domains),
// each holding its own copy: a recipient already delivered or failed for good never goes back
// to waiting, and its attempts never go down, whatever order the updates come in.
std::error_code merge_recipients(queued_message& stored, const queued_message& m) {
    if (m.recipients.size() != stored.recipients.size()) return make_error_code(spool_errc::bad_envelope);
    for (std::size_t i = 0; i < m.recipients.size(); ++i) {
        auto& old = stored.recipients[i];
        const auto& now = m.recipients[i];
        if (now.address != old.address) return make_error_code(spool_errc::bad_envelope);
        const bool final = old.status == delivery_status::delivered || old.status == delivery_status::permanent_failure;
        if (final) continue;
        const unsigned attempts = std::max(old.attempts, now.attempts);
        old = now;
        old.attempts = attempts;
    }
    return {};
}

result<void> queue_store_impl::update(const queued_message& m) {
    if (!valid_queue_id(m.id)) return fail(spool_errc::bad_id);
    std::lock_guard write_lock(write_mu_);
    auto next = get(m.id);
    if (!next) return fail(spool_errc::no_such_message);
    if (auto ec = merge_recipients(*next, m)) return fail(ec);
    auto text = encode_envelope(*next);
    if (text.size() > max_envelope_size) return fail(spool_errc::envelope_too_large);  // open() would refuse it
    auto tmp = paths_.tmp / (m.id + ".update");
    if (auto ec = detail::write_synced(tmp, text, cfg_.fault)) return fail(ec);
    auto ec = check_fault(cfg_.fault, "envelope.rename");
    if (!ec && ::rename(tmp.c_str(), paths_.env_file(m.id).c_str()) != 0) ec = last_system_error();
    if (ec) {
        ::unlink(tmp.c_str());
        return fail(ec);
    }
    // The new state is in place but not known durable until this succeeds; on failure the
    // in-memory state stays the old one, and the caller retries the update before going on.
    if (!(ec = check_fault(cfg_.fault, "envelope.dir_sync"))) ec = fsync_dir(paths_.env);
    if (ec) return fail(ec);
    add(*next);
    return {};
}

// The envelope goes first, since it is what makes a message queued: after a crash in between, the
// data file is an orphan that open() removes, never an envelope without its data.
result<void> queue_store_impl::remove(std::string_view id) {
    if (!valid_queue_id(id)) return fail(spool_errc::bad_id);
    std::lock_guard write_lock(write_mu_);
    if (!get(id)) return fail(spool_errc::no_such_message);
    auto ec = check_fault(cfg_.fault, "remove.envelope");
    if (!ec && ::unlink(paths_.env_file(id).c_str()) != 0 && errno != ENOENT) ec = last_system_error();
    if (ec) return fail(ec);
    {
        std::lock_guard lock(map_mu_);  // the envelope is gone: the message is no longer queued
        messages_.erase(messages_.find(id));
    }
    // If this sync fails the message may come back after a crash; keep its data for that case.
    if ((ec = fsync_dir(paths_.env))) return fail(ec);
    ec = check_fault(cfg_.fault, "remove.data");
    if (!ec && ::unlink(paths_.data_file(id).c_str()) != 0 && errno != ENOENT) ec = last_system_error();
    if (!ec) ec = fsync_dir(paths_.data);
    return ec ? result<void>(fail(ec)) : result<void>();
}

std::vector<queued_message> queue_store_impl::list() const {
    std::vector<queued_message> out;
    {
        std::lock_guard lock(map_mu_);
        out.reserve(messages_.size());
        for (const auto& [id, m] : messages_) out.push_back(m);
    }
    std::stable_sort(out.begin(), out.end(), [](const queued_message& a, const queued_message& b) {
        return a.arrival < b.arrival;  // the map already ordered equal arrivals by id
    });
    return out;
}

std::optional<queued_message> queue_store_impl::get(std::string_view id) const {
    std::lock_guard lock(map_mu_);
    auto it = messages_.find(id);
    if (it == messages_.end()) return std::nullopt;
    return it->second;
}

result<unique_fd> queue_store_impl::open_data(std::string_view id) const {
    if (!valid_queue_id(id)) return fail(spool_errc::bad_id);
    if (!get(id)) return fail(spool_errc::no_such_message);
    unique_fd fd{::open(paths_.data_file(id).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW)};
    if (!fd) return fail(errno == ENOENT ? make_error_code(spool_errc::no_such_message) : last_system_error());
    return fd;
}

}  // namespace

result<std::unique_ptr<queue_store>> queue_store::open(const queue_config& cfg) {
    if (cfg.root.empty()) return fail(std::make_error_code(std::errc::invalid_argument));
    std::error_code ec;
    auto root = fs::absolute(cfg.root, ec);
    if (ec) return fail(ec);
    queue_paths paths(root);
    if ((ec = make_layout(paths))) return fail(ec);
    // One process per queue: a second one's recovery would take a message between its two
    // renames for an orphan (docs/spool.md).
    unique_fd lock{::open((root / "lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)};
    if (!lock) return fail(last_system_error());
    if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) return fail(last_system_error());
    auto cleaned = clean_tmp(paths);
    if (!cleaned) return fail(cleaned.error());
    auto resolved = cfg;
    resolved.root = root;
    auto store = std::make_unique<queue_store_impl>(resolved);
    store->lock = std::move(lock);
    auto loaded = store->load();
    if (!loaded) return fail(loaded.error());
    auto recovered = *cleaned + *loaded;
    if (recovered > 0)
        log::info(log::no_session, log::ev::spool_recover, {{"queue", root.native()}, {"removed", recovered}});
    log::info(log::no_session, log::ev::spool_open,
              {{"queue", root.native()}, {"messages", store->list().size()}, {"set_aside", store->set_aside().size()}});
    return std::unique_ptr<queue_store>(std::move(store));
}

}  // namespace postern::spool
