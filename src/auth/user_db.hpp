// SPDX-License-Identifier: MIT
#pragma once
/// postern's own users: <data>/users, mode 0600, a Dovecot passwd-file (see passwd_table.hpp)
/// that Dovecot can read as it is. A line, as add() writes it:
///   alice@example.org:{ARGON2ID}$argon2id$v=19$m=65536,t=2,p=1$<salt>$<hash>::::::postern_scram_sha256=4096,<salt>,<StoredKey>,<ServerKey>
///
/// When to call what: the server opens it once (open()) and uses it as a credential_store; the
/// file is re-read when it changes. `postern user ...` opens it and calls add(), set_password(),
/// remove() or list(). Each change takes <data>/users.lock (flock), reads the file afresh, writes
/// <data>/users.tmp, fsyncs it, renames it over users and fsyncs the folder. Lines it does not
/// change (comments, other users, Dovecot fields) are written back as they were.
#include "auth/passwd_store.hpp"
#include "base/expected.hpp"

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace postern::auth {

struct user_db_options {
    hash_limits argon2;                             ///< cost of the stored argon2id hash
    unsigned scram_iterations = scram_default_iterations;
};

class user_db final : public passwd_store {
public:
    /// Reads <data_dir>/users if it exists (no users otherwise). Creates nothing.
    static result<std::unique_ptr<user_db>> open(const std::filesystem::path& data_dir, user_db_options opts = {});

    /// Errors: bad_user_name, empty_password, user_exists, hash_failed, or a system error.
    /// Creates the data folder (0700) and the file (0600) if needed.
    result<void> add(std::string_view name, std::string_view password);
    /// Errors: bad_user_name, empty_password, no_such_user, hash_failed, or a system error.
    result<void> set_password(std::string_view name, std::string_view password);
    /// Errors: no_such_user, or a system error.
    result<void> remove(std::string_view name);
    /// The user names in file order.
    result<std::vector<std::string>> list() const;

private:
    user_db(std::filesystem::path data_dir, user_db_options opts);
    enum class change { add, set_password, remove };
    result<void> modify(change what, std::string_view name, std::string_view password);
    result<std::string> new_line(std::string_view name, std::string_view password, const std::string& old_line) const;

    std::filesystem::path dir_;
    user_db_options opts_;
};

}  // namespace postern::auth
