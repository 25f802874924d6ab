// SPDX-License-Identifier: MIT
#pragma once
/// Errors of the users file and the password files, as std::error_code.
#include <system_error>

namespace postern::auth {

enum class auth_errc {
    user_exists = 1,  ///< add(): the name is taken
    no_such_user,     ///< set_password() / remove(): the name is unknown
    bad_user_name,    ///< empty, too long, a ':' or a control character, or a leading '#'
    empty_password,
    bad_file,         ///< a line of the users file cannot be read back (it is left untouched)
    hash_failed,      ///< libsodium could not hash (out of memory for the argon2id limits)
};

const std::error_category& auth_category() noexcept;
inline std::error_code make_error_code(auth_errc e) noexcept { return {static_cast<int>(e), auth_category()}; }

}  // namespace postern::auth

template <>
struct std::is_error_code_enum<postern::auth::auth_errc> : std::true_type {};
