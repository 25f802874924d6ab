// SPDX-License-Identifier: MIT
#pragma once
/// DKIM tag-lists (RFC 6376 §3.2), the DKIM-Signature field (§3.5) and the key record (§3.6.1)
/// as values. Pure: no I/O, no OpenSSL, no clock; never throws; bounded (at most max_tags tags).
///
/// When to call what: dkim_verifier (dkim_verify.hpp) calls parse_dkim_signature() on each
/// DKIM-Signature field value and parse_dkim_key() on each key TXT record; both are usable alone
/// (the fuzzer, `postern auth check`). Checks that need the time or the key (x=, t=, k=, h=, t=s)
/// are done by the verifier, which has both.
#include "base/expected.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace postern::mailauth {

/// Why a DKIM signature, key or message could not be used. Each message() is the outcome's
/// reason text.
enum class dkim_errc {
    bad_tag_list = 1,       ///< §3.2: not a tag-list (bad name, no '=', bad character)
    duplicate_tag,          ///< §3.2: "the entire tag-list is invalid"
    too_many_tags,          ///< more than max_tags: refused to bound work
    missing_tag,            ///< §6.1.1: a required tag (v, a, b, bh, d, h, s; p in a key) is missing
    bad_version,            ///< §6.1.1: v= is not "1"
    unknown_algorithm,      ///< a= is neither rsa-sha1, rsa-sha256 nor ed25519-sha256
    bad_canonicalization,   ///< c= names an unknown algorithm
    bad_base64,             ///< b=, bh= or p= is not base64
    bad_domain,             ///< d= is not a domain name
    bad_selector,           ///< s= is not a selector
    identity_mismatch,      ///< §6.1.1: the domain of i= is neither d= nor a subdomain of it
    from_not_signed,        ///< §6.1.1: h= does not include From
    bad_number,             ///< l=, t= or x= is not a decimal number of at most 76 bits' worth
    expiry_before_timestamp,///< §3.5: x= is less than t=
    bad_query_method,       ///< q= lists no method we support (dns/txt)
    expired,                ///< §3.5 x=: the signature has expired
    future_timestamp,       ///< §3.5 t=: the signature claims to be made in the future
    sha1_refused,           ///< RFC 8301 §3.1: rsa-sha1 signatures are not valid
    header_too_large,       ///< the header section passed the configured limit: nothing verified
    too_many_signatures,    ///< past the configured number of signatures to verify
    no_key,                 ///< §6.1.2: NXDOMAIN or no TXT record at the key name
    key_syntax,             ///< §6.1.2: the key record does not parse
    key_revoked,            ///< §3.6.1: p= is empty
    key_hash_mismatch,      ///< §3.6.1 h=: the key does not allow the signature's hash
    key_type_mismatch,      ///< §3.6.1 k=: the key type is not the signature's
    key_service_mismatch,   ///< §3.6.1 s=: the key is not for email
    key_strict_subdomain,   ///< §3.6.1 t=s: i= is a subdomain of d=, which the key forbids
    key_too_short,          ///< RFC 8301 §3.2: RSA keys under 1024 bits are not valid
    bad_key,                ///< p= does not hold a key of the type k= says
    body_hash_mismatch,     ///< §6.1.3: bh= is not the hash of the canonical body
    body_length_exceeded,   ///< §6.1.3: l= is more than the canonical body holds
    bad_signature,          ///< §6.1.3: b= does not verify
    dns_temporary,          ///< the key lookup failed for now
    crypto_error,           ///< OpenSSL failed (no memory, ...): our fault, not the signer's
    bad_pem,                ///< a private key file that does not hold a usable key
};
const std::error_category& dkim_category() noexcept;
inline std::error_code make_error_code(dkim_errc e) noexcept { return {static_cast<int>(e), dkim_category()}; }

/// One tag-spec: the name and the value with its leading and trailing FWS removed (folding inside
/// a value is kept). value_begin/value_end delimit, in the parsed text, everything between the '='
/// and the ';' (or the end), surrounding whitespace included: what §3.5 b= removal deletes.
struct dkim_tag {
    std::string_view name;
    std::string_view value;
    std::size_t value_begin = 0;
    std::size_t value_end = 0;
};

inline constexpr std::size_t max_tags = 64;

/// RFC 6376 §3.2 tag-list. The views point into `text`. An empty text is an empty list.
result<std::vector<dkim_tag>> parse_tag_list(std::string_view text);

enum class dkim_algorithm { rsa_sha1, rsa_sha256, ed25519_sha256 };
std::string_view to_string(dkim_algorithm a) noexcept;  ///< "rsa-sha1", "rsa-sha256", "ed25519-sha256"

/// §3.4 canonicalization algorithms.
enum class dkim_canon { simple, relaxed };
std::string_view to_string(dkim_canon c) noexcept;  ///< "simple", "relaxed"

/// A parsed DKIM-Signature field value (§3.5); only the checks that need nothing but the field
/// itself have been made.
struct dkim_signature {
    dkim_algorithm algorithm = dkim_algorithm::rsa_sha256;
    std::string b;                           ///< the signature, decoded
    std::string b_text;                      ///< b= as written, FWS removed (for dkim_outcome.b_prefix)
    std::string bh;                          ///< the body hash, decoded
    dkim_canon header_canon = dkim_canon::simple;
    dkim_canon body_canon = dkim_canon::simple;
    std::string domain;                      ///< d=, lower-cased
    std::vector<std::string> signed_headers; ///< h=, in order, lower-cased
    std::string identity;                    ///< i= as written, or "@" + d=
    std::string identity_domain;             ///< the domain part of i=, lower-cased
    std::optional<std::uint64_t> body_length;///< l=
    std::string selector;                    ///< s=, lower-cased
    std::optional<std::int64_t> timestamp;   ///< t=
    std::optional<std::int64_t> expiration;  ///< x=
    std::size_t b_value_begin = 0;           ///< where b='s value starts in the parsed text (§3.5 removal)
    std::size_t b_value_end = 0;             ///< and ends (';' or end of text)
};

/// Parses a DKIM-Signature field value (everything after the colon, folding included) and makes
/// every check of §6.1.1 that needs neither key nor clock: required tags, v=1, known a= and c=,
/// h= has From, i= under d=, x= >= t=.
result<dkim_signature> parse_dkim_signature(std::string_view value);

/// A parsed key record (§3.6.1). Unknown tags are ignored, as §3.2 requires.
struct dkim_key_record {
    std::vector<std::string> hashes;          ///< h=, lower-cased; empty means every hash
    std::string key_type = "rsa";             ///< k=, lower-cased
    std::string public_key;                   ///< p=, decoded; empty: revoked
    std::vector<std::string> services;        ///< s=, lower-cased; empty means "*"
    bool testing = false;                     ///< t=y
    bool strict = false;                      ///< t=s
};

/// Parses a key record's text (the TXT strings joined). v=, when present, must be first and
/// "DKIM1"; p= must be present.
result<dkim_key_record> parse_dkim_key(std::string_view text);

}  // namespace postern::mailauth

template <>
struct std::is_error_code_enum<postern::mailauth::dkim_errc> : std::true_type {};
