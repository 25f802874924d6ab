// SPDX-License-Identifier: MIT
#pragma once
/// DKIM verification (RFC 6376 §6, RFC 8463, RFC 8301) of a message that arrives in chunks.
///
/// When to call what:
///  1. Make one dkim_verifier per message, before its first octet.
///  2. feed() each chunk of the message content as the server receives it (CRLF lines,
///     dot-unstuffed; chunks split anywhere, even inside a CRLF). The header section is kept (up
///     to limits.max_header_section); the body is hashed as it streams, once for each distinct
///     (body canonicalization, l=) among the DKIM-Signature fields, and never kept.
///  3. When the content ends, finish(): it gives the message's dkim_message (header fields,
///     signatures, body hashes). headers() there is also what DMARC reads From from.
///  4. `co_await verify_dkim(resolver, std::move(message), now, options)`: one key lookup per
///     signature, and one dkim_outcome per DKIM-Signature field, in header order.
/// A message with no DKIM-Signature gives no outcome at all (DKIM result "none", RFC 8601 §2.7.1).
#include "dns/resolver.hpp"
#include "mailauth/dkim_canon.hpp"
#include "mailauth/dkim_tags.hpp"
#include "mailauth/results.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace postern::mailauth {

namespace asio = boost::asio;

struct dkim_verifier_limits {
    std::size_t max_header_section = 1024 * 1024;  ///< octets kept; past it every signature is permerror
    std::size_t max_signatures = 10;               ///< signatures verified (key lookups); the rest are permerror
};

/// One DKIM-Signature field once the message has ended.
struct dkim_signature_state {
    std::size_t field = 0;                    ///< its index in dkim_message::headers (none if dropped)
    result<dkim_signature> signature;         ///< the parsed field, or why it cannot be verified
    std::string body_hash;                    ///< the hash of its canonical body, up to l=
    std::uint64_t body_length = 0;            ///< octets in the canonical body (all of it, not just l=)
};

/// What a finished dkim_verifier knows: the input of verify_dkim().
struct dkim_message {
    std::vector<header_field> headers;        ///< every header field, in order (see header_too_large)
    bool header_too_large = false;            ///< headers holds only the fields before the limit
    std::vector<dkim_signature_state> signatures;
};

class dkim_verifier {
public:
    explicit dkim_verifier(dkim_verifier_limits limits = {});
    ~dkim_verifier();
    dkim_verifier(dkim_verifier&&) noexcept;
    dkim_verifier& operator=(dkim_verifier&&) noexcept;

    /// The next chunk of message content, any size.
    void feed(std::span<const char> bytes);
    void feed(std::string_view bytes) { feed(std::span<const char>(bytes.data(), bytes.size())); }
    void feed(const std::string& bytes) { feed(std::string_view(bytes)); }
    /// A string literal, without its terminating NUL.
    template <std::size_t N>
    void feed(const char (&literal)[N]) { feed(std::string_view(literal, N - 1)); }

    /// The content ended. Call once; the verifier is then empty.
    dkim_message finish();

private:
    struct body_hash;
    void start_body();
    body_hash& hash_for(const dkim_signature& sig);

    dkim_verifier_limits limits_;
    header_collector headers_;
    bool body_started_ = false;
    std::vector<dkim_signature_state> signatures_;
    std::vector<std::size_t> hash_of_;              // per signature: index in hashes_, or npos
    std::vector<std::unique_ptr<body_hash>> hashes_;
};

struct dkim_verify_options {
    /// Seconds of clock difference tolerated for t= in the future and x= in the past.
    std::int64_t clock_skew = 300;
    /// RFC 8301 §3.2: at least 1024; raise it to refuse more.
    unsigned min_rsa_bits = 1024;
};

/// Verifies every signature of a finished message (step 4 above). `now_unix` is the time of
/// verification (for x= and t=). `r` must outlive the operation. Never throws for bad input.
asio::awaitable<std::vector<dkim_outcome>> verify_dkim(dns::resolver& r, dkim_message message,
                                                       std::int64_t now_unix, dkim_verify_options options = {});

/// The result word an error is reported with: policy for what RFC 8301 makes unacceptable,
/// temperror for DNS trouble, fail for hashes and signatures that do not verify, permerror else.
dkim_result result_for(std::error_code ec) noexcept;

}  // namespace postern::mailauth
