// SPDX-License-Identifier: MIT
#pragma once
/// DKIM signing (RFC 6376 §5; rsa-sha256, and ed25519-sha256 of RFC 8463) of a message that
/// arrives in chunks, the way dkim_verifier reads one.
///
/// When to call what:
///  1. Load the key once (load_private_key, dkim_keys.hpp) and keep a dkim_signer_config per
///     signing domain.
///  2. Per message: make a dkim_signer, feed() every chunk of the message as it will be sent
///     (CRLF lines; a bare LF counts as a line end, as for the verifier), then finish().
///  3. signature_header(now) gives the "DKIM-Signature: ...\r\n" field, folded to 78 columns:
///     prepend it to the message unchanged. The body is hashed as it streams; only the header
///     section is kept (up to max_header_section).
#include "mailauth/dkim_canon.hpp"
#include "mailauth/dkim_keys.hpp"
#include "mailauth/dkim_tags.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace postern::mailauth {

/// The fields signed by default: those whose change would mislead the reader (RFC 6376 §5.4.1).
std::vector<std::string> default_signed_headers();

struct dkim_signer_config {
    std::string domain;                   ///< d=
    std::string selector;                 ///< s=
    std::shared_ptr<EVP_PKEY> key;        ///< RSA (rsa-sha256) or Ed25519 (ed25519-sha256): shared, never modified
    std::vector<std::string> headers = default_signed_headers();  ///< signed when present, every instance
    /// §8.15: names listed once more than they occur, so that a field added later breaks the
    /// signature ("over-signing"); From by default.
    std::vector<std::string> oversign = {"From"};
    dkim_canon header_canon = dkim_canon::relaxed;
    dkim_canon body_canon = dkim_canon::relaxed;
    std::optional<std::int64_t> expire_after;  ///< x= = t= + this many seconds
    std::size_t max_header_section = 1024 * 1024;
};

/// Shares a key loaded by load_private_key() with signer configurations.
inline std::shared_ptr<EVP_PKEY> share(evp_pkey_ptr key) { return {key.release(), &EVP_PKEY_free}; }

class dkim_signer {
public:
    explicit dkim_signer(dkim_signer_config config);
    ~dkim_signer();
    dkim_signer(dkim_signer&&) noexcept;
    dkim_signer& operator=(dkim_signer&&) noexcept;

    /// The next chunk of the message, any size.
    void feed(std::span<const char> bytes);
    void feed(std::string_view bytes) { feed(std::span<const char>(bytes.data(), bytes.size())); }
    void feed(const std::string& bytes) { feed(std::string_view(bytes)); }
    /// A string literal, without its terminating NUL.
    template <std::size_t N>
    void feed(const char (&literal)[N]) { feed(std::string_view(literal, N - 1)); }
    /// The message ended. Call once, before signature_header().
    void finish();

    /// The complete DKIM-Signature field, CRLF-terminated, with t=now_unix. Errors: not finished
    /// (std::errc::operation_not_permitted), header_too_large, bad_pem for a key that is neither
    /// RSA nor Ed25519, crypto_error.
    result<std::string> signature_header(std::int64_t now_unix) const;

private:
    struct state;
    std::unique_ptr<state> s_;
};

}  // namespace postern::mailauth
