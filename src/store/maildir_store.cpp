// SPDX-License-Identifier: MIT
// maildir_store: the folders on disk, recovery at open, and begin()/commit() wiring. The
// durability work itself is the group committer's (group_committer.cpp).
#include "base/log.hpp"
#include "store/maildir_internal.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <unordered_set>

namespace postern::store {
namespace {

namespace fs = std::filesystem;
using detail::fsync_dir;

// mkdir(2) that accepts an existing entry (a later step fails if it is not a directory).
std::error_code make_dir(const fs::path& p) {
    if (::mkdir(p.c_str(), 0700) != 0 && errno != EEXIST) return last_system_error();
    return {};
}

// Creates a Maildir (folder, tmp/, new/, cur/) if needed and makes its entries durable. It syncs
// even a folder that already existed: a crash may have left one that was never synced.
std::error_code make_maildir(const fs::path& folder) {
    for (const auto& p : {folder, folder / "tmp", folder / "new", folder / "cur"})
        if (auto ec = make_dir(p)) return ec;
    if (auto ec = fsync_dir(folder)) return ec;
    return fsync_dir(folder.parent_path());
}

// Creates root/ and root/mail/ and syncs the chain of entries up to root's parent.
std::error_code make_root(const fs::path& root, const fs::path& mail) {
    std::error_code ec;
    fs::create_directories(mail, ec);
    if (ec) return ec;
    for (const auto& p : {mail, root, root.parent_path()})
        if (auto e = fsync_dir(p)) return e;
    return {};
}

// Creating and removing a file is the only sure test (root may be mounted read-only, out of
// inodes, or an ACL may say no).
std::error_code check_writable(const fs::path& root) {
    auto probe = root / (".postern-write-check." + std::to_string(::getpid()));
    unique_fd fd{::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600)};
    if (!fd) return last_system_error();
    if (::unlink(probe.c_str()) != 0) return last_system_error();
    return {};
}

// Removes the tmp/ files of messages that were being received when the process died. Only names
// this program creates for this host are touched: another delivery agent (Dovecot's APPEND, say)
// may be writing into the same folder.
std::size_t clean_tmp(const fs::path& folder, std::string_view escaped_host) {
    std::error_code ec;
    std::vector<fs::path> leftovers;
    for (fs::directory_iterator it(folder / "tmp", ec), end; !ec && it != end; it.increment(ec))
        if (detail::is_own_file_name(it->path().filename().native(), escaped_host))
            leftovers.push_back(it->path());
    std::size_t removed = 0;
    for (const auto& p : leftovers) removed += ::unlink(p.c_str()) == 0 ? 1 : 0;
    if (removed > 0)
        log::info(log::no_session, log::ev::store_recover,
                  {{"removed", removed}, {"folder", folder.filename().native()}});
    return removed;
}

std::size_t recover(const fs::path& mail, std::string_view escaped_host) {
    std::error_code ec;
    std::size_t removed = 0;
    for (fs::directory_iterator it(mail, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code type_ec;
        if (it->is_directory(type_ec)) removed += clean_tmp(it->path(), escaped_host);
    }
    return removed;
}

class maildir_store_impl final : public maildir_store {
public:
    maildir_store_impl(const store_config& cfg, fs::path mail, unique_fd root)
        : cfg_(cfg), mail_(std::move(mail)), host_(detail::escape_hostname(cfg.hostname)),
          committer_(std::move(root), cfg.flush, cfg.max_batch) {}
    ~maildir_store_impl() override { stop(); }

    result<std::unique_ptr<message_writer>> begin(const std::vector<std::string>& recipients) override;
    void commit(std::unique_ptr<message_writer> msg, commit_callback done) override;
    void stop() override { committer_.stop(); }
    fs::path folder_for(const std::string& recipient) const override {
        return cfg_.folders == layout::catch_all ? mail_ / "inbox" : mail_ / safe_folder_name(recipient);
    }

    result<void> quarantine(message_writer& msg) override {
        auto* own = dynamic_cast<detail::maildir_writer*>(&msg);
        if (!own) return fail(std::make_error_code(std::errc::invalid_argument));
        auto folder = mail_ / quarantine_folder_name;
        if (auto ec = ensure_folder(folder)) return fail(ec);
        own->retarget({std::move(folder)});
        return {};
    }

    std::error_code ensure_folder(const fs::path& folder);
    const std::string& escaped_host() const { return host_; }

private:
    store_config cfg_;
    fs::path mail_;
    std::string host_;
    std::mutex folders_mu_;
    std::unordered_set<std::string> ready_;  // folders created and synced by this process
    detail::group_committer committer_;
};

// Under one lock, so that no message is acknowledged into a folder whose entry another thread
// has created but not yet synced.
std::error_code maildir_store_impl::ensure_folder(const fs::path& folder) {
    std::lock_guard lock(folders_mu_);
    if (ready_.contains(folder.native())) return {};
    if (auto ec = make_maildir(folder)) return ec;
    ready_.insert(folder.native());
    return {};
}

result<std::unique_ptr<message_writer>> maildir_store_impl::begin(const std::vector<std::string>& recipients) {
    std::vector<fs::path> folders;
    if (cfg_.folders == layout::catch_all) {
        folders.push_back(mail_ / "inbox");
    } else {
        for (const auto& r : recipients) {
            auto f = folder_for(r);
            if (std::find(folders.begin(), folders.end(), f) == folders.end()) folders.push_back(std::move(f));
        }
        if (folders.empty()) return fail(std::make_error_code(std::errc::invalid_argument));
    }
    for (const auto& f : folders)
        if (auto ec = ensure_folder(f)) return fail(ec);
    auto id = detail::make_unique_id(cfg_.time ? cfg_.time->now() : std::chrono::system_clock::now());
    auto file_name = id + "." + host_;
    auto w = detail::maildir_writer::create(std::move(folders), std::move(id), std::move(file_name),
                                            cfg_.write_buffer);
    if (!w) return fail(w.error());
    return std::unique_ptr<message_writer>(std::move(*w));
}

void maildir_store_impl::commit(std::unique_ptr<message_writer> msg, commit_callback done) {
    auto* own = dynamic_cast<detail::maildir_writer*>(msg.get());
    if (!own) {  // a writer from another store implementation
        done(fail(std::make_error_code(std::errc::invalid_argument)));
        return;
    }
    msg.release();
    committer_.submit(std::unique_ptr<detail::maildir_writer>(own), std::move(done));
}

}  // namespace

result<std::unique_ptr<maildir_store>> maildir_store::open(const store_config& cfg) {
    if (cfg.root.empty()) return fail(std::make_error_code(std::errc::invalid_argument));
    std::error_code ec;
    auto root = fs::absolute(cfg.root, ec);
    if (ec) return fail(ec);
    auto mail = root / "mail";
    if ((ec = make_root(root, mail)) || (ec = check_writable(root))) return fail(ec);
    unique_fd root_fd{::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
    if (!root_fd) return fail(last_system_error());

    auto store = std::make_unique<maildir_store_impl>(cfg, mail, std::move(root_fd));
    auto removed = recover(mail, store->escaped_host());
    if (cfg.folders == layout::catch_all)
        if ((ec = store->ensure_folder(mail / "inbox"))) return fail(ec);
    log::info(log::no_session, log::ev::store_open,
              {{"root", root.native()},
               {"layout", cfg.folders == layout::catch_all ? "catch_all" : "per_recipient"},
               {"flush", cfg.flush == flush_mode::syncfs ? "syncfs" : "fsync"},
               {"recovered", removed}});
    return std::unique_ptr<maildir_store>(std::move(store));
}

}  // namespace postern::store
