// SPDX-License-Identifier: MIT
// The top-level fields a reader shows: addresses with their display names, the subject, the
// date and the Message-ID. Unlike header_scan.cpp, whose strict address parser decides whether
// a submission may pass, these readers must make sense of whatever was stored, so they split
// and clean rather than reject: an address field is cut at top-level commas (outside quotes,
// comments and angle brackets), group names are dropped, and each piece becomes a display name
// (RFC 2047-decoded, RFC 5322 §3.2.5 phrase) and an address.
#include "message/encoding_detail.hpp"
#include "message/mime_parse_detail.hpp"

#include <array>

namespace postern::message {
namespace {

using detail::is_wsp;

bool is_space(char c) noexcept { return is_wsp(c) || c == '\r' || c == '\n'; }

// Index just past the quoted-string that starts at s[i] == '"' (or the end when unterminated).
std::size_t skip_quoted(std::string_view s, std::size_t i) noexcept {
    for (++i; i < s.size(); ++i) {
        if (s[i] == '\\') ++i;
        else if (s[i] == '"') return i + 1;
    }
    return s.size();
}

// Index just past the comment that starts at s[i] == '(' (comments nest, RFC 5322 §3.2.2).
std::size_t skip_comment(std::string_view s, std::size_t i) noexcept {
    int depth = 0;
    for (; i < s.size(); ++i) {
        if (s[i] == '\\') ++i;
        else if (s[i] == '(') ++depth;
        else if (s[i] == ')' && --depth == 0) return i + 1;
    }
    return s.size();
}

// The content of a quoted-string or comment between its delimiters, quoted-pairs resolved.
std::string inner_text(std::string_view s, std::size_t begin, std::size_t end, char close) {
    std::string out;
    for (std::size_t k = begin + 1; k < end; ++k) {
        if (s[k] == '\\' && k + 1 < end) ++k;
        else if (s[k] == close && k + 1 == end) break;
        out += s[k];
    }
    return out;
}

// Splits an address-list at top-level ',' and ';'; a top-level ':' outside angle brackets
// ends a group's name, which is dropped (RFC 5322 §3.4: group = display-name ":" list ";").
std::vector<std::string_view> split_elements(std::string_view v) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    bool angle = false;
    for (std::size_t i = 0; i < v.size();) {
        const char c = v[i];
        if (c == '"') {
            i = skip_quoted(v, i);
            continue;
        }
        if (c == '(') {
            i = skip_comment(v, i);
            continue;
        }
        if (c == '<') angle = true;
        else if (c == '>') angle = false;
        else if (!angle && (c == ',' || c == ';')) {
            out.push_back(v.substr(start, i - start));
            start = i + 1;
        } else if (!angle && c == ':') {
            start = i + 1;
        }
        ++i;
    }
    out.push_back(v.substr(start));
    return out;
}

struct phrase_word {
    std::string text;
    bool encoded = false;  // an encoded-word: no space between it and another one
};

// A display name: atoms, quoted-strings and encoded-words, words joined by one space except
// between two encoded-words (RFC 2047 §6.2). Comments are dropped. Encoded-words inside a
// quoted-string are decoded too (against §5, but common; Python's email does the same).
std::string decode_phrase(std::string_view phrase) {
    std::vector<phrase_word> words;
    for (std::size_t i = 0; i < phrase.size();) {
        const char c = phrase[i];
        if (is_space(c)) {
            ++i;
        } else if (c == '(') {
            i = skip_comment(phrase, i);
        } else if (c == '"') {
            const std::size_t end = skip_quoted(phrase, i);
            words.push_back({decode_words(inner_text(phrase, i, end, '"')), false});
            i = end;
        } else {
            const std::size_t start = i;
            while (i < phrase.size() && !is_space(phrase[i]) && phrase[i] != '"' && phrase[i] != '(') ++i;
            const std::string_view atom = phrase.substr(start, i - start);
            const bool ew = atom.size() > 4 && atom.substr(0, 2) == "=?" && atom.substr(atom.size() - 2) == "?=";
            words.push_back({decode_words(atom), ew});
        }
    }
    std::string out;
    for (std::size_t k = 0; k < words.size(); ++k) {
        if (k > 0 && !(words[k - 1].encoded && words[k].encoded)) out += ' ';
        out += words[k].text;
    }
    return out;
}

// The address as written, without comments, white space outside quotes and a source route.
// The first comment's text is kept in *comment: "a@b (John Doe)" is an old way to give a name.
std::string clean_address(std::string_view a, std::string* comment) {
    std::string out;
    for (std::size_t i = 0; i < a.size();) {
        if (a[i] == '(') {
            const std::size_t end = skip_comment(a, i);
            if (comment && comment->empty()) *comment = inner_text(a, i, end, ')');
            i = end;
        } else if (a[i] == '"') {
            const std::size_t end = skip_quoted(a, i);
            out.append(a.substr(i, end - i));
            i = end;
        } else {
            if (!is_space(a[i])) out += a[i];
            ++i;
        }
    }
    if (!out.empty() && out.front() == '@') {  // obs-route "@a,@b:local@domain" (RFC 5322 §4.4)
        const auto colon = out.find(':');
        out.erase(0, colon == std::string::npos ? out.size() : colon + 1);
    }
    return raw_header_to_utf8(out);
}

// The position of the top-level '<' in an element, or npos.
std::size_t find_angle(std::string_view e) noexcept {
    for (std::size_t i = 0; i < e.size();) {
        if (e[i] == '"') i = skip_quoted(e, i);
        else if (e[i] == '(') i = skip_comment(e, i);
        else if (e[i] == '<') return i;
        else ++i;
    }
    return std::string_view::npos;
}

mailbox_address parse_element(std::string_view e) {
    mailbox_address out;
    const std::size_t lt = find_angle(e);
    std::string comment;
    if (lt == std::string_view::npos) {
        out.address = clean_address(e, &comment);
        out.name = decode_words(detail::trim_wsp(comment));
        return out;
    }
    const std::size_t gt = e.find('>', lt);
    out.address = clean_address(e.substr(lt + 1, gt == std::string_view::npos ? std::string_view::npos : gt - lt - 1), nullptr);
    out.name = std::string(detail::trim_wsp(decode_phrase(e.substr(0, lt))));
    return out;
}

bool has_at_or_angle(std::string_view e) noexcept {
    return find_angle(e) != std::string_view::npos || e.find('@') != std::string_view::npos;
}

}  // namespace

std::vector<mailbox_address> parse_address_field(std::string_view value, std::size_t max) {
    std::vector<mailbox_address> out;
    const std::vector<std::string_view> elements = split_elements(value);
    const auto add = [&](std::string_view e) {
        if (out.size() >= max) return;
        mailbox_address a = parse_element(e);
        if (!a.address.empty() || !a.name.empty()) out.push_back(std::move(a));
    };
    // "Doe, John <j@x>": a piece with neither '@' nor '<' followed by one with '<' is the start
    // of a display name that should have been quoted; the two are read as one.
    std::string_view pending;
    for (std::string_view e : elements) {
        if (detail::trim_wsp(e).empty()) continue;
        if (!pending.empty()) {
            if (find_angle(e) != std::string_view::npos && e.data() > pending.data()) {
                add(std::string_view(pending.data(), static_cast<std::size_t>(e.data() + e.size() - pending.data())));
                pending = {};
                continue;
            }
            add(pending);
            pending = {};
        }
        if (has_at_or_angle(e)) add(e);
        else pending = e;
    }
    if (!pending.empty()) add(pending);
    return out;
}

std::string decode_header_value(std::string_view value) { return decode_words(value); }

const header_field* parsed_message::header(std::string_view name) const noexcept {
    for (const header_field& h : headers())
        if (detail::iequals(h.name, name)) return &h;
    return nullptr;
}

namespace {

constexpr std::array<std::string_view, 12> month_names{"jan", "feb", "mar", "apr", "may", "jun",
                                                       "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<std::string_view, 7> day_names{"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

// The tokens of a date-time: comments dropped, split at white space and ','.
std::vector<std::string_view> date_tokens(std::string_view v) {
    std::vector<std::string_view> out;
    for (std::size_t i = 0; i < v.size();) {
        if (v[i] == '(') {
            i = skip_comment(v, i);
        } else if (is_space(v[i]) || v[i] == ',') {
            ++i;
        } else {
            const std::size_t start = i;
            while (i < v.size() && !is_space(v[i]) && v[i] != ',' && v[i] != '(') ++i;
            out.push_back(v.substr(start, i - start));
        }
    }
    return out;
}

std::optional<int> number(std::string_view s, std::size_t max_digits) {
    if (s.empty() || s.size() > max_digits) return std::nullopt;
    int n = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        n = n * 10 + (c - '0');
    }
    return n;
}

int month_of(std::string_view s) {  // 1..12, or 0; full names are accepted by their first three letters
    if (s.size() < 3) return 0;
    const std::string m = detail::ascii_lower(s.substr(0, 3));
    for (std::size_t i = 0; i < month_names.size(); ++i)
        if (month_names[i] == m) return static_cast<int>(i) + 1;
    return 0;
}

bool is_day_name(std::string_view s) {
    if (s.size() < 3) return false;
    const std::string d = detail::ascii_lower(s.substr(0, 3));
    return std::find(day_names.begin(), day_names.end(), d) != day_names.end();
}

// "+hhmm" / "-hhmm", or an obsolete name (RFC 5322 §4.3); unknown names, military letters
// included, mean -0000: "no information about the local time zone".
int zone_minutes(std::string_view z) {
    if (z.size() == 5 && (z[0] == '+' || z[0] == '-')) {
        const auto hh = number(z.substr(1, 2), 2), mm = number(z.substr(3, 2), 2);
        if (hh && mm && *mm < 60) return (z[0] == '-' ? -1 : 1) * (*hh * 60 + *mm);
        return 0;
    }
    static constexpr std::array<std::pair<std::string_view, int>, 8> names{
        {{"est", -300}, {"edt", -240}, {"cst", -360}, {"cdt", -300}, {"mst", -420}, {"mdt", -360}, {"pst", -480}, {"pdt", -420}}};
    const std::string l = detail::ascii_lower(z);
    for (const auto& [name, minutes] : names)
        if (name == l) return minutes;
    return 0;
}

struct clock_time {
    int h = 0, m = 0, s = 0;
};

std::optional<clock_time> parse_time(std::string_view t) {
    clock_time out;
    const auto c1 = t.find(':');
    if (c1 == std::string_view::npos) return std::nullopt;
    const auto c2 = t.find(':', c1 + 1);
    const auto h = number(t.substr(0, c1), 2);
    const auto m = number(t.substr(c1 + 1, c2 == std::string_view::npos ? std::string_view::npos : c2 - c1 - 1), 2);
    const auto s = c2 == std::string_view::npos ? std::optional<int>(0) : number(t.substr(c2 + 1), 2);
    if (!h || !m || !s || *h > 23 || *m > 59 || *s > 60) return std::nullopt;
    return clock_time{*h, *m, *s};
}

}  // namespace

std::optional<date_value> parse_date(std::string_view value) {
    using namespace std::chrono;
    std::vector<std::string_view> t = date_tokens(value);
    std::size_t i = 0;
    if (i < t.size() && is_day_name(t[i]) && !number(t[i], 2)) ++i;
    if (t.size() < i + 4) return std::nullopt;
    std::string_view day = t[i], month = t[i + 1], year = t[i + 2], time = t[i + 3];
    std::string_view zone = t.size() > i + 4 ? t[i + 4] : std::string_view();
    if (month_of(day) != 0) {  // asctime order, as some old mailers write it: "Nov 23 12:42:00 2026"
        month = t[i];
        day = t[i + 1];
        time = t[i + 2];
        year = t[i + 3];
    }
    const auto d = number(day, 2), y = number(year, 4);
    const int mon = month_of(month);
    const auto clock = parse_time(time);
    if (!d || !y || mon == 0 || !clock) return std::nullopt;
    int full_year = *y;
    if (year.size() == 2) full_year += full_year < 50 ? 2000 : 1900;  // RFC 5322 §4.3
    else if (year.size() == 3) full_year += 1900;
    const year_month_day ymd{std::chrono::year{full_year}, std::chrono::month{static_cast<unsigned>(mon)},
                             std::chrono::day{static_cast<unsigned>(*d)}};
    if (!ymd.ok()) return std::nullopt;
    const int offset = zone_minutes(zone);
    const auto when = sys_days(ymd) + hours(clock->h) + minutes(clock->m) + seconds(clock->s) - minutes(offset);
    return date_value{time_point_cast<system_clock::duration>(when), offset};
}

std::string_view to_string(mime_warning w) noexcept {
    switch (w) {
    case mime_warning::lf_line_endings: return "lf_line_endings";
    case mime_warning::malformed_header_line: return "malformed_header_line";
    case mime_warning::missing_header_end: return "missing_header_end";
    case mime_warning::too_many_headers: return "too_many_headers";
    case mime_warning::bad_content_type: return "bad_content_type";
    case mime_warning::missing_boundary: return "missing_boundary";
    case mime_warning::missing_final_boundary: return "missing_final_boundary";
    case mime_warning::depth_limit: return "depth_limit";
    case mime_warning::part_limit: return "part_limit";
    case mime_warning::bad_base64: return "bad_base64";
    case mime_warning::bad_quoted_printable: return "bad_quoted_printable";
    case mime_warning::unknown_transfer_encoding: return "unknown_transfer_encoding";
    case mime_warning::unknown_charset: return "unknown_charset";
    case mime_warning::bad_parameters: return "bad_parameters";
    }
    return "unknown";
}

namespace detail {

std::string strip_angles(std::string_view v) {
    v = trim_wsp(v);
    if (v.size() >= 2 && v.front() == '<') {
        const auto close = v.find('>');
        if (close != std::string_view::npos) v = v.substr(1, close - 1);
    }
    return std::string(trim_wsp(v));
}

void fill_header_fields(parsed_message& m, const parse_limits& limits, bool& unknown_charset) {
    const auto addresses = [&](std::string_view name, std::vector<mailbox_address>& out) {
        for (const header_field& h : m.headers()) {  // several fields (against §3.6) are read as one list
            if (!iequals(h.name, name) || out.size() >= limits.max_addresses) continue;
            for (mailbox_address& a : parse_address_field(h.value, limits.max_addresses - out.size())) out.push_back(std::move(a));
        }
    };
    addresses("From", m.from);
    addresses("To", m.to);
    addresses("Cc", m.cc);
    addresses("Bcc", m.bcc);
    addresses("Reply-To", m.reply_to);
    if (const header_field* h = m.header("Subject")) m.subject = decode_words(h->value, &unknown_charset);
    if (const header_field* h = m.header("Message-ID")) m.message_id = raw_header_to_utf8(strip_angles(h->value));
    if (const header_field* h = m.header("Date")) {
        m.date_text = raw_header_to_utf8(h->value);
        if (auto d = parse_date(h->value)) {
            m.date = d->when;
            m.date_offset_minutes = d->offset_minutes;
        }
    }
}

}  // namespace detail
}  // namespace postern::message
