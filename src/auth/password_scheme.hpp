// SPDX-License-Identifier: MIT
#pragma once
/// Dovecot password schemes: the password field of a passwd-file, "{SCHEME}data", or bare data
/// (then CRYPT, Dovecot's default). Known here:
///   {ARGON2ID} {ARGON2I}                       libsodium crypto_pwhash_str_verify
///   {CRYPT} {DES-CRYPT} {MD5-CRYPT} {SHA256-CRYPT} {SHA512-CRYPT} {BLF-CRYPT}   crypt_r (libxcrypt)
///   {PLAIN} {CLEARTEXT}                        the password itself
///   {CRAM-MD5} {HMAC-MD5}                      64 hex digits: the HMAC-MD5 context
///   {SCRAM-SHA-256}                            "iterations,salt,StoredKey,ServerKey" (base64)
/// Anything else is `unknown`: that user cannot log in.
#include "auth/credentials.hpp"
#include "base/expected.hpp"

#include <sodium.h>

#include <optional>
#include <string>
#include <string_view>

namespace postern::auth {

enum class scheme { argon2, crypt, plain, cram_md5, scram_sha256, unknown };

struct stored_password {
    scheme kind = scheme::unknown;
    std::string name;  ///< the scheme as written, upper-cased ("SHA512-CRYPT"); "CRYPT" when bare
    std::string data;  ///< what follows the "{SCHEME}"
};

stored_password parse_stored_password(std::string_view field);

/// ok / bad; error when the hash cannot be computed (malformed crypt setting: bad, not error).
verify_result verify_stored_password(const stored_password& p, std::string_view password);

/// The HMAC-MD5 context (raw 32 bytes) for plain and cram_md5 schemes; nullopt for one-way hashes.
std::optional<std::string> cram_md5_context_of(const stored_password& p);

/// Argon2id cost. The defaults are libsodium's "interactive" limits (2 passes, 64 MiB).
struct hash_limits {
    unsigned long long opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
    std::size_t memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;
};
/// libsodium's minimum (fast, for tests only).
inline hash_limits minimum_hash_limits() { return {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN}; }

/// "{ARGON2ID}$argon2id$v=19$m=65536,t=2,p=1$<salt>$<hash>" (crypto_pwhash_str).
result<std::string> hash_argon2id(std::string_view password, const hash_limits& limits = {});

// RFC 5802 §3 / RFC 7677: SCRAM-SHA-256 secrets.
inline constexpr unsigned scram_default_iterations = 4096;  // RFC 7677 §4: at least 4096
inline constexpr std::size_t scram_salt_length = 16;

/// SaltedPassword = Hi(password, salt, i); StoredKey = H(HMAC(SaltedPassword, "Client Key"));
/// ServerKey = HMAC(SaltedPassword, "Server Key"). (No SASLprep: the password's bytes are used.)
scram_secret derive_scram_sha256(std::string_view password, std::string salt, unsigned iterations);
/// A salt that depends only on `user` and a key made at process start: for secrets derived on
/// the fly (a {PLAIN} password, an unknown user), so that every attempt sees the same salt.
std::string stable_salt(std::string_view user);
/// Dovecot's {SCRAM-SHA-256} body: "4096,<b64 salt>,<b64 StoredKey>,<b64 ServerKey>".
std::string format_scram_secret(const scram_secret& s);
std::optional<scram_secret> parse_scram_secret(std::string_view text);

}  // namespace postern::auth
