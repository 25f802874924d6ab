// SPDX-License-Identifier: MIT
#include "auth/password_scheme.hpp"

#include "auth/crypto.hpp"
#include "auth/errors.hpp"

#include <crypt.h>

#include <algorithm>
#include <cctype>
#include <array>
#include <charconv>
#include <cstring>
#include <memory>

namespace postern::auth {
namespace {

struct scheme_name {
    std::string_view name;
    scheme kind;
};

constexpr std::array<scheme_name, 13> schemes{{
    {"ARGON2ID", scheme::argon2},     {"ARGON2I", scheme::argon2},
    {"CRYPT", scheme::crypt},         {"DES-CRYPT", scheme::crypt},    {"MD5-CRYPT", scheme::crypt},
    {"SHA256-CRYPT", scheme::crypt},  {"SHA512-CRYPT", scheme::crypt}, {"BLF-CRYPT", scheme::crypt},
    {"PLAIN", scheme::plain},         {"CLEARTEXT", scheme::plain},
    {"CRAM-MD5", scheme::cram_md5},   {"HMAC-MD5", scheme::cram_md5},
    {"SCRAM-SHA-256", scheme::scram_sha256},
}};

std::string upper(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return out;
}

verify_result verify_crypt(const std::string& hash, std::string_view password) {
    if (hash.empty() || password.find('\0') != std::string_view::npos) return verify_result::bad;
    auto data = std::make_unique<crypt_data>();  // about 32 KiB: not on the stack
    const std::string pw(password);
    const char* out = crypt_r(pw.c_str(), hash.c_str(), data.get());
    // libxcrypt returns a string starting with '*' (never a valid hash) when the setting is bad.
    if (out == nullptr || out[0] == '*') return verify_result::bad;
    return crypto::equal(out, hash) ? verify_result::ok : verify_result::bad;
}

verify_result verify_argon2(const std::string& hash, std::string_view password) {
    if (sodium_init() < 0) return verify_result::error;
    return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0 ? verify_result::ok
                                                                                          : verify_result::bad;
}

verify_result verify_scram(const std::string& data, std::string_view password) {
    auto s = parse_scram_secret(data);
    if (!s) return verify_result::bad;
    auto d = derive_scram_sha256(password, s->salt, s->iterations);
    return crypto::equal(d.stored_key, s->stored_key) ? verify_result::ok : verify_result::bad;
}

}  // namespace

stored_password parse_stored_password(std::string_view field) {
    if (field.empty() || field.front() != '{') return {scheme::crypt, "CRYPT", std::string(field)};
    auto close = field.find('}');
    if (close == std::string_view::npos) return {scheme::unknown, "", std::string(field)};
    stored_password p{scheme::unknown, upper(field.substr(1, close - 1)), std::string(field.substr(close + 1))};
    for (const auto& s : schemes)
        if (s.name == p.name) p.kind = s.kind;
    return p;
}

verify_result verify_stored_password(const stored_password& p, std::string_view password) {
    switch (p.kind) {
    case scheme::argon2: return verify_argon2(p.data, password);
    case scheme::crypt: return verify_crypt(p.data, password);
    case scheme::plain: return crypto::equal(p.data, password) ? verify_result::ok : verify_result::bad;
    case scheme::cram_md5: {
        auto stored = crypto::hex_decode(p.data);
        if (!stored || stored->size() != 32) return verify_result::bad;
        return crypto::equal(*stored, crypto::cram_md5_context(password)) ? verify_result::ok : verify_result::bad;
    }
    case scheme::scram_sha256: return verify_scram(p.data, password);
    case scheme::unknown: return verify_result::bad;
    }
    return verify_result::bad;
}

std::optional<std::string> cram_md5_context_of(const stored_password& p) {
    if (p.kind == scheme::plain) return crypto::cram_md5_context(p.data);
    if (p.kind != scheme::cram_md5) return std::nullopt;
    auto stored = crypto::hex_decode(p.data);
    if (!stored || stored->size() != 32) return std::nullopt;
    return stored;
}

result<std::string> hash_argon2id(std::string_view password, const hash_limits& limits) {
    if (sodium_init() < 0) return fail(auth_errc::hash_failed);
    std::array<char, crypto_pwhash_STRBYTES> out{};
    if (crypto_pwhash_str_alg(out.data(), password.data(), password.size(), limits.opslimit, limits.memlimit,
                              crypto_pwhash_ALG_ARGON2ID13) != 0)
        return fail(auth_errc::hash_failed);
    return "{ARGON2ID}" + std::string(out.data());
}

scram_secret derive_scram_sha256(std::string_view password, std::string salt, unsigned iterations) {
    std::string salted = crypto::pbkdf2_sha256(password, salt, iterations);
    scram_secret s{std::move(salt), iterations, crypto::sha256(crypto::hmac_sha256(salted, "Client Key")),
                   crypto::hmac_sha256(salted, "Server Key")};
    sodium_memzero(salted.data(), salted.size());
    return s;
}

std::string stable_salt(std::string_view user) {
    static const std::string key = crypto::random_bytes(32);
    return crypto::hmac_sha256(key, user).substr(0, scram_salt_length);
}

std::string format_scram_secret(const scram_secret& s) {
    return std::to_string(s.iterations) + "," + crypto::base64_encode(s.salt) + "," +
           crypto::base64_encode(s.stored_key) + "," + crypto::base64_encode(s.server_key);
}

std::optional<scram_secret> parse_scram_secret(std::string_view text) {
    std::array<std::string_view, 4> part;
    for (std::size_t i = 0; i < part.size(); ++i) {
        auto comma = i + 1 < part.size() ? text.find(',') : text.size();
        if (comma == std::string_view::npos) return std::nullopt;
        part[i] = text.substr(0, comma);
        text.remove_prefix(std::min(text.size(), comma + 1));
    }
    scram_secret s;
    auto [end, ec] = std::from_chars(part[0].data(), part[0].data() + part[0].size(), s.iterations);
    if (ec != std::errc{} || end != part[0].data() + part[0].size() || s.iterations == 0) return std::nullopt;
    auto salt = crypto::base64_decode(part[1]), stored = crypto::base64_decode(part[2]),
         server = crypto::base64_decode(part[3]);
    if (!salt || salt->empty() || !stored || stored->size() != 32 || !server || server->size() != 32)
        return std::nullopt;
    s.salt = std::move(*salt);
    s.stored_key = std::move(*stored);
    s.server_key = std::move(*server);
    return s;
}

}  // namespace postern::auth
