// SPDX-License-Identifier: MIT
#pragma once
/// A credential_store over a passwd-file that re-reads the file when it changes: every call
/// stat(2)s the file and reloads it when its inode, size, mtime or ctime differ from the last
/// load. `postern user add` while the server runs thus takes effect at the next AUTH. A reload
/// that fails (permissions, I/O) keeps the last good table and logs auth.error once per change.
#include "auth/credentials.hpp"
#include "auth/passwd_table.hpp"
#include "base/expected.hpp"

#include <sys/types.h>

#include <ctime>
#include <filesystem>
#include <memory>
#include <mutex>

namespace postern::auth {

class passwd_store : public credential_store {
public:
    bool empty() const override;
    bool exists(std::string_view user) const override;
    verify_result verify_password(std::string_view user, std::string_view password) const override;
    std::optional<scram_secret> scram_sha256(std::string_view user) const override;
    std::optional<std::string> cram_md5_secret(std::string_view user) const override;
    store_features features() const override;

    const std::filesystem::path& file() const { return file_; }
    /// The table as of now (reloaded first if the file changed).
    std::shared_ptr<const passwd_table> snapshot() const;

protected:
    enum class when_missing { empty, error };
    passwd_store(std::filesystem::path file, when_missing missing);
    /// The first load: reports the error instead of logging it.
    result<void> load() const;

private:
    struct file_stamp {
        bool exists = false;
        dev_t dev = 0;
        ino_t ino = 0;
        off_t size = 0;
        timespec mtime{}, ctime{};
        bool operator==(const file_stamp& o) const;
    };
    result<void> reload_locked() const;

    std::filesystem::path file_;
    when_missing missing_;
    mutable std::mutex mu_;
    mutable std::shared_ptr<const passwd_table> table_;
    mutable file_stamp stamp_;
};

/// A Dovecot passwd-file named in the configuration, read only.
class passwd_file final : public passwd_store {
public:
    /// Fails if the file cannot be read now; later, a vanished file keeps the last table.
    static result<std::unique_ptr<passwd_file>> open(const std::filesystem::path& file);

private:
    explicit passwd_file(std::filesystem::path file) : passwd_store(std::move(file), when_missing::error) {}
};

}  // namespace postern::auth
