// SPDX-License-Identifier: MIT
#include "auth/user_db.hpp"

#include "auth/crypto.hpp"
#include "auth/errors.hpp"
#include "base/unique_fd.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace postern::auth {
namespace {

namespace fs = std::filesystem;

result<std::vector<std::string>> read_lines(const fs::path& file) {
    std::vector<std::string> lines;
    unique_fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT) return lines;
        return fail(last_system_error());
    }
    std::string text;
    char buf[16384];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail(last_system_error());
        if (n == 0) break;
        text.append(buf, static_cast<std::size_t>(n));
    }
    std::string_view rest = text;
    while (!rest.empty()) {
        auto nl = rest.find('\n');
        auto line = rest.substr(0, nl);
        rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        lines.emplace_back(line);
    }
    sodium_memzero(text.data(), text.size());
    return lines;
}

result<void> write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail(last_system_error());
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
}

// Write a temporary file in the same folder, fsync it, rename it over `file`, fsync the folder.
result<void> replace_file(const fs::path& dir, const fs::path& file, const std::vector<std::string>& lines) {
    std::string text;
    for (const auto& l : lines) text += l + "\n";
    const fs::path tmp = dir / "users.tmp";
    unique_fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd) return fail(last_system_error());
    auto w = write_all(fd.get(), text);
    sodium_memzero(text.data(), text.size());
    if (!w || ::fchmod(fd.get(), 0600) != 0 || ::fsync(fd.get()) != 0) {
        auto ec = w ? last_system_error() : w.error();
        ::unlink(tmp.c_str());
        return fail(ec);
    }
    fd.reset();
    if (::rename(tmp.c_str(), file.c_str()) != 0) {
        auto ec = last_system_error();
        ::unlink(tmp.c_str());
        return fail(ec);
    }
    unique_fd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!d || ::fsync(d.get()) != 0) return fail(last_system_error());
    return {};
}

// The index of `name`'s line, or lines.size().
std::size_t find_user(const std::vector<std::string>& lines, std::string_view name) {
    for (std::size_t i = 0; i < lines.size(); ++i)
        if (auto l = parse_passwd_line(lines[i]); l && l->user() == name) return i;
    return lines.size();
}

}  // namespace

user_db::user_db(fs::path data_dir, user_db_options opts)
    : passwd_store(data_dir / "users", when_missing::empty), dir_(std::move(data_dir)), opts_(opts) {}

result<std::unique_ptr<user_db>> user_db::open(const fs::path& data_dir, user_db_options opts) {
    std::unique_ptr<user_db> db(new user_db(data_dir, opts));
    if (auto r = db->load(); !r) return fail(r.error());
    return db;
}

result<void> user_db::add(std::string_view name, std::string_view password) {
    return modify(change::add, name, password);
}

result<void> user_db::set_password(std::string_view name, std::string_view password) {
    return modify(change::set_password, name, password);
}

result<void> user_db::remove(std::string_view name) { return modify(change::remove, name, {}); }

result<std::vector<std::string>> user_db::list() const {
    auto lines = read_lines(file());
    if (!lines) return fail(lines.error());
    std::vector<std::string> names;
    for (const auto& line : *lines)
        if (auto l = parse_passwd_line(line)) names.push_back(l->user());
    return names;
}

// The user's line with a new argon2id hash and SCRAM secret; other fields of `old_line` kept.
result<std::string> user_db::new_line(std::string_view name, std::string_view password,
                                      const std::string& old_line) const {
    auto hash = hash_argon2id(password, opts_.argon2);
    if (!hash) return fail(hash.error());
    auto scram = derive_scram_sha256(password, crypto::random_bytes(scram_salt_length), opts_.scram_iterations);
    passwd_line l = old_line.empty() ? passwd_line{} : parse_passwd_line(old_line).value_or(passwd_line{});
    l.fields[0] = std::string(name);
    l.fields[1] = std::move(*hash);
    l.fields[7] = set_extra_field(l.extra(), scram_extra_field, format_scram_secret(scram));
    return format_passwd_line(l);
}

result<void> user_db::modify(change what, std::string_view name, std::string_view password) {
    if (!valid_user_name(name)) return fail(auth_errc::bad_user_name);
    if (what != change::remove && password.empty()) return fail(auth_errc::empty_password);
    std::error_code ec;
    if (what == change::add && !fs::exists(dir_, ec)) {
        fs::create_directories(dir_, ec);
        if (ec) return fail(ec);
        fs::permissions(dir_, fs::perms::owner_all, ec);
    }
    const fs::path lock_path = dir_ / "users.lock";
    unique_fd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!lock || ::flock(lock.get(), LOCK_EX) != 0) return fail(last_system_error());
    auto lines = read_lines(file());
    if (!lines) return fail(lines.error());
    const std::size_t at = find_user(*lines, name);
    const bool found = at < lines->size();
    if (what == change::add && found) return fail(auth_errc::user_exists);
    if (what != change::add && !found) return fail(auth_errc::no_such_user);
    if (what == change::remove) {
        lines->erase(lines->begin() + static_cast<std::ptrdiff_t>(at));
    } else {
        auto line = new_line(name, password, found ? (*lines)[at] : std::string());
        if (!line) return fail(line.error());
        if (found) (*lines)[at] = std::move(*line);
        else lines->push_back(std::move(*line));
    }
    auto r = replace_file(dir_, file(), *lines);
    for (auto& l : *lines) sodium_memzero(l.data(), l.size());
    if (!r) return r;
    (void)snapshot();  // this process sees its own change at once
    return {};
}

}  // namespace postern::auth
