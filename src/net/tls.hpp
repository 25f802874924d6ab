// SPDX-License-Identifier: MIT
#pragma once
/// TLS contexts for the server (STARTTLS on 25/587, implicit TLS on 465) and the client.
///
/// When to call what: at start, build a tls_context_holder (from the configured files, or
/// "self-signed in DIR for HOST" when none are configured); give each new connection
/// holder.get() and keep that shared_ptr for as long as the connection's ssl::stream lives.
/// On SIGHUP call holder.reload(): new connections get the new context, running sessions keep
/// theirs. After a handshake, describe(stream.native_handle()) gives the version and cipher
/// for the log line and the Received header.
///
/// Nothing here throws (except std::bad_alloc): failures are error_codes. OpenSSL's errors
/// come back in openssl_category() (message: "SSL routines: key values mismatch"), failed
/// system calls made by OpenSSL (a missing file) in std::system_category().
#include "base/expected.hpp"

#include <boost/asio/ssl/context.hpp>

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <variant>

namespace postern::net {

namespace ssl = boost::asio::ssl;

/// A certificate chain (PEM: the leaf first, then intermediates) and its private key (PEM).
struct tls_files {
    std::filesystem::path cert_chain;
    std::filesystem::path key;
};

/// The category of error codes taken from OpenSSL's error queue (value: the packed error code).
const std::error_category& openssl_category();

/// A server context: TLS 1.2 and 1.3 only; for 1.2 only ECDHE with AES-GCM or ChaCha20-Poly1305
/// (Mozilla "intermediate" without DHE), 1.3 with OpenSSL's default suites; the server's cipher
/// order; no compression, no renegotiation; groups X25519, P-256, P-384. Loads the chain and
/// the key (an encrypted key is an error, never a prompt) and checks that they match.
result<std::shared_ptr<ssl::context>> make_server_context(const tls_files& files);

/// A client context, TLS 1.2 or newer. `verify`: the peer's chain must verify against the
/// system's trust store or against `ca_file` (added to it); call set_server_name() on each
/// connection for the host name check. Without `verify` any certificate is accepted
/// (opportunistic STARTTLS, RFC 7435).
result<std::shared_ptr<ssl::context>> make_client_context(bool verify,
                                                          const std::optional<std::filesystem::path>& ca_file = {});

/// Before a client handshake: sends `host` as SNI (RFC 6066; not for an IP literal) and, when
/// the context verifies, requires the certificate to be for `host` (RFC 6125 / an IP SAN).
result<void> set_server_name(SSL* ssl, const std::string& host);

/// What logs and Received headers say about a finished handshake.
struct tls_info {
    std::string version;  ///< "TLSv1.3", "TLSv1.2"
    std::string cipher;   ///< OpenSSL's name: "TLS_AES_256_GCM_SHA384", "ECDHE-RSA-AES128-GCM-SHA256"
    int bits = 0;         ///< the cipher's secret bits: 256, 128
};
/// For a connection whose handshake has finished; empty strings and 0 before that.
tls_info describe(const SSL* ssl);

/// The certificate and key in `dir` (cert.pem, key.pem) for `hostname`. Reuses the files if
/// they load, match each other, are for `hostname` and stay valid for at least a day; otherwise
/// generates a self-signed pair: EC P-256, CN and subjectAltName `hostname` (an IP literal
/// becomes an IP SAN; "localhost" and this machine's own host name also get DNS:localhost,
/// IP:127.0.0.1 and IP:::1), CA:FALSE, digitalSignature, serverAuth, a random 128-bit serial,
/// valid from an hour ago for 825 days, signed with SHA-256. The files are written atomically
/// (key.pem 0600, cert.pem 0644); `dir` is created with mode 0700 when missing. Logs
/// tls.generate when it generates. Error: invalid_argument for a host name that is not one.
result<tls_files> ensure_self_signed(const std::filesystem::path& dir, const std::string& hostname);

/// The server context in use, replaceable while sessions run. Thread-safe.
class tls_context_holder {
public:
    /// Serves `files`; the error is make_server_context's.
    static result<std::unique_ptr<tls_context_holder>> from_files(tls_files files);
    /// Serves ensure_self_signed(dir, hostname); each reload() checks (and renews) the pair again.
    static result<std::unique_ptr<tls_context_holder>> self_signed(std::filesystem::path dir, std::string hostname);

    tls_context_holder(const tls_context_holder&) = delete;
    tls_context_holder& operator=(const tls_context_holder&) = delete;

    /// The current context. Keep the pointer for the connection's lifetime: a reload replaces the
    /// holder's pointer, never the context a running session uses.
    std::shared_ptr<ssl::context> get() const;
    /// The files the current context was loaded from.
    tls_files files() const;

    /// Builds a fresh context from the same source and swaps it in only if that succeeds; on
    /// failure the current context stays in use and the error is returned. Logs tls.reload
    /// (info on success, warn with the error on failure).
    result<void> reload();

private:
    struct self_signed_source {
        std::filesystem::path dir;
        std::string hostname;
    };
    using source = std::variant<tls_files, self_signed_source>;
    struct built {
        std::shared_ptr<ssl::context> context;
        tls_files files;
    };

    explicit tls_context_holder(source src) : source_(std::move(src)) {}
    static result<std::unique_ptr<tls_context_holder>> open(source src);
    result<built> build() const;

    const source source_;
    std::mutex reload_mutex_;  // one reload at a time (self-signed renewal writes files)
    mutable std::mutex mutex_; // guards current_
    built current_;
};

}  // namespace postern::net
