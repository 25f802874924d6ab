// SPDX-License-Identifier: MIT
#include "auth/errors.hpp"

#include <string>

namespace postern::auth {
namespace {

class category final : public std::error_category {
public:
    const char* name() const noexcept override { return "postern.auth"; }
    std::string message(int ev) const override {
        switch (static_cast<auth_errc>(ev)) {
        case auth_errc::user_exists: return "user exists";
        case auth_errc::no_such_user: return "no such user";
        case auth_errc::bad_user_name: return "bad user name (empty, ':', control character or leading '#')";
        case auth_errc::empty_password: return "empty password";
        case auth_errc::bad_file: return "users file has a line that cannot be read";
        case auth_errc::hash_failed: return "password hashing failed";
        }
        return "unknown auth error";
    }
};

}  // namespace

const std::error_category& auth_category() noexcept {
    static const category c;
    return c;
}

}  // namespace postern::auth
