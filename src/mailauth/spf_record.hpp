// SPDX-License-Identifier: MIT
#pragma once
/// SPF records (RFC 7208) as values: finding the one "v=spf1" record among a name's TXT records
/// (§4.5), parsing it into terms (§4.6, §5, §6, §12) and expanding macros (§7).
///
/// When to call what: spf_check (check_host) calls select_spf_record() on the TXT answer, then
/// parse_spf_record() on the record, then expand_spf_macro() on each domain-spec it needs, with
/// an spf_macro_context built for the current <domain>. Nothing here does DNS or reads the
/// clock: %{t} and the validated name of %{p} come in through the context. Pure: no Asio,
/// OpenSSL, <filesystem> or clock (scripts/check-purity.sh). Nothing throws; every input,
/// however long or hostile, gives a value or an spf_error in time linear in its length.
#include "base/expected.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postern::mailauth {

/// Why a record, term or macro-string is not valid: each one makes check_host() return
/// "permerror" (§4.6), except in an explanation string, which is then ignored (§6.2).
enum class spf_errc {
    no_record = 1,        ///< no TXT record starts with "v=spf1" (select_spf_record: not an error for check_host, "none")
    multiple_records,     ///< two or more "v=spf1" records (§4.5)
    not_spf1,             ///< the text does not start with "v=spf1" followed by SP or the end
    unknown_mechanism,    ///< a term that is neither a known mechanism nor a modifier (§4.6.1)
    bad_mechanism,        ///< a known mechanism with a missing, extra or malformed argument
    bad_cidr,             ///< a prefix length out of range or with leading zeros (§5.6)
    bad_ip,               ///< an ip4 / ip6 network that is not an address
    bad_domain_spec,      ///< a domain-spec that does not end in a top label or a macro (§7.1)
    bad_macro,            ///< a '%' not followed by '{', '%', '_' or '-', or a malformed %{...} (§7.1)
    forbidden_macro,      ///< c, r or t outside an explanation string (§7.3)
    duplicate_modifier,   ///< redirect= or exp= more than once (§6)
    bad_character,        ///< a character the grammar allows nowhere (a NUL, a control, non-ASCII)
    too_long,             ///< a macro expansion above max_spf_expansion
};

/// The error and the text it is about ("foo:bar", "ip4:192.0.2.1/33"), for spf_outcome::reason.
struct spf_error {
    spf_errc code{};
    std::string context;
    /// For people: "unknown mechanism: foo:bar".
    std::string message() const;
};

template <class T>
using spf_parsed = expected<T, spf_error>;

/// An IP address without Asio (the pure layer): v4 uses bytes[0..3], v6 all 16.
struct spf_ip {
    bool v4 = true;
    std::array<std::uint8_t, 16> bytes{};
    bool operator==(const spf_ip&) const = default;
};
/// "192.0.2.1" (strictly dotted-decimal, no leading zeros) or any RFC 4291 IPv6 text.
std::optional<spf_ip> parse_spf_ip(std::string_view text);
/// True when the first `prefix` bits of `a` and `network` agree and both are of one family.
bool spf_ip_in_network(const spf_ip& a, const spf_ip& network, unsigned prefix);

/// RFC 7208 §4.6.2; the character is the one written ('+' when none was).
enum class spf_qualifier : char { pass = '+', fail = '-', softfail = '~', neutral = '?' };

enum class spf_mechanism_kind { all, include, a, mx, ptr, ip4, ip6, exists };

/// One directive (§4.6.1, §5).
struct spf_mechanism {
    spf_qualifier qualifier = spf_qualifier::pass;
    spf_mechanism_kind kind = spf_mechanism_kind::all;
    /// The macro-string of include, a, mx, ptr and exists; empty for "a", "mx" and "ptr" without
    /// one (then <domain> is meant).
    std::string domain_spec;
    spf_ip network;            ///< ip4, ip6
    unsigned cidr4 = 32;       ///< ip4; a, mx (ip4-cidr-length)
    unsigned cidr6 = 128;      ///< ip6; a, mx (ip6-cidr-length)
    std::string text;          ///< the term as written ("-ip4:192.0.2.0/24"), for spf_outcome::mechanism
};

/// A parsed "v=spf1" record.
struct spf_record {
    std::vector<spf_mechanism> mechanisms;  ///< in order
    std::optional<std::string> redirect;    ///< redirect= domain-spec (§6.1)
    std::optional<std::string> exp;         ///< exp= domain-spec (§6.2)
    /// An "all" mechanism appears anywhere: redirect= is then ignored (§6.1).
    bool has_all() const;
};

/// §4.5: among a name's TXT record texts, the one that begins with "v=spf1" followed by SP or
/// the end (case-insensitively, as RFC 5234 §2.3 reads ABNF strings). no_record when there is
/// none, multiple_records when there are several.
spf_parsed<std::string> select_spf_record(const std::vector<std::string>& txt_texts);

/// Parses a whole record (§4.6, §12). Any syntax error anywhere is an error, even in a term that
/// evaluation would never reach (§4.6: "without further interpretation or evaluation").
/// Unknown modifiers are checked for syntax, then ignored (§6).
spf_parsed<spf_record> parse_spf_record(std::string_view text);

/// What the macros of §7.3 expand to; the caller fills it for the current <domain>.
struct spf_macro_context {
    std::string sender;           ///< <sender>, "local@domain" (s); l and o come from it
    std::string domain;           ///< the current <domain> (d)
    spf_ip ip;                    ///< <ip> (i, c, v)
    std::string helo;             ///< h
    std::string receiver = "unknown";  ///< r (explanations only)
    std::int64_t now = 0;         ///< t: seconds since the epoch (explanations only)
    /// p: the validated name the caller found (§5.5 rules, preferring <domain>); empty means
    /// "unknown". The caller resolves it only when spf_macro_uses(spec, 'p').
    std::string validated_ptr;
};

/// Where a macro-string stands: only an explanation may use c, r and t (§7.3), and only a
/// domain-spec is cut to 253 octets by removing labels from the left (§7.3).
enum class spf_macro_use { domain_spec, explanation };

/// Upper bound on an expansion, in octets: an explanation longer than this is a too_long error
/// (then ignored, §6.2). A domain-spec loses labels from the left as it grows (§7.3), so only
/// a single dotless run this long is too_long.
inline constexpr std::size_t max_spf_expansion = 4096;

/// §7: expands `macro_string`. For domain_spec use, one trailing dot is removed and the result
/// is cut to at most 253 octets from the left on label boundaries (§7.3).
spf_parsed<std::string> expand_spf_macro(std::string_view macro_string, const spf_macro_context& ctx,
                                         spf_macro_use use);

/// True when `macro_string` has a %{letter} macro (either case): lets the caller skip the PTR
/// look-up that %{p} needs when no macro asks for it.
bool spf_macro_uses(std::string_view macro_string, char letter);

}  // namespace postern::mailauth
