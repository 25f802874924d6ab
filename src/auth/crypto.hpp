// SPDX-License-Identifier: MIT
#pragma once
/// The few primitives auth/ needs, over OpenSSL libcrypto: digests, HMAC, PBKDF2, randomness,
/// constant-time comparison, and the base64 / hex codecs SCRAM and the password schemes use.
/// Every string here is raw bytes unless its name says otherwise.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace postern::auth::crypto {

std::string sha256(std::string_view data);
std::string hmac_sha256(std::string_view key, std::string_view data);
std::string hmac_md5(std::string_view key, std::string_view data);
/// PBKDF2-HMAC-SHA-256 with a 32-byte output: RFC 5802's Hi() for SCRAM-SHA-256.
std::string pbkdf2_sha256(std::string_view password, std::string_view salt, unsigned iterations);

/// n bytes from RAND_bytes; throws std::runtime_error if the generator fails (it does not on Linux).
std::string random_bytes(std::size_t n);

/// Equal lengths and equal bytes; the time taken depends only on the lengths.
bool equal(std::string_view a, std::string_view b);

/// RFC 4648 §4 base64 with padding.
std::string base64_encode(std::string_view raw);
/// Strict: padding required, no whitespace, no bits left over. nullopt on bad input.
std::optional<std::string> base64_decode(std::string_view text);

std::string hex_encode(std::string_view raw);  ///< lower case
std::optional<std::string> hex_decode(std::string_view text);  ///< either case

/// The 32-byte HMAC-MD5 context Dovecot's {CRAM-MD5} scheme stores: the MD5 state after the
/// outer pad block, then after the inner pad block, each as four little-endian 32-bit words.
std::string cram_md5_context(std::string_view password);
/// HMAC-MD5(password, message) computed from such a context (RFC 2104, resumed after the pads).
std::string cram_md5_digest(std::string_view context, std::string_view message);

}  // namespace postern::auth::crypto
