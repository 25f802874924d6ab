// SPDX-License-Identifier: MIT
#pragma once
/// SASL server mechanisms over raw bytes: the SMTP layer decodes and encodes base64 and writes
/// the 334 / 235 / 535 / 501 replies; nothing here sees base64 of the AUTH command itself.
///
/// When to call what: on "AUTH <mech> [initial-response]", make_mechanism(); nullptr means an
/// unknown (or unadvertised) mechanism (504 5.5.4). Then start() with the decoded initial response
/// (nullopt if none was given, an empty string_view for "="), and step() with each decoded client
/// line while the status is `challenge` (send `challenge` in a 334). `success`: 235 2.7.0 for
/// `user`. `failure`: 535 5.7.8. `malformed`: 501 5.5.2. `temporary_failure`: 454 4.7.0. A client's "*" (cancel) is the SMTP
/// layer's business. After success, failure or malformed the mechanism must not be stepped again.
///
/// Mechanisms: PLAIN (RFC 4616), LOGIN (draft-murchison-sasl-login), CRAM-MD5 (RFC 2195),
/// SCRAM-SHA-256 (RFC 5802, RFC 7677; no channel binding, so no -PLUS).
#include "auth/credentials.hpp"
#include "base/clock.hpp"

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postern::auth {

/// temporary_failure: the check itself failed on our side (verify_result::error): 454 4.7.0.
enum class sasl_status { challenge, success, failure, malformed, temporary_failure };

struct sasl_step {
    sasl_status status = sasl_status::failure;
    std::string challenge;  ///< raw bytes to send in a 334 when status == challenge
    std::string user;       ///< the authenticated identity on success; the attempted user on failure, when known
};

class sasl_mechanism {
public:
    virtual ~sasl_mechanism() = default;
    /// initial_response: decoded; "=" is an empty string_view, no initial response is nullopt.
    virtual sasl_step start(std::optional<std::string_view> initial_response) = 0;
    virtual sasl_step step(std::string_view response) = 0;
};

struct sasl_options {
    std::string hostname;                           ///< in the CRAM-MD5 challenge; "localhost" if empty
    std::function<std::string(std::size_t)> random; ///< n random bytes (nonces); empty: RAND_bytes
    const clock* time = nullptr;                    ///< the CRAM-MD5 timestamp; nullptr: the system clock
};

/// SCRAM-SHA-256's server nonce: this many random bytes, each made a printable non-',' character.
inline constexpr std::size_t scram_server_nonce_length = 30;

/// `name` is case-insensitive. The store must outlive the mechanism.
std::unique_ptr<sasl_mechanism> make_mechanism(std::string_view name, const credential_store& store,
                                               const sasl_options& options);

/// For EHLO: {"PLAIN", "LOGIN"}, then "CRAM-MD5" if some user has a plaintext-equivalent secret
/// (or the store accepts anything), then "SCRAM-SHA-256" if some user has a SCRAM secret.
std::vector<std::string> advertised_mechanisms(const credential_store& store);

namespace detail {
std::unique_ptr<sasl_mechanism> make_scram_sha256(const credential_store& store, const sasl_options& options);
std::string random_bytes(const sasl_options& options, std::size_t n);
}  // namespace detail

}  // namespace postern::auth
