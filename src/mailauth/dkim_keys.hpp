// SPDX-License-Identifier: MIT
#pragma once
/// DKIM keys: load a signing key, make a new one, and write the key record that publishes it
/// (RFC 6376 §3.6.1, RFC 8463 §4), with the OpenSSL 3 EVP API.
///
/// When to call what: `postern dkim keygen` calls generate_key() and prints dns_record and
/// record_name; the server calls load_private_key() once at startup for each signing domain and
/// hands the key to every dkim_signer_config (a shared_ptr: the key is shared, never copied).
#include "base/c_deleter.hpp"
#include "base/expected.hpp"

#include <openssl/evp.h>

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace postern::mailauth {

using evp_pkey_ptr = std::unique_ptr<EVP_PKEY, c_deleter<&EVP_PKEY_free>>;
using evp_pkey_ctx_ptr = std::unique_ptr<EVP_PKEY_CTX, c_deleter<&EVP_PKEY_CTX_free>>;
using evp_md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, c_deleter<&EVP_MD_CTX_free>>;

enum class dkim_key_algorithm { rsa, ed25519 };

/// Reads a private key from a PEM file (PKCS#8 "PRIVATE KEY", or "RSA PRIVATE KEY"); no
/// passphrase. Error: the file's errno, or dkim_errc::bad_pem if it holds no RSA or Ed25519 key.
result<evp_pkey_ptr> load_private_key(const std::filesystem::path& file);

/// A private key from PEM text (the same formats as load_private_key).
result<evp_pkey_ptr> parse_private_key(std::string_view pem);

struct generated_key {
    std::string private_pem;  ///< PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----")
    std::string dns_record;   ///< "v=DKIM1; k=rsa; p=..." to publish as TXT at record_name()
};

/// A new key: RSA with `rsa_bits` (2048 by default; RFC 8301 §3.2 wants at least 1024 and
/// signers to use 2048) or Ed25519.
result<generated_key> generate_key(dkim_key_algorithm algorithm, unsigned rsa_bits = 2048);

/// The key record for the public half of `key`: for RSA p= is the SubjectPublicKeyInfo DER
/// (RFC 6376 §3.6.1), for Ed25519 the raw 32-byte key (RFC 8463 §4), in base64.
result<std::string> dns_record_for(EVP_PKEY& key);

/// "selector._domainkey.domain" (RFC 6376 §3.6.2.1).
std::string record_name(std::string_view selector, std::string_view domain);

/// The algorithm of a key, if it is one DKIM can use.
result<dkim_key_algorithm> key_algorithm(const EVP_PKEY& key);

/// SHA-256 of `data` (32 octets), or crypto_error.
result<std::string> sha256(std::string_view data);

}  // namespace postern::mailauth
