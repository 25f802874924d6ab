// SPDX-License-Identifier: MIT
// Quoted-printable, base64 bodies and RFC 2047 encoded-words. The encoders work in units of
// whole UTF-8 characters so that no line break or encoded-word boundary falls inside one: QP of
// octets would survive such a split, but readers that decode line by line, and RFC 2047 §5
// ("each 'encoded-word' MUST represent an integral number of characters"), do not.
#include "message/encoding.hpp"

#include "message/base64.hpp"
#include "message/encoding_detail.hpp"

#include <array>
#include <cstdint>

namespace postern::message {
namespace {

using detail::char_unit;
using detail::hex_digits;
using detail::hex_value;
using detail::is_wsp;

void append_hex(std::string& out, unsigned char c) {
    out += '=';
    out += hex_digits[c >> 4];
    out += hex_digits[c & 15];
}

bool is_line_break(char c) noexcept { return c == '\r' || c == '\n'; }

// RFC 2045 §6.7 rule 2: printable ASCII except '=' may stand for itself; space and TAB too,
// except at the end of a line (rule 3), which the caller decides.
bool qp_literal(unsigned char c) noexcept { return (c >= 33 && c <= 126 && c != '=') || c == ' ' || c == '\t'; }

// One character of QP output. A space or TAB that ends a line is encoded, since transports may
// strip trailing white space.
std::string qp_unit(std::string_view text, std::size_t i, std::size_t len, bool ends_line) {
    std::string unit;
    for (std::size_t k = i; k < i + len; ++k) {
        const auto c = static_cast<unsigned char>(text[k]);
        if (qp_literal(c) && !(ends_line && is_wsp(static_cast<char>(c)))) unit += static_cast<char>(c);
        else append_hex(unit, c);
    }
    return unit;
}

constexpr std::array<std::int8_t, 256> make_base64_table() {
    std::array<std::int8_t, 256> t{};
    for (auto& v : t) v = -1;
    constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (std::size_t i = 0; i < alphabet.size(); ++i) t[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
    return t;
}
constexpr auto base64_table = make_base64_table();

// Walks base64 text as base64_decode_lenient reads it, calling emit(octet) for each octet.
// '=' ends a quantum early; later symbols start a new one (concatenated encodings exist).
template <class Emit>
void walk_base64(std::string_view text, bool* damaged, Emit emit) {
    std::uint32_t acc = 0;
    int symbols = 0;
    const auto flush = [&] {
        if (symbols == 1 && damaged) *damaged = true;  // 6 bits make no octet
        if (symbols >= 2) emit(static_cast<char>(acc >> (symbols * 6 - 8)));
        if (symbols >= 3) emit(static_cast<char>(acc >> (symbols * 6 - 16)));
        acc = 0;
        symbols = 0;
    };
    for (char ch : text) {
        const int v = base64_table[static_cast<unsigned char>(ch)];
        if (v >= 0) {
            acc = (acc << 6 | static_cast<std::uint32_t>(v)) & 0xFFFFFF;
            if (++symbols == 4) {
                emit(static_cast<char>(acc >> 16));
                emit(static_cast<char>(acc >> 8));
                emit(static_cast<char>(acc));
                acc = 0;
                symbols = 0;
            }
        } else if (ch == '=') {
            flush();
        } else if (!is_wsp(ch) && !is_line_break(ch) && damaged) {
            *damaged = true;
        }
    }
    flush();
}

// ---- RFC 2047 -----------------------------------------------------------------------------

constexpr std::string_view word_prefix_q = "=?utf-8?Q?";
constexpr std::string_view word_prefix_b = "=?utf-8?B?";
constexpr std::size_t word_overhead = 12;  // "=?utf-8?X?" and "?="
constexpr std::size_t max_lenient_word = 4096;

// §4.2 and §5: which octets a Q-encoded word may carry as themselves. In a phrase (§5 rule 3)
// only letters, digits and "!*+-/" (and "=_" as syntax); in text, any printable ASCII but "=?_".
bool q_literal(unsigned char c, word_syntax syntax) noexcept {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    if (syntax == word_syntax::phrase) return c == '!' || c == '*' || c == '+' || c == '-' || c == '/';
    return c >= 33 && c <= 126 && c != '=' && c != '?' && c != '_' && c != '"' && c != '(' && c != ')';
}

std::size_t q_length(unsigned char c, word_syntax syntax) noexcept { return c == ' ' || q_literal(c, syntax) ? 1 : 3; }

// How many octets of `s` fit in a Q word of `room` payload octets, and in a B word.
std::size_t q_fit(std::string_view s, std::size_t room, word_syntax syntax) {
    std::size_t used = 0, taken = 0;
    while (taken < s.size()) {
        const std::size_t n = char_unit(s, taken);
        std::size_t len = 0;
        for (std::size_t k = taken; k < taken + n; ++k) len += q_length(static_cast<unsigned char>(s[k]), syntax);
        if (used + len > room) break;
        used += len;
        taken += n;
    }
    return taken;
}

std::size_t b_fit(std::string_view s, std::size_t room) {
    std::size_t taken = 0;
    while (taken < s.size()) {
        const std::size_t n = char_unit(s, taken);
        if ((taken + n + 2) / 3 * 4 > room) break;
        taken += n;
    }
    return taken;
}

void append_q(std::string& out, std::string_view s, word_syntax syntax) {
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == ' ') out += '_';  // §4.2 (2)
        else if (q_literal(c, syntax)) out += ch;
        else append_hex(out, c);
    }
}

struct encoded_word {
    std::string charset;
    std::string octets;
    std::size_t end = 0;  // index just past the closing "?="
};

bool is_word_char(char c) noexcept {
    const auto u = static_cast<unsigned char>(c);
    return u > 32 && u < 127 && c != '?';
}

std::string decode_q(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '_') {
            out += ' ';
        } else if (text[i] == '=' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
            out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
            i += 2;
        } else {
            out += text[i];
        }
    }
    return out;
}

// §2: encoded-word = "=?" charset "?" encoding "?" encoded-text "?=", no white space inside.
bool parse_encoded_word(std::string_view v, std::size_t p, encoded_word& w) {
    std::size_t i = p + 2;
    const std::size_t cs = i;
    while (i < v.size() && is_word_char(v[i]) && i - cs < 64) ++i;
    if (i == cs || i + 2 >= v.size() || v[i] != '?') return false;
    w.charset = std::string(v.substr(cs, i - cs));
    const char enc = detail::ascii_lower(v[i + 1]);
    if ((enc != 'q' && enc != 'b') || v[i + 2] != '?') return false;
    const std::size_t ts = i + 3;
    std::size_t te = ts;
    // §2 allows 75 octets a word; some mailers ignore that, so longer ones are read, up to a bound.
    while (te < v.size() && is_word_char(v[te]) && te - ts < max_lenient_word) ++te;
    if (te + 1 >= v.size() || v[te] != '?' || v[te + 1] != '=') return false;
    const std::string_view text = v.substr(ts, te - ts);
    w.octets = enc == 'q' ? decode_q(text) : base64_decode_lenient(text);
    w.end = te + 2;
    return true;
}

bool all_wsp(std::string_view s) noexcept {
    for (char c : s)
        if (!is_wsp(c) && !is_line_break(c)) return false;
    return true;
}

}  // namespace

std::string qp_encode(std::string_view text) {
    std::string out;
    out.reserve(text.size() + text.size() / 8);
    std::size_t line = 0;
    for (std::size_t i = 0; i < text.size();) {
        if (is_line_break(text[i])) {  // CRLF, LF or CR: one hard line break
            out += "\r\n";
            line = 0;
            i += text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n' ? 2 : 1;
            continue;
        }
        const std::size_t n = char_unit(text, i);
        const bool ends_line = i + n == text.size() || is_line_break(text[i + n]);
        const std::string unit = qp_unit(text, i, n, ends_line);
        // A line holds at most 76 octets; one that continues needs the last for the soft break.
        const std::size_t limit = ends_line ? 76 : 75;
        if (line > 0 && line + unit.size() > limit) {
            out += "=\r\n";
            line = 0;
        }
        out += unit;
        line += unit.size();
        i += n;
    }
    return out;
}

std::string qp_decode(std::string_view text, bool* damaged) {
    std::string out;
    out.reserve(text.size());
    while (!text.empty()) {
        std::size_t nl = text.find('\n');
        const bool has_break = nl != std::string_view::npos;
        std::string_view line = text.substr(0, has_break ? nl : text.size());
        const bool crlf = !line.empty() && line.back() == '\r';
        if (crlf) line.remove_suffix(1);
        text.remove_prefix(has_break ? nl + 1 : text.size());
        while (!line.empty() && is_wsp(line.back())) line.remove_suffix(1);  // rule 3
        const bool soft = !line.empty() && line.back() == '=';
        if (soft) line.remove_suffix(1);
        for (std::size_t i = 0; i < line.size(); ++i) {
            if (line[i] == '=' && i + 2 < line.size() && hex_value(line[i + 1]) >= 0 && hex_value(line[i + 2]) >= 0) {
                out += static_cast<char>(hex_value(line[i + 1]) * 16 + hex_value(line[i + 2]));
                i += 2;
            } else {
                if (line[i] == '=' && damaged) *damaged = true;
                out += line[i];
            }
        }
        if (has_break && !soft) out += crlf ? "\r\n" : "\n";
    }
    return out;
}

std::string base64_encode_lines(std::string_view raw, std::size_t line_length) {
    if (line_length == 0 || line_length % 4 != 0 || line_length > 76) line_length = 76;
    const std::string flat = base64_encode(raw);
    std::string out;
    out.reserve(flat.size() + flat.size() / line_length * 2);
    for (std::size_t i = 0; i < flat.size(); i += line_length) {
        if (i > 0) out += "\r\n";
        out.append(flat, i, line_length);
    }
    return out;
}

std::string base64_decode_lenient(std::string_view text, bool* damaged) {
    std::string out;
    out.reserve(text.size() / 4 * 3);
    walk_base64(text, damaged, [&out](char c) { out += c; });
    return out;
}

std::size_t base64_decoded_size(std::string_view text, bool* damaged) noexcept {
    std::size_t n = 0;
    walk_base64(text, damaged, [&n](char) { ++n; });
    return n;
}

std::size_t encode_word(std::string_view utf8, std::size_t max_octets, word_syntax syntax, std::string& out) {
    if (utf8.empty()) return 0;
    const std::size_t room = (max_octets > max_encoded_word ? max_encoded_word : max_octets);
    const std::size_t payload = room > word_overhead ? room - word_overhead : 0;
    std::size_t q = q_fit(utf8, payload, syntax);
    const std::size_t b = b_fit(utf8, payload);
    const bool use_b = b > q;
    std::size_t taken = use_b ? b : q;
    if (taken == 0) taken = char_unit(utf8, 0);  // no room: still make progress
    const std::string_view part = utf8.substr(0, taken);
    if (use_b) {
        out += word_prefix_b;
        out += base64_encode(part);
    } else {
        out += word_prefix_q;
        append_q(out, part, syntax);
    }
    out += "?=";
    return taken;
}

std::string encode_words(std::string_view utf8, word_syntax syntax) {
    std::string out;
    while (!utf8.empty()) {
        if (!out.empty()) out += ' ';
        utf8.remove_prefix(encode_word(utf8, max_encoded_word, syntax, out));
    }
    return out;
}

bool needs_encoded_word(std::string_view word) noexcept {
    for (char ch : word) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c >= 0x7F) return true;
    }
    return word.find("=?") != std::string_view::npos;
}

std::string decode_words(std::string_view value, bool* unknown_charset) {
    std::string out, pending, pending_charset;
    const auto flush = [&] {
        if (pending_charset.empty() && pending.empty()) return;
        utf8_text t = charset_to_utf8(pending_charset, pending);
        if (!t.known && unknown_charset) *unknown_charset = true;
        out += t.text;
        pending.clear();
        pending_charset.clear();
    };
    std::size_t literal = 0, i = 0;
    bool after_word = false;
    encoded_word w;
    for (std::size_t p; (p = value.find("=?", i)) != std::string_view::npos;) {
        if (!parse_encoded_word(value, p, w)) {
            i = p + 2;
            continue;
        }
        const std::string_view gap = value.substr(literal, p - literal);
        const bool joined = after_word && all_wsp(gap);  // §6.2: white space between words goes
        if (!joined) {
            flush();
            out += raw_header_to_utf8(gap);
        }
        if (!(joined && detail::iequals(w.charset, pending_charset))) flush();
        pending_charset = w.charset;
        pending += w.octets;
        after_word = true;
        literal = i = w.end;
    }
    flush();
    out += raw_header_to_utf8(value.substr(literal));
    return out;
}

}  // namespace postern::message
