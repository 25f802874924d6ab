// SPDX-License-Identifier: MIT
#pragma once
/// The DMARC policy record (RFC 7489 §6.3, §6.4): the TXT record at _dmarc.<domain>, parsed.
/// Pure: no I/O, no clock, never throws (beyond std::bad_alloc); work and memory are bounded by
/// the input size and by max_report_uris.
///
/// When to call what: dmarc_check calls is_dmarc_record() on every TXT string at a _dmarc name
/// to keep the DMARC ones (§6.6.3 steps 2 and 4), and parse_dmarc_record() on the one that is
/// left. The error names the reason a record cannot be used; `warnings` lists the tags that
/// were ignored for bad syntax, which §6.3 says to discard in favour of the defaults.
#include "base/expected.hpp"
#include "mailauth/results.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace postern::mailauth {

enum class dmarc_record_errc {
    not_dmarc = 1,   ///< the record does not start with "v=DMARC1" (§6.3: v must be first)
    bad_policy,      ///< p= missing or invalid, or sp= invalid, and no valid rua= (§6.6.3 step 6)
    too_long,        ///< over max_dmarc_record octets
};
const std::error_category& dmarc_record_category() noexcept;
inline std::error_code make_error_code(dmarc_record_errc e) noexcept { return {static_cast<int>(e), dmarc_record_category()}; }

/// §6.3 adkim / aspf.
enum class alignment_mode { relaxed, strict };
std::string_view to_string(alignment_mode m) noexcept;  ///< "r", "s"

/// One dmarc-uri (§6.4): a URI with an optional size limit ("mailto:a@b.example!10m").
struct report_uri {
    std::string uri;
    std::optional<std::uint64_t> max_size;  ///< in octets, the unit suffix already applied
    bool operator==(const report_uri&) const = default;
};

inline constexpr std::size_t max_dmarc_record = 8192;  ///< a TXT record is far shorter in practice
inline constexpr std::size_t max_report_uris = 16;     ///< per rua= / ruf= list; the rest are dropped
inline constexpr std::size_t max_warnings = 16;        ///< further warnings are dropped

struct dmarc_record {
    dmarc_policy p = dmarc_policy::none;
    std::optional<dmarc_policy> sp;                    ///< absent: p= applies to subdomains too (§6.3)
    unsigned pct = 100;                                ///< 0..100 (§6.3)
    alignment_mode adkim = alignment_mode::relaxed;
    alignment_mode aspf = alignment_mode::relaxed;
    std::vector<report_uri> rua;                       ///< valid URIs only
    std::vector<report_uri> ruf;
    std::string fo = "0";                              ///< colon-separated 0, 1, d, s, as given (lower-cased)
    std::string rf = "afrf";
    std::uint32_t ri = 86400;                          ///< seconds
    /// p= was missing or invalid (or sp= invalid) and the record is used as p=none because it has
    /// a valid rua= (§6.6.3 step 6).
    bool policy_from_rua = false;
    std::vector<std::string> warnings;                 ///< "pct=250: not 0-100, using 100", ...

    /// The policy for a From domain: sp= when the record was found at the organizational domain
    /// for a subdomain of it, else p= (§6.3 sp).
    dmarc_policy policy_for(bool subdomain) const noexcept { return subdomain && sp ? *sp : p; }
};

/// True when `txt` starts with the version tag "v=DMARC1" (§6.3: "v" *WSP "=" *WSP "DMARC1",
/// followed by ';', whitespace or the end). Leading whitespace is allowed.
bool is_dmarc_record(std::string_view txt) noexcept;

/// Parses a whole record (the strings of one TXT record joined with nothing between).
/// Unknown tags are ignored (§6.3); a known tag with a bad value is ignored with a warning and
/// its default applies; a later duplicate of a tag is ignored with a warning.
result<dmarc_record> parse_dmarc_record(std::string_view txt);

}  // namespace postern::mailauth

template <>
struct std::is_error_code_enum<postern::mailauth::dmarc_record_errc> : std::true_type {};
