// SPDX-License-Identifier: MIT
#pragma once
// Internal to net/: owning pointers for OpenSSL objects, and OpenSSL's error queue as an error_code.
#include "base/c_deleter.hpp"
#include "base/expected.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <filesystem>
#include <memory>
#include <string>
#include <system_error>

namespace postern::net::detail {

using postern::c_deleter;
using bio_ptr = std::unique_ptr<BIO, c_deleter<&BIO_free_all>>;
using bignum_ptr = std::unique_ptr<BIGNUM, c_deleter<&BN_free>>;
using evp_pkey_ptr = std::unique_ptr<EVP_PKEY, c_deleter<&EVP_PKEY_free>>;
using ssl_ctx_ptr = std::unique_ptr<SSL_CTX, c_deleter<&SSL_CTX_free>>;
using x509_ptr = std::unique_ptr<X509, c_deleter<&X509_free>>;
using x509_extension_ptr = std::unique_ptr<X509_EXTENSION, c_deleter<&X509_EXTENSION_free>>;

/// The oldest error on this thread's OpenSSL error queue (usually the cause; later entries say
/// which call gave up), as an error_code; clears the queue. `fallback` if the queue is empty.
std::error_code take_openssl_error(std::errc fallback = std::errc::protocol_error);

/// An IPv4 or IPv6 address in text form ("127.0.0.1", "::1"), not a host name.
bool is_ip_literal(const std::string& host);

/// Reads one PEM certificate or private key (never prompts for a passphrase).
result<x509_ptr> read_certificate(const std::filesystem::path& file);
result<evp_pkey_ptr> read_private_key(const std::filesystem::path& file);

}  // namespace postern::net::detail
