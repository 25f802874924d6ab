// SPDX-License-Identifier: MIT
// The record is a tag-list (RFC 7489 §6.4, the syntax of RFC 6376 §3.2): "tag=value" specs
// separated by ';'. The version tag must come first and be exactly "DMARC1" (%x44.4d.41.52.43.31,
// so case matters there); tag names and the keyword values ("reject", "r") are ABNF quoted
// strings, which are case-insensitive. §6.3 asks for tolerance: "Syntax errors in the remainder
// of the record SHOULD be discarded in favor of default values (if any) or ignored outright", so
// a bad tag is dropped with a warning, and only a record without a usable policy is refused
// (§6.6.3 step 6, which rescues it as p=none when it has a valid rua=).
#include "mailauth/dmarc_record.hpp"

#include <algorithm>
#include <limits>
#include <set>

namespace postern::mailauth {
namespace {

class dmarc_record_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "postern.dmarc_record"; }
    std::string message(int ev) const override {
        switch (static_cast<dmarc_record_errc>(ev)) {
            case dmarc_record_errc::not_dmarc: return "not a DMARC record (v=DMARC1 must come first)";
            case dmarc_record_errc::bad_policy: return "no valid p= (or an invalid sp=) and no valid rua=";
            case dmarc_record_errc::too_long: return "DMARC record too long";
        }
        return "unknown DMARC record error";
    }
};

bool is_fws(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
bool is_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && is_fws(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_fws(s.back())) s.remove_suffix(1);
    return s;
}

std::string lowered(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), lower);
    return out;
}

std::optional<dmarc_policy> parse_policy(std::string_view v) {
    const std::string s = lowered(v);
    if (s == "none") return dmarc_policy::none;
    if (s == "quarantine") return dmarc_policy::quarantine;
    if (s == "reject") return dmarc_policy::reject;
    return std::nullopt;
}

std::optional<alignment_mode> parse_mode(std::string_view v) {
    const std::string s = lowered(v);
    if (s == "r") return alignment_mode::relaxed;
    if (s == "s") return alignment_mode::strict;
    return std::nullopt;
}

// 1*DIGIT, saturating at `max` rather than overflowing.
std::optional<std::uint64_t> parse_number(std::string_view v, std::uint64_t max) noexcept {
    if (v.empty() || !std::all_of(v.begin(), v.end(), is_digit)) return std::nullopt;
    std::uint64_t n = 0;
    for (char c : v) {
        const auto d = static_cast<std::uint64_t>(c - '0');
        if (n > (max - d) / 10) return max;
        n = n * 10 + d;
    }
    return n;
}

// RFC 3986 §3.1 scheme ":" and something after it, all visible ASCII. §6.4: a ',' or '!' in
// the URI must be %-encoded, so neither can appear here.
bool is_uri(std::string_view u) noexcept {
    const std::size_t colon = u.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == u.size() || !is_alpha(u[0])) return false;
    for (std::size_t i = 1; i < colon; ++i) {
        const char c = u[i];
        if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-' && c != '.') return false;
    }
    return std::all_of(u.begin(), u.end(), [](char c) { return c > 0x20 && c < 0x7F && c != ',' && c != '!'; });
}

// dmarc-uri = URI [ "!" 1*DIGIT [ "k" / "m" / "g" / "t" ] ] (§6.4); the units are powers of two.
std::optional<report_uri> parse_report_uri(std::string_view text) {
    text = trim(text);
    const std::size_t bang = text.find('!');
    report_uri r{std::string(text.substr(0, bang)), std::nullopt};
    if (!is_uri(r.uri)) return std::nullopt;
    if (bang == std::string_view::npos) return r;
    std::string_view size = text.substr(bang + 1);
    unsigned shift = 0;
    if (!size.empty() && !is_digit(size.back())) {
        constexpr std::string_view units = "kmgt";
        const std::size_t u = units.find(lower(size.back()));
        if (u == std::string_view::npos) return std::nullopt;
        shift = 10 * static_cast<unsigned>(u + 1);
        size.remove_suffix(1);
    }
    const auto n = parse_number(size, std::numeric_limits<std::uint64_t>::max() >> shift);
    if (!n || *n == (std::numeric_limits<std::uint64_t>::max() >> shift)) return std::nullopt;
    r.max_size = *n << shift;
    return r;
}

// Each element is checked by `ok`; the list is returned lower-cased, or nothing if any is bad.
template <class Pred>
std::optional<std::string> parse_colon_list(std::string_view v, Pred ok) {
    std::string out;
    while (true) {
        const std::size_t colon = v.find(':');
        const std::string item = lowered(trim(v.substr(0, colon)));
        if (!ok(item)) return std::nullopt;
        if (!out.empty()) out += ':';
        out += item;
        if (colon == std::string_view::npos) return out;
        v.remove_prefix(colon + 1);
    }
}

class record_parser {
public:
    result<dmarc_record> parse(std::string_view txt);

private:
    void tag(std::string_view name, std::string_view value);
    void uri_list(std::string_view name, std::string_view value, std::vector<report_uri>& out);
    void warn(std::string text) {
        if (r_.warnings.size() < max_warnings) r_.warnings.push_back(std::move(text));
    }

    dmarc_record r_;
    bool p_valid_ = false;
    bool sp_invalid_ = false;
    std::set<std::string, std::less<>> seen_;
};

void record_parser::uri_list(std::string_view name, std::string_view value, std::vector<report_uri>& out) {
    while (true) {
        const std::size_t comma = value.find(',');
        if (auto u = parse_report_uri(value.substr(0, comma))) {
            if (out.size() < max_report_uris) out.push_back(std::move(*u));
        } else {
            warn(std::string(name) + ": invalid URI ignored");
        }
        if (comma == std::string_view::npos) return;
        value.remove_prefix(comma + 1);
    }
}

void record_parser::tag(std::string_view name, std::string_view value) {
    const std::string bad = std::string(name) + "=" + std::string(value.substr(0, 64)) + ": ";
    if (name == "p") {
        if (auto p = parse_policy(value)) r_.p = *p, p_valid_ = true;
        else warn(bad + "not none, quarantine or reject");
    } else if (name == "sp") {
        if (auto p = parse_policy(value)) r_.sp = *p;
        else sp_invalid_ = true, warn(bad + "not none, quarantine or reject");
    } else if (name == "pct") {
        // 1*3DIGIT, 0..100 (§6.3); anything else keeps the default of 100.
        const auto n = value.size() <= 3 ? parse_number(value, 999) : std::nullopt;
        if (n && *n <= 100) r_.pct = static_cast<unsigned>(*n);
        else warn(bad + "not 0-100, using 100");
    } else if (name == "adkim" || name == "aspf") {
        auto m = parse_mode(value);
        if (!m) warn(bad + "not r or s, using r");
        else (name == "adkim" ? r_.adkim : r_.aspf) = *m;
    } else if (name == "rua" || name == "ruf") {
        uri_list(name, value, name == "rua" ? r_.rua : r_.ruf);
    } else if (name == "fo") {
        auto fo = parse_colon_list(value, [](const std::string& s) { return s == "0" || s == "1" || s == "d" || s == "s"; });
        if (fo) r_.fo = *fo;
        else warn(bad + "not a list of 0, 1, d, s; using 0");
    } else if (name == "rf") {
        // Keyword = ALPHA *(ALPHA / DIGIT / "-"); "afrf" is the only format defined (§6.3).
        auto rf = parse_colon_list(value, [](const std::string& s) {
            return !s.empty() && is_alpha(s[0]) &&
                   std::all_of(s.begin(), s.end(), [](char c) { return is_alpha(c) || is_digit(c) || c == '-'; });
        });
        if (rf) r_.rf = *rf;
        else warn(bad + "not a list of report formats; using afrf");
    } else if (name == "ri") {
        if (auto n = parse_number(value, std::numeric_limits<std::uint32_t>::max())) r_.ri = static_cast<std::uint32_t>(*n);
        else warn(bad + "not a number of seconds; using 86400");
    }
    // Any other tag: "Unknown tags MUST be ignored" (§6.3).
}

result<dmarc_record> record_parser::parse(std::string_view txt) {
    if (txt.size() > max_dmarc_record) return fail(dmarc_record_errc::too_long);
    if (!is_dmarc_record(txt)) return fail(dmarc_record_errc::not_dmarc);
    txt.remove_prefix(std::min(txt.find(';'), txt.size()));  // the version tag, checked above
    while (!txt.empty()) {
        txt.remove_prefix(1);  // the ';'
        const std::size_t semi = std::min(txt.find(';'), txt.size());
        const std::string_view spec = trim(txt.substr(0, semi));
        txt.remove_prefix(semi);
        if (spec.empty()) continue;  // "p=reject;" and ";;" are allowed by tag-list
        const std::size_t eq = spec.find('=');
        const std::string name = lowered(trim(spec.substr(0, std::min(eq, spec.size()))));
        const bool name_ok = !name.empty() && is_alpha(name[0]) &&
                             std::all_of(name.begin(), name.end(), [](char c) { return is_alpha(c) || is_digit(c) || c == '_'; });
        if (eq == std::string_view::npos || !name_ok) {
            warn("\"" + std::string(spec.substr(0, 64)) + "\": not a tag=value pair, ignored");
            continue;
        }
        if (name == "v" || !seen_.insert(name).second) {
            warn(name + ": repeated tag ignored");
            continue;
        }
        tag(name, trim(spec.substr(eq + 1)));
    }
    if (!p_valid_ || sp_invalid_) {
        // §6.6.3 step 6: no valid p= (or an invalid sp=) is rescued as p=none by a valid rua=.
        if (r_.rua.empty()) return fail(dmarc_record_errc::bad_policy);
        r_.p = dmarc_policy::none;
        r_.sp.reset();
        r_.policy_from_rua = true;
    }
    return std::move(r_);
}

}  // namespace

const std::error_category& dmarc_record_category() noexcept {
    static const dmarc_record_category_impl category;
    return category;
}

std::string_view to_string(alignment_mode m) noexcept { return m == alignment_mode::strict ? "s" : "r"; }

bool is_dmarc_record(std::string_view txt) noexcept {
    txt = trim(txt);
    if (txt.empty() || lower(txt[0]) != 'v') return false;
    txt.remove_prefix(1);
    while (!txt.empty() && is_fws(txt.front())) txt.remove_prefix(1);
    if (txt.empty() || txt.front() != '=') return false;
    txt.remove_prefix(1);
    while (!txt.empty() && is_fws(txt.front())) txt.remove_prefix(1);
    if (txt.substr(0, 6) != "DMARC1") return false;
    txt.remove_prefix(6);
    return txt.empty() || txt.front() == ';' || is_fws(txt.front()) ? trim(txt.substr(0, txt.find(';'))).empty() : false;
}

result<dmarc_record> parse_dmarc_record(std::string_view txt) { return record_parser{}.parse(txt); }

}  // namespace postern::mailauth
