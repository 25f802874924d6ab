// SPDX-License-Identifier: MIT
#pragma once
/// Dovecot passwd-file text (https://doc.dovecot.org/, "passwd-file"):
///   user:password:uid:gid:(gecos):home:(shell):extra_fields
/// Only user and password are required; extra_fields is a space-separated list of key=value.
/// Blank lines and lines starting with '#' are ignored. postern adds one extra field that
/// Dovecot does not use, `postern_scram_sha256=<iterations>,<salt>,<StoredKey>,<ServerKey>`
/// (base64, the same body as Dovecot's {SCRAM-SHA-256} scheme), so a file hashed with argon2id
/// can still serve SCRAM-SHA-256.
#include "auth/credentials.hpp"
#include "auth/password_scheme.hpp"

#include <array>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postern::auth {

inline constexpr std::string_view scram_extra_field = "postern_scram_sha256";
inline constexpr std::size_t max_user_name = 512;

/// The eight fields of one line; `fields[7]` (extra fields) keeps any further ':'.
struct passwd_line {
    std::array<std::string, 8> fields;
    const std::string& user() const { return fields[0]; }
    const std::string& password() const { return fields[1]; }
    const std::string& extra() const { return fields[7]; }
};

/// nullopt for a blank line, a comment, or a line without ':' after a user name.
std::optional<passwd_line> parse_passwd_line(std::string_view line);
/// "user:password" followed by the other fields; trailing empty fields are kept up to the
/// last non-empty one, and a line with extra fields always has all eight.
std::string format_passwd_line(const passwd_line& l);

/// The value of `key=` among space-separated extra fields, if present.
std::optional<std::string_view> find_extra_field(std::string_view extra, std::string_view key);
/// Extra fields with `key` removed and, if `value` is given, `key=value` appended.
std::string set_extra_field(std::string_view extra, std::string_view key, std::optional<std::string_view> value);

/// Empty, longer than max_user_name, a ':' or a control character (or DEL), or a leading '#'
/// (it would read back as a comment): refused.
bool valid_user_name(std::string_view name);

struct passwd_user {
    stored_password password;
    std::optional<scram_secret> scram;  ///< from the extra field or a {SCRAM-SHA-256} password
};

/// A problem found while loading; never holds a secret.
struct passwd_warning {
    std::size_t line = 0;
    std::string user;
    std::string problem;  ///< "unknown scheme", "duplicate user", "bad scram secret", ...
    std::string detail;   ///< the scheme name, for example
};

struct passwd_table {
    std::map<std::string, passwd_user, std::less<>> users;
    store_features features;
    std::vector<passwd_warning> warnings;
};

/// Parses a whole file. A duplicate user keeps its first line (as Dovecot does).
passwd_table parse_passwd_file(std::string_view text);

}  // namespace postern::auth
