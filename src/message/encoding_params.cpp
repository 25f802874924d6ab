// SPDX-License-Identifier: MIT
// MIME parameters: "type/subtype; name=value; ..." (RFC 2045 §5.1) with RFC 2231's extensions.
// Reading is two passes: the scanner splits the field into raw (name, value) pairs, tolerating
// comments, unquoted values with spaces and unterminated quotes; then the pairs are grouped by
// base name, continuations joined in section order and charsets applied. Writing splits long or
// non-ASCII values so that each segment fits on a folded header line, at character boundaries
// (Python's email package decodes each section on its own, so a split UTF-8 character breaks it).
#include "message/encoding.hpp"

#include "message/encoding_detail.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <utility>

namespace postern::message {
namespace {

using detail::hex_value;
using detail::is_wsp;

constexpr std::size_t max_params = 64;
constexpr int max_sections = 128;

// RFC 2045 §5.1 tspecials.
bool is_tspecial(char c) noexcept { return c != '\0' && std::strchr("()<>@,;:\\\"/[]?=", c) != nullptr; }

bool is_token_char(char ch) noexcept {
    const auto c = static_cast<unsigned char>(ch);
    return c > 32 && c < 127 && !is_tspecial(ch);
}

// RFC 2231 §7 attribute-char: a token character but '*', '\'' and '%'.
bool is_attribute_char(char c) noexcept { return is_token_char(c) && c != '*' && c != '\'' && c != '%'; }

struct raw_param {
    std::string name;  // lower case, as written (with '*' and section)
    std::string value;
};

// Reads fields separated by ';', honouring quoted strings and comments.
class param_scanner {
public:
    explicit param_scanner(std::string_view in) noexcept : in_(in) {}
    std::string main_value();
    bool next(raw_param& p);
    bool damaged() const noexcept { return damaged_; }

private:
    void skip_comment();
    std::string quoted();
    bool at_end() const noexcept { return pos_ >= in_.size(); }

    std::string_view in_;
    std::size_t pos_ = 0;
    bool damaged_ = false;
};

void param_scanner::skip_comment() {
    int depth = 0;
    for (; pos_ < in_.size(); ++pos_) {
        const char c = in_[pos_];
        if (c == '\\') ++pos_;
        else if (c == '(') ++depth;
        else if (c == ')' && --depth == 0) {
            ++pos_;
            return;
        }
    }
    damaged_ = true;  // unterminated: the rest of the field was the comment
}

std::string param_scanner::quoted() {
    std::string out;
    for (++pos_; pos_ < in_.size(); ++pos_) {
        const char c = in_[pos_];
        if (c == '"') {
            ++pos_;
            return out;
        }
        if (c == '\\' && pos_ + 1 < in_.size()) ++pos_;
        if (c != '\r' && c != '\n') out += in_[pos_];
    }
    damaged_ = true;
    return out;
}

// The text before the first ';' without comments and white space: "text/plain", "attachment".
std::string param_scanner::main_value() {
    std::string out;
    while (!at_end() && in_[pos_] != ';') {
        const char c = in_[pos_];
        if (c == '(') skip_comment();
        else if (c == '"') out += quoted();
        else {
            if (!is_wsp(c) && c != '\r' && c != '\n') out += detail::ascii_lower(c);
            ++pos_;
        }
    }
    return out;
}

// One "name=value". An unquoted value runs to the next ';' (lenient: real mailers send
// `name=my file.pdf`), minus comments and surrounding white space.
bool param_scanner::next(raw_param& p) {
    for (;;) {
        while (!at_end() && (in_[pos_] == ';' || is_wsp(in_[pos_]) || in_[pos_] == '\r' || in_[pos_] == '\n')) ++pos_;
        if (at_end()) return false;
        p = {};
        while (!at_end() && in_[pos_] != '=' && in_[pos_] != ';') {
            if (in_[pos_] == '(') skip_comment();
            else if (!is_wsp(in_[pos_]) && in_[pos_] != '\r' && in_[pos_] != '\n') p.name += detail::ascii_lower(in_[pos_++]);
            else ++pos_;
        }
        if (!at_end() && in_[pos_] == '=' && !p.name.empty()) break;
        damaged_ = true;  // "; foo;" or "; =x": nothing usable, try the next one
        if (!at_end()) ++pos_;
    }
    ++pos_;
    while (!at_end() && is_wsp(in_[pos_])) ++pos_;
    if (!at_end() && in_[pos_] == '"') {
        p.value = quoted();
        while (!at_end() && in_[pos_] != ';') {  // only CFWS may follow; skip anything else
            if (in_[pos_] == '(') skip_comment();
            else ++pos_;
        }
        return true;
    }
    while (!at_end() && in_[pos_] != ';') {
        if (in_[pos_] == '(') skip_comment();
        else if (in_[pos_] != '\r' && in_[pos_] != '\n') p.value += in_[pos_++];
        else ++pos_;
    }
    p.value = std::string(detail::trim_wsp(p.value));
    return true;
}

std::string percent_decode(std::string_view s, bool& damaged) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
            out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
            i += 2;
        } else {
            if (s[i] == '%') damaged = true;
            out += s[i];
        }
    }
    return out;
}

struct section {
    std::string value;
    bool encoded = false;
};

// "name", "name*", "name*3", "name*3*": the base name, the section (-1 for "name*") and
// whether the value is percent-encoded. A name that fits none of these is plain.
bool split_extended(const std::string& name, std::string& base, int& number, bool& encoded) {
    const auto star = name.find('*');
    if (star == std::string::npos || star == 0) return false;
    base = name.substr(0, star);
    std::string_view rest = std::string_view(name).substr(star + 1);
    encoded = rest.empty() || rest.back() == '*';
    if (!rest.empty() && rest.back() == '*') rest.remove_suffix(1);
    if (rest.empty()) {
        number = encoded ? -1 : 0;
        return encoded;
    }
    if (rest.size() > 3 || !std::all_of(rest.begin(), rest.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
    number = 0;
    for (char c : rest) number = number * 10 + (c - '0');
    return number < max_sections;
}

std::string plain_value(const std::string& v) {
    return v.find("=?") != std::string::npos ? decode_words(v) : raw_header_to_utf8(v);
}

// Joins the sections of one extended parameter: sections from 0 upwards until a gap, the
// first encoded one carrying charset'language' (RFC 2231 §4).
std::string join_sections(std::map<int, section>& parts, bool& damaged) {
    std::string charset, octets;
    int expected = parts.count(-1) ? -1 : 0;
    for (auto& [number, s] : parts) {
        if (number != expected) {
            damaged = true;
            break;
        }
        std::string_view v = s.value;
        if (s.encoded && (number == 0 || number == -1)) {
            const auto q1 = v.find('\''), q2 = q1 == std::string_view::npos ? q1 : v.find('\'', q1 + 1);
            if (q2 != std::string_view::npos) {
                charset = std::string(v.substr(0, q1));
                v.remove_prefix(q2 + 1);
            } else {
                damaged = true;
            }
        }
        octets += s.encoded ? percent_decode(v, damaged) : std::string(v);
        if (number == -1) break;  // "name*" stands alone
        ++expected;
    }
    return charset.empty() ? raw_header_to_utf8(octets) : charset_to_utf8(charset, octets).text;
}

}  // namespace

std::string_view parameterized_value::param(std::string_view name) const noexcept {
    for (const mime_param& p : params)
        if (p.name == name) return p.value;
    return {};
}

parameterized_value parse_parameters(std::string_view field_value) {
    parameterized_value out;
    param_scanner scan(field_value);
    out.value = scan.main_value();
    std::vector<std::string> order;  // base names in order of first appearance
    std::map<std::string, std::string> plain;
    std::map<std::string, std::map<int, section>> extended;
    raw_param p;
    for (std::size_t count = 0; scan.next(p); ++count) {
        if (count >= max_params) {
            out.damaged = true;
            break;
        }
        std::string base;
        int number = 0;
        bool encoded = false;
        if (!split_extended(p.name, base, number, encoded)) base = p.name;
        if (std::find(order.begin(), order.end(), base) == order.end()) order.push_back(base);
        if (base == p.name) plain.emplace(base, std::move(p.value));  // the first of duplicates wins
        else extended[base].emplace(number, section{std::move(p.value), encoded});
    }
    for (const std::string& name : order) {
        if (auto e = extended.find(name); e != extended.end()) out.params.push_back({name, join_sections(e->second, out.damaged)});
        else out.params.push_back({name, plain_value(plain[name])});
    }
    out.damaged = out.damaged || scan.damaged();
    return out;
}

namespace {

std::string quote(std::string_view v) {
    std::string out = "\"";
    for (char c : v) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    out += '"';
    return out;
}

bool plain_ascii(std::string_view v) noexcept {
    return std::all_of(v.begin(), v.end(), [](char ch) {
        const auto c = static_cast<unsigned char>(ch);
        return c >= 32 && c < 127;
    });
}

// name*0="..", name*1=".." for a long ASCII value: each chunk as long as its segment allows.
std::vector<std::string> ascii_continuations(std::string_view name, std::string_view v, std::size_t max_segment) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < v.size();) {
        const std::string head = std::string(name) + "*" + std::to_string(out.size()) + "=";
        std::string chunk;
        std::size_t used = head.size() + 2;  // the quotes
        while (i < v.size()) {
            const std::size_t len = v[i] == '"' || v[i] == '\\' ? 2 : 1;
            if (!chunk.empty() && used + len > max_segment) break;
            chunk += v[i++];
            used += len;
        }
        out.push_back(head + quote(chunk));
    }
    return out;
}

std::string percent_encode_char(std::string_view v, std::size_t i, std::size_t n) {
    std::string out;
    for (std::size_t k = i; k < i + n; ++k) {
        if (is_attribute_char(v[k])) {
            out += v[k];
        } else {
            const auto c = static_cast<unsigned char>(v[k]);
            out += '%';
            out += detail::hex_digits[c >> 4];
            out += detail::hex_digits[c & 15];
        }
    }
    return out;
}

// name*=utf-8''%XX..., or name*0*=utf-8''...; name*1*=... when it is too long for one segment.
std::vector<std::string> extended_segments(std::string_view name, std::string_view v, std::size_t max_segment) {
    std::vector<std::string> chunks{"utf-8''"};
    const std::size_t head = name.size() + 5;  // "*NN*="
    for (std::size_t i = 0; i < v.size();) {
        const std::size_t n = detail::char_unit(v, i);
        const std::string piece = percent_encode_char(v, i, n);
        const bool has_content = chunks.size() == 1 ? chunks.back().size() > 7 : !chunks.back().empty();
        if (has_content && head + chunks.back().size() + piece.size() > max_segment) chunks.emplace_back();
        chunks.back() += piece;
        i += n;
    }
    std::vector<std::string> out;
    if (chunks.size() == 1) {
        out.push_back(std::string(name) + "*=" + chunks.front());
        return out;
    }
    for (std::size_t k = 0; k < chunks.size(); ++k) out.push_back(std::string(name) + "*" + std::to_string(k) + "*=" + chunks[k]);
    return out;
}

// The plain fallback: every non-ASCII character, control, quote, backslash or '?' becomes '_'
// (so no "=?" can look like an encoded-word); a long one keeps its
// start and its last 12 octets (the extension matters most to whoever saves the file).
std::string ascii_fallback_value(std::string_view v, std::size_t room) {
    std::string out;
    for (std::size_t i = 0; i < v.size();) {
        const std::size_t n = detail::char_unit(v, i);
        const auto c = static_cast<unsigned char>(v[i]);
        out += n == 1 && c >= 32 && c < 127 && c != '"' && c != '\\' && c != '?' ? v[i] : '_';
        i += n;
    }
    if (room > 16 && out.size() > room) out = out.substr(0, room - 12) + out.substr(out.size() - 12);
    return out;
}

}  // namespace

std::vector<std::string> encode_parameter(std::string_view name, std::string_view utf8_value, bool ascii_fallback,
                                          std::size_t max_segment) {
    const std::string n(name);
    // "=?" would be read as the start of an RFC 2047 encoded-word by the many readers that decode
    // those in parameters (Python's email too), so such a value is percent-encoded as well.
    if (plain_ascii(utf8_value) && utf8_value.find("=?") == std::string_view::npos) {
        const bool token = !utf8_value.empty() && std::all_of(utf8_value.begin(), utf8_value.end(), is_token_char);
        const std::string single = n + "=" + (token ? std::string(utf8_value) : quote(utf8_value));
        if (single.size() <= max_segment) return {single};
        return ascii_continuations(name, utf8_value, max_segment);
    }
    std::vector<std::string> out = extended_segments(name, utf8_value, max_segment);
    if (ascii_fallback) {
        const std::size_t room = max_segment > n.size() + 3 ? max_segment - n.size() - 3 : 0;
        out.push_back(n + "=" + quote(ascii_fallback_value(utf8_value, room)));
    }
    return out;
}

namespace {

constexpr std::array<std::pair<std::string_view, std::string_view>, 36> extension_types{{
    {"bmp", "image/bmp"},
    {"csv", "text/csv"},
    {"doc", "application/msword"},
    {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
    {"eml", "message/rfc822"},
    {"gif", "image/gif"},
    {"gz", "application/gzip"},
    {"htm", "text/html"},
    {"html", "text/html"},
    {"ics", "text/calendar"},
    {"jpeg", "image/jpeg"},
    {"jpg", "image/jpeg"},
    {"js", "text/javascript"},
    {"json", "application/json"},
    {"md", "text/markdown"},
    {"mp3", "audio/mpeg"},
    {"mp4", "video/mp4"},
    {"odt", "application/vnd.oasis.opendocument.text"},
    {"ogg", "audio/ogg"},
    {"pdf", "application/pdf"},
    {"png", "image/png"},
    {"ppt", "application/vnd.ms-powerpoint"},
    {"pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
    {"svg", "image/svg+xml"},
    {"tar", "application/x-tar"},
    {"tgz", "application/gzip"},
    {"tif", "image/tiff"},
    {"tiff", "image/tiff"},
    {"txt", "text/plain"},
    {"wav", "audio/wav"},
    {"webm", "video/webm"},
    {"webp", "image/webp"},
    {"xls", "application/vnd.ms-excel"},
    {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    {"xml", "application/xml"},
    {"zip", "application/zip"},
}};

}  // namespace

std::string_view content_type_for_filename(std::string_view filename) noexcept {
    const auto dot = filename.rfind('.');
    constexpr std::string_view fallback = "application/octet-stream";
    if (dot == std::string_view::npos || filename.size() - dot - 1 > 8) return fallback;
    std::array<char, 8> ext{};
    const std::string_view e = filename.substr(dot + 1);
    for (std::size_t i = 0; i < e.size(); ++i) ext[i] = detail::ascii_lower(e[i]);
    const std::string_view key(ext.data(), e.size());
    const auto it = std::lower_bound(extension_types.begin(), extension_types.end(), key,
                                     [](const auto& entry, std::string_view k) { return entry.first < k; });
    return it != extension_types.end() && it->first == key ? it->second : fallback;
}

bool is_valid_content_type(std::string_view type) noexcept {
    const auto slash = type.find('/');
    if (slash == std::string_view::npos || slash == 0 || slash + 1 == type.size()) return false;
    const auto token = [](std::string_view t) { return std::all_of(t.begin(), t.end(), is_token_char); };
    return token(type.substr(0, slash)) && token(type.substr(slash + 1));
}

}  // namespace postern::message
