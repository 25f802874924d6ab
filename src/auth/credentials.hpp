// SPDX-License-Identifier: MIT
#pragma once
/// What the SMTP server asks about users: does a user exist, is this password right, and the
/// secrets the challenge-response mechanisms need. The SASL mechanisms (sasl.hpp) are written
/// against this interface only.
///
/// Implementations: user_db (postern's own <data>/users), passwd_file (a Dovecot passwd-file
/// named in the configuration), accept_any_store (--auth-accept-any) and store_chain (several
/// of them, first match wins). All methods are safe to call from several threads at once.
/// verify_password() may take tens of milliseconds (argon2id): call it where that is acceptable.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postern::auth {

enum class verify_result {
    ok,
    bad,           ///< wrong password, or the stored secret cannot be used (unknown scheme)
    unknown_user,
    error,         ///< our fault (out of memory, crypt failure): answer 454 4.7.0, not 535
};

/// RFC 5802 §3 for SCRAM-SHA-256 (RFC 7677): what the server stores instead of the password.
struct scram_secret {
    std::string salt;            ///< raw
    unsigned iterations = 0;     ///< RFC 7677 §4: at least 4096
    std::string stored_key;      ///< raw 32 bytes: H(ClientKey)
    std::string server_key;      ///< raw 32 bytes: HMAC(SaltedPassword, "Server Key")
};

/// What a store can serve, for the EHLO AUTH list (advertised_mechanisms()).
struct store_features {
    bool cram_md5 = false;      ///< some user has a plaintext-equivalent secret
    bool scram_sha256 = false;  ///< some user has a SCRAM-SHA-256 secret (or a plaintext one)
    bool accept_any = false;    ///< every user exists and every password is right
};

class credential_store {
public:
    virtual ~credential_store() = default;

    /// No users at all (the server may then leave AUTH out of EHLO).
    virtual bool empty() const = 0;
    virtual bool exists(std::string_view user) const = 0;
    /// For PLAIN and LOGIN. Digests are compared in constant time.
    virtual verify_result verify_password(std::string_view user, std::string_view password) const = 0;
    /// nullopt: unknown user, or no SCRAM secret for this user.
    virtual std::optional<scram_secret> scram_sha256(std::string_view user) const = 0;
    /// The 32-byte HMAC-MD5 context of the password (Dovecot's {CRAM-MD5} format, raw, see
    /// crypto::cram_md5_context): the MD5 state after the outer and after the inner pad block.
    /// It is plaintext-equivalent for CRAM-MD5. nullopt: unknown user, or the stored secret is
    /// a one-way hash (argon2id, crypt) that CRAM-MD5 cannot use.
    virtual std::optional<std::string> cram_md5_secret(std::string_view user) const = 0;
    virtual store_features features() const = 0;
};

/// Every user exists and every password is right (Mailpit's --smtp-auth-accept-any).
class accept_any_store final : public credential_store {
public:
    bool empty() const override { return false; }
    bool exists(std::string_view) const override { return true; }
    verify_result verify_password(std::string_view, std::string_view) const override { return verify_result::ok; }
    std::optional<scram_secret> scram_sha256(std::string_view) const override { return std::nullopt; }
    std::optional<std::string> cram_md5_secret(std::string_view) const override { return std::nullopt; }
    store_features features() const override { return {.cram_md5 = true, .scram_sha256 = false, .accept_any = true}; }
};

/// --auth-accept-any: while `users` holds nobody, any name and password pass (a catch-all test
/// server for applications that insist on logging in); from the first user on, `users` decides.
/// The switch is made at every call, so `postern user add` ends accept-any without a restart.
class accept_any_until_users final : public credential_store {
public:
    explicit accept_any_until_users(std::shared_ptr<const credential_store> users) : users_(std::move(users)) {}
    bool empty() const override { return false; }
    bool exists(std::string_view user) const override { return current().exists(user); }
    verify_result verify_password(std::string_view user, std::string_view password) const override {
        return current().verify_password(user, password);
    }
    std::optional<scram_secret> scram_sha256(std::string_view user) const override { return current().scram_sha256(user); }
    std::optional<std::string> cram_md5_secret(std::string_view user) const override { return current().cram_md5_secret(user); }
    store_features features() const override { return current().features(); }

private:
    const credential_store& current() const { return users_->empty() ? static_cast<const credential_store&>(any_) : *users_; }
    std::shared_ptr<const credential_store> users_;
    accept_any_store any_;
};

/// Several stores asked in order: the first one where the user exists answers for that user.
class store_chain final : public credential_store {
public:
    explicit store_chain(std::vector<std::shared_ptr<const credential_store>> stores) : stores_(std::move(stores)) {}
    bool empty() const override;
    bool exists(std::string_view user) const override;
    verify_result verify_password(std::string_view user, std::string_view password) const override;
    std::optional<scram_secret> scram_sha256(std::string_view user) const override;
    std::optional<std::string> cram_md5_secret(std::string_view user) const override;
    store_features features() const override;

private:
    const credential_store* owner(std::string_view user) const;
    std::vector<std::shared_ptr<const credential_store>> stores_;
};

}  // namespace postern::auth
