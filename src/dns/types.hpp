// SPDX-License-Identifier: MIT
#pragma once
/// DNS answers as values: what a lookup found, or why it found nothing.
///
/// Every query ends in exactly one `status`. The distinctions matter to the callers: NXDOMAIN
/// and "no records" (NODATA) are answers (a mail domain with no MX has an implicit MX; one that
/// does not exist gets a permanent failure), while SERVFAIL, REFUSED and timeouts are temporary
/// failures to retry later (RFC 5321 §4.5.4.1, RFC 7208 §2.6.6 temperror).
#include <boost/asio/ip/address.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

namespace postern::dns {

enum class status {
    ok = 0,      ///< at least one record of the asked type
    nxdomain,    ///< RCODE 3: the name does not exist
    no_records,  ///< NOERROR with no record of the asked type (NODATA)
    servfail,    ///< RCODE 2, from every server tried
    refused,     ///< RCODE 5, from every server tried
    timeout,     ///< no answer within the timeout and tries
    bad_name,    ///< not a domain name, or its IDN conversion failed
    cancelled,   ///< the resolver was destroyed or the operation was cancelled first
    error,       ///< anything else: a malformed answer, a closed port, no memory
};

/// "ok", "nxdomain", "no_records", "servfail", "refused", "timeout", "bad_name", "cancelled",
/// "error": stable tokens for logs and `--json`.
std::string_view to_string(status s) noexcept;
/// For people: "no such domain (NXDOMAIN)", "server failure (SERVFAIL)", ...
std::string_view describe(status s) noexcept;
/// SERVFAIL, REFUSED, timeout and other errors: worth retrying later (not NXDOMAIN or NODATA).
bool is_temporary(status s) noexcept;

/// The category of error_codes made from a status (status::ok is "no error").
const std::error_category& dns_category() noexcept;
std::error_code make_error_code(status s) noexcept;

/// The record types postern asks for. `any` is only for static_resolver::set_status.
enum class record_type : std::uint16_t { a = 1, ptr = 12, mx = 15, txt = 16, aaaa = 28, tlsa = 52, any = 255 };
std::string_view to_string(record_type t) noexcept;  ///< "A", "PTR", "MX", "TXT", "AAAA", "TLSA", "ANY"

struct mx_record {
    std::uint16_t preference = 0;
    /// The exchange: an A-label, lower-case, without the trailing dot. The root (the null MX
    /// target of RFC 7505) is ".".
    std::string host;
    bool operator==(const mx_record&) const = default;
};

struct txt_record {
    std::string text;                  ///< the character-strings joined with nothing between (RFC 7208 §3.3)
    std::vector<std::string> strings;  ///< each <character-string> as sent (DKIM and SPF split long keys)
    bool operator==(const txt_record&) const = default;
};

/// RFC 6698 §2.1.
struct tlsa_record {
    std::uint8_t usage = 0;          ///< 0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE
    std::uint8_t selector = 0;       ///< 0 full certificate, 1 SubjectPublicKeyInfo
    std::uint8_t matching_type = 0;  ///< 0 exact, 1 SHA-256, 2 SHA-512
    std::vector<std::uint8_t> data;
    bool operator==(const tlsa_record&) const = default;
};

/// The outcome of one query. `records` is non-empty exactly when status is ok.
template <class Record>
struct answer {
    std::string name;  ///< the name asked for, as an A-label (the input itself when bad_name)
    dns::status status = dns::status::ok;
    std::vector<Record> records;
    std::string detail;  ///< status::error: what went wrong, in c-ares' words; otherwise empty
    bool ok() const noexcept { return status == dns::status::ok; }
};

using mx_answer = answer<mx_record>;
using address_answer = answer<boost::asio::ip::address>;  ///< A (IPv4) or AAAA (IPv6)
using txt_answer = answer<txt_record>;
using tlsa_answer = answer<tlsa_record>;
/// PTR: host names as A-labels, lower-case, without the trailing dot (as mx_record::host).
using ptr_answer = answer<std::string>;

/// The name a PTR query for `ip` asks for (RFC 1035 §3.5, RFC 3596 §2.5): "1.2.0.192.in-addr.arpa"
/// for 192.0.2.1, 32 reversed nibbles + ".ip6.arpa" for IPv6. An IPv4-mapped IPv6 address is
/// asked as IPv6: callers that want the IPv4 form convert first.
std::string reverse_name(const boost::asio::ip::address& ip);

}  // namespace postern::dns

template <>
struct std::is_error_code_enum<postern::dns::status> : std::true_type {};
