// SPDX-License-Identifier: MIT
#include "auth/credentials.hpp"

namespace postern::auth {

const credential_store* store_chain::owner(std::string_view user) const {
    for (const auto& s : stores_)
        if (s->exists(user)) return s.get();
    return nullptr;
}

bool store_chain::empty() const {
    for (const auto& s : stores_)
        if (!s->empty()) return false;
    return true;
}

bool store_chain::exists(std::string_view user) const { return owner(user) != nullptr; }

verify_result store_chain::verify_password(std::string_view user, std::string_view password) const {
    const auto* s = owner(user);
    return s ? s->verify_password(user, password) : verify_result::unknown_user;
}

std::optional<scram_secret> store_chain::scram_sha256(std::string_view user) const {
    const auto* s = owner(user);
    return s ? s->scram_sha256(user) : std::nullopt;
}

std::optional<std::string> store_chain::cram_md5_secret(std::string_view user) const {
    const auto* s = owner(user);
    return s ? s->cram_md5_secret(user) : std::nullopt;
}

store_features store_chain::features() const {
    store_features f;
    for (const auto& s : stores_) {
        auto g = s->features();
        f.cram_md5 = f.cram_md5 || g.cram_md5;
        f.scram_sha256 = f.scram_sha256 || g.scram_sha256;
        f.accept_any = f.accept_any || g.accept_any;
    }
    return f;
}

}  // namespace postern::auth
