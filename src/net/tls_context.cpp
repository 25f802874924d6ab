// SPDX-License-Identifier: MIT
// Server and client contexts. Each is built on a bare SSL_CTX with OpenSSL's own calls (which
// report through the error queue, never throw) and handed to Asio only once complete.
#include "net/openssl_util.hpp"
#include "net/tls.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <arpa/inet.h>

#include <cstdio>

namespace postern::net {
namespace {

// Mozilla's "intermediate" TLS 1.2 list without the DHE suites: forward secrecy from ECDHE,
// AEAD ciphers only. TLS 1.3 keeps OpenSSL's default suites (all AEAD, all forward secret).
constexpr const char* tls12_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr const char* groups = "X25519:P-256:P-384";

class openssl_error_category final : public std::error_category {
public:
    const char* name() const noexcept override { return "openssl"; }
    std::string message(int value) const override {
        auto code = static_cast<unsigned long>(static_cast<unsigned int>(value));
        const char* lib = ERR_lib_error_string(code);
        const char* reason = ERR_reason_error_string(code);
        if (lib && reason) return std::string(lib) + ": " + reason;
        if (reason) return reason;
        char buf[40];
        std::snprintf(buf, sizeof buf, "OpenSSL error 0x%08lx", code);
        return buf;
    }
};

// A server never prompts on a terminal: an encrypted key fails to load instead.
int no_passphrase(char*, int, int, void*) { return -1; }

std::shared_ptr<ssl::context> hand_to_asio(detail::ssl_ctx_ptr ctx) {
    // The adopting constructor throws only for a null handle. Asio's destructor frees what it
    // finds in the passphrase userdata and app data slots, so neither is used here.
    auto wrapped = std::make_shared<ssl::context>(ctx.get());
    ctx.release();
    return wrapped;
}

std::error_code configure_server(SSL_CTX* ctx) {
    SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) return detail::take_openssl_error();
    if (SSL_CTX_set_cipher_list(ctx, tls12_ciphers) != 1) return detail::take_openssl_error();
    if (SSL_CTX_set1_groups_list(ctx, groups) != 1) return detail::take_openssl_error();
    SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
    return {};
}

std::error_code load_pair(SSL_CTX* ctx, const tls_files& files) {
    if (SSL_CTX_use_certificate_chain_file(ctx, files.cert_chain.c_str()) != 1) return detail::take_openssl_error();
    if (SSL_CTX_use_PrivateKey_file(ctx, files.key.c_str(), SSL_FILETYPE_PEM) != 1)
        return detail::take_openssl_error();
    if (SSL_CTX_check_private_key(ctx) != 1) return detail::take_openssl_error();
    return {};
}

}  // namespace

const std::error_category& openssl_category() {
    static const openssl_error_category category;
    return category;
}

namespace detail {

std::error_code take_openssl_error(std::errc fallback) {
    unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (code == 0) return std::make_error_code(fallback);
    // OpenSSL 3 records a failed system call (fopen of a missing file) as the errno itself.
    if (ERR_SYSTEM_ERROR(code)) return {static_cast<int>(ERR_GET_REASON(code)), std::system_category()};
    return {static_cast<int>(code), openssl_category()};
}

bool is_ip_literal(const std::string& host) {
    unsigned char buf[16];
    return ::inet_pton(AF_INET, host.c_str(), buf) == 1 || ::inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

result<x509_ptr> read_certificate(const std::filesystem::path& file) {
    bio_ptr in{BIO_new_file(file.c_str(), "r")};
    if (!in) return fail(take_openssl_error());
    x509_ptr cert{PEM_read_bio_X509(in.get(), nullptr, no_passphrase, nullptr)};
    if (!cert) return fail(take_openssl_error());
    return cert;
}

result<evp_pkey_ptr> read_private_key(const std::filesystem::path& file) {
    bio_ptr in{BIO_new_file(file.c_str(), "r")};
    if (!in) return fail(take_openssl_error());
    evp_pkey_ptr key{PEM_read_bio_PrivateKey(in.get(), nullptr, no_passphrase, nullptr)};
    if (!key) return fail(take_openssl_error());
    return key;
}

}  // namespace detail

result<std::shared_ptr<ssl::context>> make_server_context(const tls_files& files) {
    ERR_clear_error();
    detail::ssl_ctx_ptr ctx{SSL_CTX_new(TLS_server_method())};
    if (!ctx) return fail(detail::take_openssl_error(std::errc::not_enough_memory));
    if (auto ec = configure_server(ctx.get())) return fail(ec);
    if (auto ec = load_pair(ctx.get(), files)) return fail(ec);
    return hand_to_asio(std::move(ctx));
}

result<std::shared_ptr<ssl::context>> make_client_context(bool verify,
                                                          const std::optional<std::filesystem::path>& ca_file) {
    ERR_clear_error();
    detail::ssl_ctx_ptr ctx{SSL_CTX_new(TLS_client_method())};
    if (!ctx) return fail(detail::take_openssl_error(std::errc::not_enough_memory));
    SSL_CTX_set_options(ctx.get(), SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    if (SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION) != 1) return fail(detail::take_openssl_error());
    SSL_CTX_set_default_passwd_cb(ctx.get(), no_passphrase);
    if (verify) {
        SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
        // The system's trust store, and the file on top of it (a test server's own certificate).
        int ok = SSL_CTX_set_default_verify_paths(ctx.get());
        if (ok == 1 && ca_file) ok = SSL_CTX_load_verify_file(ctx.get(), ca_file->c_str());
        if (ok != 1) return fail(detail::take_openssl_error());
    } else {
        SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
    }
    return hand_to_asio(std::move(ctx));
}

result<void> set_server_name(SSL* ssl, const std::string& host) {
    ERR_clear_error();
    bool ip = detail::is_ip_literal(host);
    // RFC 6066 §3: "Literal IPv4 and IPv6 addresses are not permitted in HostName."
    if (!ip && SSL_set_tlsext_host_name(ssl, host.c_str()) != 1) return fail(detail::take_openssl_error());
    if (SSL_get_verify_mode(ssl) == SSL_VERIFY_NONE) return {};
    int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str()) : SSL_set1_host(ssl, host.c_str());
    if (ok != 1) return fail(detail::take_openssl_error(std::errc::invalid_argument));
    return {};
}

tls_info describe(const SSL* ssl) {
    tls_info info;
    const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl);
    if (!cipher) return info;
    info.version = SSL_get_version(ssl);
    info.cipher = SSL_CIPHER_get_name(cipher);
    info.bits = SSL_CIPHER_get_bits(cipher, nullptr);
    return info;
}

}  // namespace postern::net
