// SPDX-License-Identifier: MIT
#include "auth/passwd_store.hpp"

#include "auth/crypto.hpp"
#include "base/log.hpp"
#include "base/unique_fd.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace postern::auth {
namespace {

result<std::string> read_all(int fd) {
    std::string text;
    char buf[16384];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail(last_system_error());
        if (n == 0) return text;
        text.append(buf, static_cast<std::size_t>(n));
    }
}

void log_table(const std::filesystem::path& file, const passwd_table& t) {
    const std::string path = file.string();
    log::debug(log::no_session, log::ev::auth_load, {{"file", path}, {"users", t.users.size()}});
    for (const auto& w : t.warnings)
        log::warn(log::no_session, log::ev::auth_load,
                  {{"file", path}, {"line", w.line}, {"user", w.user}, {"problem", w.problem}, {"detail", w.detail}});
}

}  // namespace

bool passwd_store::file_stamp::operator==(const file_stamp& o) const {
    return exists == o.exists && dev == o.dev && ino == o.ino && size == o.size && mtime.tv_sec == o.mtime.tv_sec &&
           mtime.tv_nsec == o.mtime.tv_nsec && ctime.tv_sec == o.ctime.tv_sec && ctime.tv_nsec == o.ctime.tv_nsec;
}

passwd_store::passwd_store(std::filesystem::path file, when_missing missing)
    : file_(std::move(file)), missing_(missing), table_(std::make_shared<passwd_table>()) {}

result<void> passwd_store::load() const {
    std::lock_guard lock(mu_);
    return reload_locked();
}

// Reads the file through one descriptor, so the stamp and the text belong together.
result<void> passwd_store::reload_locked() const {
    unique_fd fd(::open(file_.c_str(), O_RDONLY | O_CLOEXEC));
    struct stat st {};
    if (!fd && errno == ENOENT && missing_ == when_missing::empty) {
        table_ = std::make_shared<passwd_table>();
        stamp_ = file_stamp{};
        return {};
    }
    if (!fd || ::fstat(fd.get(), &st) != 0) return fail(last_system_error());
    auto text = read_all(fd.get());
    if (!text) return fail(text.error());
    auto table = std::make_shared<passwd_table>(parse_passwd_file(*text));
    sodium_memzero(text->data(), text->size());
    log_table(file_, *table);
    table_ = std::move(table);
    stamp_ = {true, st.st_dev, st.st_ino, st.st_size, st.st_mtim, st.st_ctim};
    return {};
}

std::shared_ptr<const passwd_table> passwd_store::snapshot() const {
    struct stat st {};
    file_stamp now;
    if (::stat(file_.c_str(), &st) == 0) now = {true, st.st_dev, st.st_ino, st.st_size, st.st_mtim, st.st_ctim};
    std::lock_guard lock(mu_);
    if (now == stamp_) return table_;
    if (!now.exists && missing_ == when_missing::error) {
        // The file went away (an editor's rename in progress, or removed): keep what we had.
        if (stamp_.exists) log::error(log::no_session, log::ev::auth_error, {{"file", file_.string()}, {"error", "missing"}});
        stamp_ = now;
        return table_;
    }
    if (auto r = reload_locked(); !r) {
        log::error(log::no_session, log::ev::auth_error, {{"file", file_.string()}, {"error", r.error().message()}});
        stamp_ = now;  // not again until the file changes
    }
    return table_;
}

bool passwd_store::empty() const { return snapshot()->users.empty(); }

bool passwd_store::exists(std::string_view user) const { return snapshot()->users.contains(user); }

verify_result passwd_store::verify_password(std::string_view user, std::string_view password) const {
    auto t = snapshot();
    auto it = t->users.find(user);
    if (it == t->users.end()) {
        // As slow as a real user's check, so that the time of a refusal does not tell which
        // user names exist: an argon2id verification with the cost `user add` uses.
        static const stored_password dummy = [] {
            auto h = hash_argon2id("postern: no such user");
            return h ? parse_stored_password(*h) : stored_password{};
        }();
        if (dummy.kind == scheme::argon2) (void)verify_stored_password(dummy, password);
        return verify_result::unknown_user;
    }
    if (it->second.password.data.empty()) return verify_result::bad;
    return verify_stored_password(it->second.password, password);
}

std::optional<scram_secret> passwd_store::scram_sha256(std::string_view user) const {
    auto t = snapshot();
    auto it = t->users.find(user);
    if (it == t->users.end()) return std::nullopt;
    if (it->second.scram) return it->second.scram;
    const auto& p = it->second.password;
    if (p.kind == scheme::plain && !p.data.empty())  // plaintext: derived now, with the salt an unknown user gets
        return derive_scram_sha256(p.data, stable_salt(user), scram_default_iterations);
    return std::nullopt;
}

std::optional<std::string> passwd_store::cram_md5_secret(std::string_view user) const {
    auto t = snapshot();
    auto it = t->users.find(user);
    if (it == t->users.end() || it->second.password.data.empty()) return std::nullopt;
    return cram_md5_context_of(it->second.password);
}

store_features passwd_store::features() const { return snapshot()->features; }

result<std::unique_ptr<passwd_file>> passwd_file::open(const std::filesystem::path& file) {
    std::unique_ptr<passwd_file> f(new passwd_file(file));
    if (auto r = f->load(); !r) return fail(r.error());
    return f;
}

}  // namespace postern::auth
